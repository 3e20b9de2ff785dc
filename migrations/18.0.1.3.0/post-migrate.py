"""18.0.1.3.0: the weekly KPI history (collection.kpi.snapshot) is new. An
existing database gets the history of its last 52 weeks as a new one does on
install: the one-shot scheduled action that computes it is queued here, so that
the update itself does not wait for it (on a large ledger it takes seconds per
week)."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["collection.kpi.history"]._collection_queue_backfill()
