import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// A salesperson opens the Collections app and finds their invoice in the
// "Overdue follow-up" column of the invoices-by-stage kanban.
registry.category("web_tour.tours").add("account_collections_invoices_kanban", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("account_collections.collection_menu_root", "Open Collections"),
        {
            content: "Open the Collections menu",
            trigger: ".o_menu_sections [data-menu-xmlid='account_collections.collection_menu_operations']",
            run: "click",
        },
        {
            content: "Open the invoices in collection",
            trigger: ".dropdown-item[data-menu-xmlid='account_collections.account_move_menu_collection']",
            run: "click",
        },
        {
            content: "The kanban groups the invoices by collection stage",
            trigger: ".o_kanban_group:has(.o_column_title:contains('Overdue follow-up')) .o_kanban_record:contains('Tour Customer')",
        },
        {
            content: "The card says how late the invoice is",
            trigger: ".o_kanban_record:contains('Tour Customer') .badge:contains('3 days overdue')",
        },
    ],
});
