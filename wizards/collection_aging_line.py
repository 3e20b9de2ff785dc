from odoo import fields, models


class CollectionAgingLine(models.TransientModel):
    """Open amount of one group (customer or salesperson) in one bucket, as of the
    aging date; written in bulk by the aging wizard for the on-screen pivot."""

    _name = "collection.aging.line"
    _description = "Receivable Aging Line"
    _order = "amount desc, id"

    wizard_id = fields.Many2one(
        "collection.aging.wizard", required=True, ondelete="cascade", index=True
    )
    bucket_id = fields.Many2one(
        "collection.aging.bucket", required=True, ondelete="cascade"
    )
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    amount = fields.Monetary(
        string="Open Amount", currency_field="currency_id", readonly=True
    )
    item_count = fields.Integer(string="Journal Items", readonly=True)

    def action_open_move_lines(self):
        """Open the receivable journal items behind these lines (their amounts on
        the aging date are the lines' amounts)."""
        wizard = self.wizard_id
        wizard.ensure_one()
        return wizard._collection_aging_open_move_lines(self)
