from odoo import api, fields, models
from odoo.exceptions import AccessError

# set by the collection run (with superuser rights) on the activities it creates:
# the ORM's public create/write refuse them, whatever the context
ACTIVITY_SYSTEM_FIELDS = (
    "collection_stage_id",
    "collection_promise_id",
    "collection_notified",
)


class MailActivity(models.Model):
    _name = "mail.activity"
    _inherit = ["mail.activity", "collection.system.fields"]
    _collection_system_fields = frozenset(ACTIVITY_SYSTEM_FIELDS)

    collection_stage_id = fields.Many2one(
        "collection.stage",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        copy=False,
        help="Set on the activities created by the collection run.",
    )
    collection_notified = fields.Boolean(
        default=True,
        readonly=True,
        copy=False,
        help="False until the responsible user got the daily digest listing it.",
    )
    collection_promise_id = fields.Many2one(
        "collection.promise",
        string="Broken Promise",
        index="btree_not_null",
        ondelete="cascade",
        readonly=True,
        copy=False,
        help="Set on the activities created when a promise to pay is broken.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            self._collection_check_system_fields(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            self._collection_check_system_fields([vals])
        return super().write(vals)

    @api.model
    def _collection_check_system_fields(self, vals_list):
        """Refuse the collection fields of an activity: which stage or broken
        promise an activity stands for, and whether its user was told, are the
        collection run's; an activity owner who wrote them would take it out of
        the escalation, the worklist or the digest."""
        given = {fname for vals in vals_list for fname in vals}
        if given.intersection(ACTIVITY_SYSTEM_FIELDS):
            raise AccessError(
                self.env._(
                    "The collection stage, broken promise and digest status of an "
                    "activity are set by the daily collection run; they cannot be "
                    "written."
                )
            )
