import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

function openReportingMenu(menuXmlid, description) {
    return [
        {
            content: "Open the Reporting menu",
            trigger: ".o_menu_sections [data-menu-xmlid='account_collections.collection_menu_reporting']",
            run: "click",
        },
        {
            content: description,
            trigger: `.dropdown-item[data-menu-xmlid='account_collections.${menuXmlid}']`,
            run: "click",
        },
    ];
}

// A manager opens the dashboard (KPI cards and trend charts of the KPI history),
// looks at one salesperson, opens the history's graph, then the open receivable
// per salesperson, runs the aging wizard on screen and exports it to XLSX.
registry.category("web_tour.tours").add("account_collections_manager_dashboard_aging", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("account_collections.collection_menu_root", "Open Collections"),
        ...openReportingMenu("collection_kpi_dashboard_menu", "Open the dashboard"),
        {
            content: "The dashboard shows the last week's receivable on a card",
            trigger: ".o_collection_kpi_card_receivable .o_collection_kpi_value:contains('2,500.00')",
        },
        {
            content: "and the trend of the overdue ratio in a chart",
            trigger: ".o_collection_kpi_chart_overdue_ratio svg polyline, .o_collection_kpi_chart_overdue_ratio svg circle",
        },
        {
            content: "Look at one salesperson",
            trigger: "select.o_collection_kpi_dimension[name='salesperson']",
            run: "selectByLabel Sam Seller",
        },
        {
            content: "The dashboard shows the salesperson's figures",
            trigger: ".o_collection_kpi_subject:contains('Salesperson: Sam Seller')",
        },
        {
            content: "Look at one policy instead",
            trigger: "select.o_collection_kpi_dimension[name='policy']",
            run: "selectByLabel Standard collection",
        },
        {
            content: "The policy's figures, and the salesperson's choice reset",
            trigger: ".o_collection_kpi_subject:contains('Collection Policy: Standard collection')",
        },
        {
            content: "Back to the salesperson",
            trigger: "select.o_collection_kpi_dimension[name='salesperson']:has(option:selected:contains('All'))",
            run: "selectByLabel Sam Seller",
        },
        {
            content: "The salesperson's figures again",
            trigger: ".o_collection_kpi_subject:contains('Salesperson: Sam Seller')",
        },
        {
            content: "Open the KPI history",
            trigger: "button.o_collection_kpi_history",
            run: "click",
        },
        {
            content: "The history is a graph over the weeks",
            trigger: ".o_action .o_graph_renderer canvas",
        },
        ...openReportingMenu("collection_portfolio_line_menu", "Open the open receivable"),
        {
            content: "The open receivable in a graph (not the history's any more)",
            trigger: ".o_breadcrumb .active:contains('Open Receivable')",
        },
        {
            content: "The graph is drawn",
            trigger: ".o_action .o_graph_renderer canvas",
        },
        {
            content: "Switch to the pivot",
            trigger: ".o_switch_view.o_pivot",
            run: "click",
        },
        {
            content: "The salesperson's receivable is there",
            trigger: ".o_pivot .o_pivot_header_cell_closed:contains('Sam Seller'), .o_pivot th:contains('Sam Seller')",
        },
        ...openReportingMenu("collection_aging_wizard_menu", "Open the aging wizard"),
        {
            content: "The wizard asks for the as-of date",
            trigger: ".modal .o_field_widget[name='date_at'] input",
        },
        {
            content: "Show the aging on screen",
            trigger: ".modal footer button[name='action_view_aging']",
            run: "click",
        },
        {
            content: "The aging lists the customer's overdue amount in its bucket",
            trigger: ".o_action:not(.modal) .o_pivot:contains('Tour Customer'):contains('1-30')",
        },
        ...openReportingMenu("collection_aging_wizard_menu", "Open the aging wizard again"),
        {
            content: "Group by salesperson",
            trigger: ".modal .o_field_widget[name='group_by'] input[data-value='user']",
            run: "click",
        },
        {
            content: "Export the aging to XLSX",
            trigger: ".modal footer button[name='action_export_xlsx']",
            run: "click",
        },
        {
            // the wizard is saved before its button runs: wait for that (on a
            // busy machine the tour could end first, with the form unsaved)
            content: "No error, the wizard saved",
            trigger: "body:not(:has(.o_error_dialog)):not(:has(.o_form_dirty))",
        },
    ],
});
