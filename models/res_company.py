from odoo import api, fields, models
from odoo.exceptions import ValidationError

MANAGER_GROUP = "account_collections.group_collection_manager"


def collection_report_users_domain(company_field):
    """Domain of the users who may receive the weekly report of the company in
    ``company_field``: its collection managers (the report shows top debtors and
    every salesperson's figures)."""

    def domain(model):
        group = model.env.ref(MANAGER_GROUP, raise_if_not_found=False)
        return (
            f"[('share', '=', False), ('company_ids', 'in', {company_field}), "
            f"('groups_id', 'in', {group.id if group else 0})]"
        )

    return domain


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
        domain="[('share', '=', False), ('company_ids', 'in', id)]",
        help="Receives the escalations of salespeople who have no sales team leader "
        "(or whose leader is not allowed in the invoice's company).",
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
        domain=collection_report_users_domain("id"),
        help="Collection managers who receive the portfolio status report of this "
        "company by email every week.",
    )

    @api.constrains("collection_report_user_ids")
    def _check_collection_report_users(self):
        for company in self:
            others = company.collection_report_user_ids.filtered(
                lambda user: not user.has_group(MANAGER_GROUP)
            )
            if others:
                raise ValidationError(
                    self.env._(
                        "The weekly portfolio report shows top debtors and every "
                        "salesperson's figures: its recipients must be collection "
                        "managers, which %(users)s are not.",
                        users=", ".join(others.mapped("name")),
                    )
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
