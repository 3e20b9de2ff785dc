from odoo import fields, models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    collection_stage_id = fields.Many2one(
        "collection.stage",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        help="Set on the activities created by the collection run.",
    )
    collection_notified = fields.Boolean(
        default=True,
        readonly=True,
        help="False until the responsible user got the daily digest listing it.",
    )
    collection_promise_id = fields.Many2one(
        "collection.promise",
        string="Broken Promise",
        index="btree_not_null",
        ondelete="cascade",
        readonly=True,
        help="Set on the activities created when a promise to pay is broken.",
    )
