"""18.0.1.8.0: the KPI history is also kept per customer segment and per
collection phase. The weeks already stored get their segment and phase rows
(computed as the backfill does; the rows already stored are left as they are,
the unique index keeps them). The unique index itself is recreated with the
new key columns by collection.kpi.snapshot's init()."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    snapshots = env["collection.kpi.snapshot"]
    history = env["collection.kpi.history"]
    for company, dates in snapshots._read_group(
        [("dimension", "=", "company")], ["company_id"], ["date:array_agg"]
    ):
        history._collection_write_weeks(company, sorted(set(dates)))
