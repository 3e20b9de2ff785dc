from odoo import fields, models


class CollectionAgingBucket(models.TransientModel):
    _name = "collection.aging.bucket"
    _description = "Receivable Aging Bucket"
    _order = "sequence, id"

    wizard_id = fields.Many2one(
        "collection.aging.wizard", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(required=True)
    name = fields.Char(string="Bucket", required=True)
