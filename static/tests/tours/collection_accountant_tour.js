import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// Steps shared by the customer invoice and the vendor bill: a new document from
// its menu, a partner and a line typed in the form, saved and posted, then paid
// with "Register Payment".
function newDocumentSteps(partner, product, price, extraSteps = []) {
    return [
        {
            content: "Create a new document from the list",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "The new document's form opened (no error dialog)",
            trigger: ".o_form_view .o_form_editable div[name=partner_id] input",
            run: `edit ${partner}`,
        },
        {
            content: "Pick the partner",
            trigger: `.o-autocomplete--dropdown-item a:contains('${partner}')`,
            run: "click",
        },
        ...extraSteps,
        {
            content: "Add a line",
            trigger: "div[name=invoice_line_ids] .o_field_x2many_list_row_add a",
            run: "click",
        },
        {
            content: "Type the product",
            trigger: "div[name=invoice_line_ids] div[name=product_id] input",
            run: `edit ${product}`,
        },
        {
            content: "Pick the product",
            trigger: `.o-autocomplete--dropdown-item a:contains('${product}')`,
            run: "click",
        },
        {
            content: "Set the price",
            trigger: "div[name=invoice_line_ids] div[name=price_unit] input",
            run: `edit ${price}`,
        },
        ...stepUtils.saveForm(),
        {
            content: "Post it",
            trigger: ".o_form_view button[name=action_post]",
            run: "click",
        },
        {
            content: "It is posted",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Posted')",
        },
    ];
}

function registerPaymentSteps() {
    return [
        {
            content: "Register a payment",
            trigger: ".o_form_view button[name=action_register_payment]",
            run: "click",
        },
        {
            content: "Create the payment in the dialog",
            trigger: ".modal button[name=action_create_payments]",
            run: "click",
        },
        {
            content: "The document is paid",
            trigger: ".o_form_view .ribbon:contains('Paid'), .o_form_view .ribbon:contains('In Payment')",
        },
    ];
}

// An accountant who also works collections creates a customer invoice from the
// Invoicing menu, posts it, sees it enter collection, and registers its payment.
registry.category("web_tour.tours").add("account_collections_accountant_invoice", {
    url: "/odoo/action-account.action_move_out_invoice_type",
    steps: () => [
        ...newDocumentSteps("Tour Customer", "Tour Service", "450"),
        {
            content: "Open the invoice's Collection tab",
            trigger: ".o_notebook a.nav-link:contains('Collection')",
            run: "click",
        },
        {
            content: "The posted invoice follows the company's default policy",
            trigger: ".o_form_view div[name=collection_policy_id]:contains('Standard collection')",
        },
        ...registerPaymentSteps(),
        {
            content: "Once paid, the invoice has no next collection step",
            trigger: ".o_form_view div[name=collection_next_stage_id]:not(:has(a))",
        },
    ],
});

// The same accountant records and pays a vendor bill: collections stay out of it.
registry.category("web_tour.tours").add("account_collections_accountant_bill", {
    url: "/odoo/action-account.action_move_in_invoice_type",
    steps: () => [
        ...newDocumentSteps("Tour Vendor", "Tour Service", "300", [
            {
                content: "Set the bill date",
                trigger: "div[name=invoice_date] input",
                run: "edit 12/01/2026",
            },
        ]),
        {
            content: "A vendor bill has no Collection tab",
            trigger: ".o_notebook:not(:has(a.nav-link:contains('Collection')))",
        },
        ...registerPaymentSteps(),
    ],
});
