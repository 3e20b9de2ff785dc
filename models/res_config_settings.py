from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    collection_policy_id = fields.Many2one(
        related="company_id.collection_policy_id", readonly=False
    )
    collection_manager_id = fields.Many2one(
        related="company_id.collection_manager_id", readonly=False
    )
    collection_start_date = fields.Date(
        related="company_id.collection_start_date", readonly=False
    )
