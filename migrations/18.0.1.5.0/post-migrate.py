"""18.0.1.5.0: customers answer on the portal. The promises recorded before were
all recorded in Odoo (source internal); the policies get the default pauses of a
dispute (14 days) and of a payment the customer reports (5 days)."""

from odoo.tools import SQL


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        SQL("UPDATE collection_promise SET source = 'internal' WHERE source IS NULL")
    )
    cr.execute(
        SQL(
            "UPDATE collection_policy SET dispute_pause_days = 14 "
            "WHERE dispute_pause_days IS NULL"
        )
    )
    cr.execute(
        SQL(
            "UPDATE collection_policy SET payment_claim_pause_days = 5 "
            "WHERE payment_claim_pause_days IS NULL"
        )
    )
