from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResPartner(models.Model):
    _inherit = "res.partner"

    collection_policy_id = fields.Many2one(
        "collection.policy",
        string="Collection Policy",
        company_dependent=True,
        domain="[('company_id', 'in', (False, current_company_id))]",
        help="Overrides the company's default collection policy for this customer.",
    )

    @api.constrains("collection_policy_id")
    def _check_collection_policy_company(self):
        # the policy is set per company: it must be shared or the current company's
        company = self.env.company
        for partner in self:
            policy = partner.collection_policy_id.sudo()
            if policy.company_id and policy.company_id != company:
                raise ValidationError(
                    self.env._(
                        "The collection policy '%(policy)s' belongs to another "
                        "company (%(company)s) than %(current)s.",
                        policy=policy.display_name,
                        company=policy.company_id.name,
                        current=company.name,
                    )
                )
