"""18.0.1.2.0: the weekly portfolio report's scheduled action runs on the service
that sends the report (collection.portfolio.delivery), no longer on its delivery
log. The action is a noupdate record: an update keeps its model, so it is moved
here (its code, ``model._cron_send_weekly_report()``, stays the same)."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    cron = env.ref(
        "account_collections.ir_cron_collection_weekly_report",
        raise_if_not_found=False,
    )
    if cron and cron.model_id.model == "collection.report.log":
        cron.write(
            {"model_id": env["ir.model"]._get_id("collection.portfolio.delivery")}
        )
