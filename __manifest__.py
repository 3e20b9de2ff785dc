{
    "name": "Collections (Cobranzas)",
    "summary": "Automated accounts-receivable follow-up: reminders, escalations, "
    "promises to pay, aging and a weekly portfolio report",
    "version": "18.0.1.12.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "account_collections developers",
    "website": "https://github.com/account-collections/account_collections",
    "depends": ["account", "sales_team", "mail"],
    "external_dependencies": {"python": ["xlsxwriter"]},
    "data": [
        # security
        "security/account_collections_security.xml",
        "security/ir.model.access.csv",
        # engine
        "data/mail_activity_type_data.xml",
        "data/collection_policy_data.xml",
        "data/ir_cron_data.xml",
        "data/mail_template_data.xml",
        "security/collection_segment_security.xml",
        "data/collection_segment_data.xml",
        "security/collection_plan_security.xml",
        "views/collection_policy_views.xml",
        "views/account_move_views.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "views/collection_menus.xml",
        "views/collection_segment_views.xml",
        "views/collection_plan_views.xml",
        "data/collection_plan_data.xml",
        "report/collection_case_file.xml",
        # promises, contacts, exclusion, worklist (issue 3)
        "views/collection_promise_views.xml",
        "views/collection_contact_views.xml",
        "views/collection_worklist_views.xml",
        "wizards/collection_contact_wizard_views.xml",
        "wizards/collection_exclusion_wizard_views.xml",
        # aging (issue 4)
        "security/collection_aging_security.xml",
        "wizards/collection_aging_wizard_views.xml",
        "report/collection_aging_report.xml",
        "report/collection_aging_templates.xml",
        # portfolio report (issue 5)
        "report/report_portfolio_status.xml",
        "views/collection_report_log_views.xml",
        "views/collection_portfolio_line_views.xml",
        # KPI history and dashboard (issue 19)
        "views/collection_kpi_snapshot_views.xml",
        # one conversation per customer: statement, worklist by customer (issue 14)
        "report/collection_statement_report.xml",
        "security/collection_experiment_security.xml",
        "views/collection_experiment_views.xml",
        # users' experience: customer emails, web client, tours (issue 7)
        # customers answer on the portal (issue 15)
        "security/collection_portal_security.xml",
        "data/collection_portal_data.xml",
        "views/collection_dispute_views.xml",
        "views/portal_templates.xml",
    ],
    "demo": [],
    "assets": {
        "web.assets_backend": ["account_collections/static/src/kpi_dashboard/**/*"],
        "web.assets_tests": ["account_collections/static/tests/tours/**/*"],
    },
    "post_init_hook": "post_init_hook",
    "uninstall_hook": "uninstall_hook",
    "installable": True,
    "application": True,
}
