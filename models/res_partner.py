from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    collection_policy_id = fields.Many2one(
        "collection.policy",
        string="Collection Policy",
        company_dependent=True,
        domain="[('company_id', 'in', (False, current_company_id))]",
        help="Overrides the company's default collection policy for this customer.",
    )
