import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

function isoDate(days) {
    const date = new Date();
    date.setDate(date.getDate() + days);
    const pad = (n) => String(n).padStart(2, "0");
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

// A portal user of the customer opens the collections page, promises to pay
// both open invoices next week, and sees the promise on the page.
registry.category("web_tour.tours").add("account_collections_portal_promise", {
    url: "/my/collections",
    steps: () => [
        {
            content: "The customer's open invoices are listed",
            trigger: ".o_collection_invoices tbody tr:nth-child(2)",
        },
        {
            content: "Choose both invoices",
            trigger: ".o_collection_promise_form input[name='move_ids']",
            run() {
                for (const input of document.querySelectorAll(
                    ".o_collection_promise_form input[name='move_ids']"
                )) {
                    input.checked = true;
                }
            },
        },
        {
            content: "Pay in a week",
            trigger: ".o_collection_promise_form input[name='promised_date']",
            run() {
                this.anchor.value = isoDate(7);
            },
        },
        {
            trigger: ".o_collection_promise_form input[name='amount']",
            run: "edit 1500",
        },
        {
            content: "Promise",
            trigger: ".o_collection_promise_form button[type='submit']",
            run: "click",
        },
        {
            content: "The page confirms it",
            trigger: ".o_collection_answered",
        },
        {
            content: "and lists the promise",
            trigger: ".o_collection_promises li:contains('1,500.00')",
        },
    ],
});

// Whoever follows the link of a collection email (no account) disputes the
// invoice due first, with a PDF attached.
registry.category("web_tour.tours").add("account_collections_portal_dispute", {
    steps: () => [
        {
            content: "The reason: not received",
            trigger: ".o_collection_dispute_form select[name='reason']",
            run: "select not_received",
        },
        {
            trigger: ".o_collection_dispute_form textarea[name='message']",
            run: "edit We never received the goods.",
        },
        {
            content: "Attach the delivery note (a PDF)",
            trigger: ".o_collection_dispute_form input[name='attachments']",
            run() {
                const transfer = new DataTransfer();
                transfer.items.add(
                    new File(["%PDF-1.4\n%%EOF\n"], "delivery.pdf", {
                        type: "application/pdf",
                    })
                );
                this.anchor.files = transfer.files;
            },
        },
        {
            content: "Dispute",
            trigger: ".o_collection_dispute_form button[type='submit']",
            run: "click",
        },
        {
            content: "The page confirms it",
            trigger: ".o_collection_answered",
        },
        {
            content: "and lists the open dispute",
            trigger: ".o_collection_disputes li",
        },
    ],
});

// The salesperson finds the dispute among the disputes to decide and accepts it.
registry.category("web_tour.tours").add("account_collections_dispute_accept", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("account_collections.collection_menu_root", "Open Collections"),
        {
            content: "Open the Collections menu",
            trigger: ".o_menu_sections [data-menu-xmlid='account_collections.collection_menu_operations']",
            run: "click",
        },
        {
            content: "Open the disputes",
            trigger: ".dropdown-item[data-menu-xmlid='account_collections.collection_dispute_menu']",
            run: "click",
        },
        {
            content: "Open the customer's dispute",
            trigger: ".o_data_row:contains('Tour Customer') td[name='move_id']",
            run: "click",
        },
        {
            content: "Accept it",
            trigger: ".o_form_view button[name='action_accept']",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "The dispute is accepted",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Accepted')",
        },
    ],
});
