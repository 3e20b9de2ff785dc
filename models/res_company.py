from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    def _default_collection_policy(self):
        return self.env.ref(
            "account_collections.collection_policy_default", raise_if_not_found=False
        )

    collection_policy_id = fields.Many2one(
        "collection.policy",
        string="Default Collection Policy",
        default=_default_collection_policy,
        domain="[('company_id', 'in', (False, id))]",
    )
    collection_manager_id = fields.Many2one(
        "res.users",
        string="Collection Manager",
        domain="[('share', '=', False)]",
        help="Receives the escalations of salespeople who have no sales team leader.",
    )
    collection_start_date = fields.Date(
        string="Follow Invoices Due From",
        help="Invoices due before this date are left out of the daily collection "
        "run. Leave empty to follow every open invoice.",
    )
    collection_report_user_ids = fields.Many2many(
        "res.users",
        "res_company_collection_report_user_rel",
        "company_id",
        "user_id",
        string="Weekly Report Recipients",
        domain="[('share', '=', False), ('company_ids', 'in', id)]",
        help="Internal users who receive the portfolio status report of this "
        "company by email every week.",
    )
