from contextlib import contextmanager
from datetime import date

from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, freeze_time
from odoo.tests.common import get_db_name
from odoo.tools import SQL

# tables whose rows created during a test are deleted at its end (digests, cron
# progress and triggers, bus notifications, the statements attached to customer
# emails: they are not linked to the test's invoices)
SWEPT_TABLES = (
    "mail_mail",
    "mail_message",
    "ir_cron_progress",
    "ir_cron_trigger",
    "bus_bus",
    "ir_attachment",
)


class CollectionCommittedCase(BaseCase):
    """Tests whose data is committed, so that several real database connections
    (as several Odoo workers or servers) see it. Each test posts its invoices in
    the main company through ``_setup_invoices`` and everything it created is
    deleted at its end, so that the other tests find the database unchanged."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())

    @contextmanager
    def _env(self, day=None):
        """A new transaction on its own connection, committed on success."""
        with self.registry.cursor() as cr:
            # a test must fail, not hang, if a run waits on another one's locks
            cr.execute("SET LOCAL lock_timeout = '20s'")
            env = api.Environment(cr, SUPERUSER_ID, {})
            if day:
                with freeze_time(day):
                    yield env
            else:
                yield env

    def _setup_invoices(self, count, due, amount=100.0):
        """Commit ``count`` posted invoices due on ``due`` for a new customer and
        register their deletion (with everything created since) at cleanup."""
        with self._env() as env:
            marks = {
                table: env.execute_query(
                    SQL("SELECT COALESCE(MAX(id), 0) FROM %s", SQL.identifier(table))
                )[0][0]
                for table in SWEPT_TABLES
            }
            company = env.ref("base.main_company")
            customer = env["res.partner"].create(
                {"name": "Concurrent Customer", "email": "ap@concurrent.example"}
            )
            moves = env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "company_id": company.id,
                        "partner_id": customer.id,
                        "invoice_date": date(due.year, due.month, 1),
                        "invoice_date_due": due,
                        "invoice_user_id": env.ref("base.user_admin").id,
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "name": "Service",
                                    "quantity": 1,
                                    "price_unit": amount,
                                    "tax_ids": [Command.clear()],
                                }
                            )
                        ],
                    }
                    for _i in range(count)
                ]
            )
            moves.action_post()
            move_ids, customer_id = moves.ids, customer.id
        self.addCleanup(self._cleanup, move_ids, customer_id, marks)
        return move_ids

    def _cleanup(self, move_ids, customer_id, marks):
        with self._env() as env:
            moves = env["account.move"].browse(move_ids).exists()
            moves.filtered(lambda m: m.state == "posted").button_draft()
            moves.with_context(force_delete=True).unlink()
            env["res.partner"].browse(customer_id).unlink()
            for table, mark in marks.items():
                env.cr.execute(
                    SQL("DELETE FROM %s WHERE id > %s", SQL.identifier(table), mark)
                )

    def _collection_activities(self, env, move_ids):
        return env["mail.activity"].search(
            [
                ("res_model", "=", "account.move"),
                ("res_id", "in", move_ids),
                ("collection_stage_id", "!=", False),
            ]
        )

    def _stage_notes(self, env, move_ids, stage):
        """Chatter notes written by the run for ``stage`` on the invoices."""
        return env["mail.message"].search(
            [
                ("model", "=", "account.move"),
                ("res_id", "in", move_ids),
                ("body", "ilike", f"Collection stage {stage.name} "),
            ]
        )
