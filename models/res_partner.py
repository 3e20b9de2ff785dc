from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    collection_policy_id = fields.Many2one(
        "collection.policy",
        string="Collection Policy",
        company_dependent=True,
        domain="[('company_id', 'in', (False, current_company_id))]",
        help="Overrides the company's default collection policy for this customer.",
    )
    collection_contact = fields.Boolean(
        string="Collections Contact",
        help="Collection emails go to this contact when the invoice's own contact "
        "has no email address.",
    )
    collection_invoice_count = fields.Integer(
        string="Invoices in Collection",
        compute="_compute_collection_invoice_count",
        groups="account_collections.group_collection_user",
    )

    @api.depends_context("company")
    def _compute_collection_invoice_count(self):
        counts = dict(
            self.env["account.move"]._read_group(
                self._collection_invoice_domain(),
                ["commercial_partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.collection_invoice_count = counts.get(partner.commercial_partner_id, 0)

    def _collection_invoice_domain(self):
        return [
            ("commercial_partner_id", "in", self.commercial_partner_id.ids),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
            ("collection_excluded", "=", False),
            ("amount_residual", ">", 0),
        ]

    def action_view_collection_invoices(self):
        """Open the customer's invoices still to be collected."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_collections.account_move_action_collection"
        )
        action["domain"] = self._collection_invoice_domain()
        action["context"] = {
            "default_move_type": "out_invoice",
            "default_partner_id": self.commercial_partner_id.id,
            "search_default_group_collection_stage": 1,
        }
        action["display_name"] = self.env._(
            "Invoices in Collection: %(customer)s",
            customer=self.commercial_partner_id.display_name,
        )
        return action
