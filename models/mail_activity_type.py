from odoo import api, models
from odoo.exceptions import UserError


class MailActivityType(models.Model):
    _inherit = "mail.activity.type"

    @api.ondelete(at_uninstall=False)
    def _unlink_except_collection_stage(self):
        stages = (
            self.env["collection.stage"]
            .sudo()
            .with_context(active_test=False)
            .search([("activity_type_id", "in", self.ids)])
        )
        if stages:
            raise UserError(
                self.env._(
                    "These activity types are used by collection stages (%(stages)s): "
                    "change the stages first, or archive the activity types instead.",
                    stages=", ".join(stages.mapped("display_name")),
                )
            )
