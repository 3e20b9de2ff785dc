from odoo import api, models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        moves = (partials.debit_move_id | partials.credit_move_id).move_id
        invoices = moves.filtered(lambda m: m.move_type == "out_invoice")
        self.env["collection.engine"]._collection_close_settled(invoices)
        # promises whose invoices are now fully paid are kept at once
        self.env["collection.promise.judge"]._collection_judge_settled(invoices)
        return partials
