from odoo import api, fields, models

from ..models.collection_tools import COLLECTION_EXCLUSION_REASONS


class CollectionExclusionWizard(models.TransientModel):
    """Exclude invoices from collection with a reason, or include them again."""

    _name = "collection.exclusion.wizard"
    _description = "Exclude Invoices from Collection"

    move_ids = fields.Many2many(
        "account.move",
        "collection_exclusion_wizard_account_move_rel",
        "wizard_id",
        "move_id",
        string="Invoices",
        required=True,
    )
    company_id = fields.Many2one(
        "res.company",
        compute="_compute_company_id",
        store=True,
        precompute=True,
    )
    mode = fields.Selection(
        [("exclude", "Exclude"), ("include", "Include")],
        required=True,
        default="exclude",
    )
    reason = fields.Selection(COLLECTION_EXCLUSION_REASONS)
    note = fields.Text()

    @api.depends("move_ids")
    def _compute_company_id(self):
        for wizard in self:
            wizard.company_id = wizard.move_ids[:1].company_id or self.env.company

    @api.model
    def _collection_action_open(self, moves, mode):
        moves._collection_check_customer_invoices()
        return {
            "type": "ir.actions.act_window",
            "name": (
                self.env._("Exclude from Collection")
                if mode == "exclude"
                else self.env._("Include in Collection")
            ),
            "res_model": self._name,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_move_ids": [fields.Command.set(moves.ids)],
                "default_mode": mode,
            },
        }

    def action_exclude(self):
        """Exclude the invoices: no collection activity while excluded."""
        self.ensure_one()
        self.move_ids._collection_exclude(self.reason, self.note)
        return {"type": "ir.actions.act_window_close"}

    def action_include(self):
        """Bring the invoices back into the collection process."""
        self.ensure_one()
        self.move_ids._collection_include(self.note)
        return {"type": "ir.actions.act_window_close"}
