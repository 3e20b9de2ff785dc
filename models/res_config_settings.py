from odoo import fields, models
from odoo.exceptions import UserError

from .res_company import collection_report_users_domain


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    collection_policy_id = fields.Many2one(
        related="company_id.collection_policy_id", readonly=False
    )
    collection_manager_id = fields.Many2one(
        related="company_id.collection_manager_id",
        readonly=False,
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
    )
    collection_start_date = fields.Date(
        related="company_id.collection_start_date", readonly=False
    )
    collection_report_user_ids = fields.Many2many(
        related="company_id.collection_report_user_ids",
        readonly=False,
        domain=collection_report_users_domain("company_id"),
    )

    def action_collection_kpi_backfill(self):
        """Compute the missing weeks of the company's KPI history (the last 52)."""
        self.ensure_one()
        return (
            self.env["collection.kpi.snapshot"]
            .with_company(self.company_id)
            .action_collection_backfill()
        )

    def action_collection_send_report_now(self):
        """Send the portfolio report to the company's recipients now (a test)."""
        self.ensure_one()
        users = self.company_id.collection_report_user_ids
        if not users:
            raise UserError(
                self.env._(
                    "Choose the recipients of the weekly portfolio report first."
                )
            )
        logs = self.env["collection.portfolio.delivery"]._collection_send_now(
            self.company_id, users
        )
        sent = logs.filtered(lambda log: log.state == "sent")
        message = self.env._(
            "The portfolio report is on its way to %(count)s recipient(s).",
            count=len(sent),
        )
        if logs - sent:
            message += " " + self.env._(
                "Not sent to %(users)s "
                "(see Collections > Reporting > Report Deliveries).",
                users=", ".join((logs - sent).user_id.mapped("name")),
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning" if logs - sent else "success",
                "message": message,
            },
        }
