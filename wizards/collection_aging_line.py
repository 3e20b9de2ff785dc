from odoo import fields, models


class CollectionAgingLine(models.TransientModel):
    """One receivable journal item open on the aging date, with its open amount
    on that date (written in bulk by the aging wizard)."""

    _name = "collection.aging.line"
    _description = "Receivable Aging Item"
    _order = "date, id"
    _rec_name = "move_name"

    wizard_id = fields.Many2one(
        "collection.aging.wizard", required=True, ondelete="cascade", index=True
    )
    bucket_id = fields.Many2one(
        "collection.aging.bucket", string="Bucket", required=True, ondelete="cascade"
    )
    move_line_id = fields.Many2one(
        "account.move.line", string="Journal Item", required=True, ondelete="cascade"
    )
    move_id = fields.Many2one(
        "account.move", string="Journal Entry", required=True, ondelete="cascade"
    )
    move_name = fields.Char(string="Entry")
    company_id = fields.Many2one("res.company", string="Company", required=True)
    currency_id = fields.Many2one("res.currency", string="Currency", required=True)
    partner_id = fields.Many2one("res.partner", string="Customer")
    user_id = fields.Many2one("res.users", string="Salesperson")
    date = fields.Date(string="Date")
    date_maturity = fields.Date(string="Due Date")
    days = fields.Integer(string="Days", aggregator="max")
    amount = fields.Monetary(string="Open Amount", currency_field="currency_id")

    def action_open_move(self):
        """Open the journal entry of the item."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.move_id.id,
            "view_mode": "form",
            "target": "current",
        }

    def action_open_move_lines(self):
        """Open the journal items of the selected rows."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Journal Items"),
            "res_model": "account.move.line",
            "view_mode": "list,form",
            "domain": [("id", "in", self.move_line_id.ids)],
            "context": {"create": False},
        }
