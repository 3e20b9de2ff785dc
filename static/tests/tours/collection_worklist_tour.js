import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

const { DateTime } = luxon;

function openCollectionsMenu(menuXmlid, description) {
    return [
        {
            content: "Open the Collections menu",
            trigger: ".o_menu_sections [data-menu-xmlid='account_collections.collection_menu_operations']",
            run: "click",
        },
        {
            content: description,
            trigger: `.dropdown-item[data-menu-xmlid='account_collections.${menuXmlid}']`,
            run: "click",
        },
    ];
}

// A salesperson works today's list: calls the customer of an overdue invoice,
// logs the call with a promise to pay next week, and finds the promise in the
// list and in the calendar of promises.
registry.category("web_tour.tours").add("account_collections_worklist_promise", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("account_collections.collection_menu_root", "Open Collections"),
        ...openCollectionsMenu("collection_worklist_menu", "Open my worklist"),
        {
            content: "Log a contact on the overdue invoice",
            trigger: ".o_data_row:contains('Tour Customer') button[name='action_log_contact']",
            run: "click",
        },
        {
            content: "The customer promises to pay",
            trigger: ".modal .o_field_widget[name='outcome'] select",
            run: `select "promise"`,
        },
        {
            content: "Payment date: in a week",
            trigger: ".modal .o_field_widget[name='promised_date'] input",
            run: `edit ${DateTime.now().plus({ days: 7 }).toFormat("MM/dd/yyyy")}`,
        },
        {
            trigger: ".modal .o_field_widget[name='note'] textarea",
            run: "edit Will pay by bank transfer next week",
        },
        {
            content: "Log it",
            trigger: ".modal button[name='action_log']",
            run: "click",
        },
        {
            content: "The wizard closes",
            trigger: "body:not(:has(.modal))",
        },
        ...openCollectionsMenu("collection_promise_menu", "Open the promises to pay"),
        {
            content: "The promise is listed, open",
            trigger: ".o_list_view .o_data_row:contains('Tour Customer'):contains('Open')",
        },
        {
            content: "Switch to the calendar",
            trigger: ".o_switch_view.o_calendar",
            run: "click",
        },
        {
            content: "The promise is on the calendar",
            trigger: ".o_calendar_renderer .fc-event:contains('Tour Customer')",
        },
    ],
});
