from odoo import api, fields, models
from odoo.exceptions import ValidationError


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

    @api.constrains("collection_policy_id")
    def _check_collection_policy_company(self):
        for company in self:
            policy_company = company.collection_policy_id.sudo().company_id
            if policy_company and policy_company != company:
                raise ValidationError(
                    self.env._(
                        "The collection policy '%(policy)s' belongs to another "
                        "company (%(company)s).",
                        policy=company.collection_policy_id.sudo().display_name,
                        company=policy_company.name,
                    )
                )
