import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// The payment plan's own form, once its invoices are chosen: the customer and
// what is left to pay shown, split into three installments, saved.
function recordPlanSteps(customer, due) {
    return [
        {
            content: "The plan shows its customer",
            trigger: `.o_form_view .oe_title div[name=partner_id]:contains('${customer}')`,
        },
        {
            content: "and what is left to pay on its invoices",
            trigger: `.o_form_view div[name=amount_due]:contains('${due}')`,
        },
        {
            content: "Split it into three installments",
            trigger: ".o_form_view div[name=split_count] input",
            run: "edit 3 && press Tab",
        },
        {
            content: "Three installments are proposed",
            trigger: ".o_form_view div[name=installment_ids] .o_data_row:nth-child(3)",
        },
        {
            content: "They add up to what is left to pay",
            trigger: `.o_form_view div[name=amount_total]:contains('${due}')`,
        },
        ...stepUtils.saveForm(),
        {
            content: "The plan is recorded, open",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Open')",
        },
        {
            content: "Its title names the customer",
            trigger: `.o_breadcrumb:contains('${customer}')`,
        },
    ];
}

// From the invoice: its "Payment Plan" button.
registry.category("web_tour.tours").add("account_collections_plan_from_invoice", {
    steps: () => [
        {
            content: "Open a payment plan from the invoice",
            trigger: ".o_form_view button[name=action_collection_payment_plan]",
            run: "click",
        },
        ...recordPlanSteps("Plan Invoice Customer", "1,200.00"),
    ],
});

// From My Collections: the row's "Payment Plan" button.
registry.category("web_tour.tours").add("account_collections_plan_from_worklist", {
    url: "/odoo/action-account_collections.collection_worklist_action_server",
    steps: () => [
        {
            content: "A payment plan from the customer's row of My Collections",
            trigger: ".o_data_row:contains('Plan Worklist Customer') button[name='action_payment_plan']",
            run: "click",
        },
        ...recordPlanSteps("Plan Worklist Customer", "800.00"),
    ],
});

// From the menu: Payment Plans > New, the invoice picked in the form.
registry.category("web_tour.tours").add("account_collections_plan_from_menu", {
    url: "/odoo/action-account_collections.collection_plan_action",
    steps: () => [
        {
            content: "A new payment plan",
            trigger: ".o_control_panel .o_list_button_add, .o_control_panel .o-kanban-button-new",
            run: "click",
        },
        {
            content: "Without invoices, the form asks for them",
            trigger: ".o_form_view div[name=move_ids] input",
            run: "click",
        },
        {
            content: "Pick the open invoice (the only one the test has)",
            trigger: ".o-autocomplete--dropdown-item:first-child a:contains('/')",
            run: "click",
        },
        ...recordPlanSteps("Plan Menu Customer", "650.00"),
    ],
});
