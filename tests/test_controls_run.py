from contextlib import contextmanager

from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from .common import DUE, day
from .common_promises import PromiseCommon

# the daily run logs from its service models and their shared helpers
ENGINE_LOGGER = "odoo.addons.account_collections.models"


@tagged("post_install", "-at_install")
class TestRunIsolation(PromiseCommon):
    """Item 10: one record the daily run cannot handle (a database error of its
    own, as a broken trigger or constraint would raise) is logged on that record
    and retried the next day; the run goes on with the others."""

    @contextmanager
    def _fault(self, table, when, condition, *params):
        """Make PostgreSQL refuse ``when`` (e.g. ``BEFORE UPDATE``) on ``table``
        for the rows matching ``condition`` (on ``NEW``/``OLD``) until the block
        ends, as a real database error would."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                CREATE FUNCTION collection_test_fault() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                    IF %(condition)s THEN
                        RAISE EXCEPTION 'simulated database failure'
                              USING ERRCODE = 'P0001';
                    END IF;
                    RETURN COALESCE(NEW, OLD);
                END $$;
                CREATE TRIGGER collection_test_fault %(when)s ON %(table)s
                   FOR EACH ROW EXECUTE FUNCTION collection_test_fault();
                """,
                condition=SQL(condition, *params),
                when=SQL(when),
                table=SQL.identifier(table),
            )
        )
        try:
            with mute_logger("odoo.sql_db"):
                yield
        finally:
            self.env.cr.execute(
                SQL(
                    "DROP TRIGGER collection_test_fault ON %s;"
                    "DROP FUNCTION collection_test_fault();",
                    SQL.identifier(table),
                )
            )
            self.env.invalidate_all()

    def test_a_promise_that_cannot_be_judged_does_not_stop_the_run(self):
        good_invoice = self._post_invoice(DUE)
        bad_invoice = self._post_invoice(DUE, partner=self.customer_2)
        good = self._promise(good_invoice, day(5))
        bad = self._promise(bad_invoice, day(5))
        with (
            self._fault(
                "collection_promise",
                "BEFORE UPDATE",
                "NEW.id = %s AND NEW.state <> 'open'",
                bad.id,
            ),
            self.assertLogs(ENGINE_LOGGER, "WARNING") as logs,
        ):
            self._run(day(6))
        self.assertEqual(good.state, "broken")
        self.assertTrue(self._broken_activities(good_invoice))
        self.assertEqual(bad.state, "open")
        self.assertIn(bad.display_name, logs.output[0])
        self.assertTrue(
            bad.message_ids.filtered(
                lambda m: "could not judge this promise" in (m.body or "")
            )
        )
        # the rest of the run went on, and the next day judges it
        self.assertEqual(good_invoice.collection_stage_id, self.stage_overdue)
        self._run(day(7))
        self.assertEqual(bad.state, "broken")

    def test_an_invoice_whose_activities_cannot_be_closed_does_not_stop_the_run(self):
        good = self._post_invoice(DUE)
        bad = self._post_invoice(DUE, partner=self.customer_2)
        self._run(day(1))
        (good | bad).button_draft()  # no longer followed: activities to close
        followed = self._post_invoice(DUE)
        with (
            self._fault(
                "mail_message",
                "BEFORE INSERT",
                "NEW.model = 'account.move' AND NEW.res_id = %s "
                "AND strpos(NEW.body, 'no longer posted') > 0",
                bad.id,
            ),
            self.assertLogs(ENGINE_LOGGER, "WARNING") as logs,
        ):
            self._run(day(2))
        self.assertFalse(self._collection_activities(good))
        self.assertTrue(self._collection_activities(bad))
        self.assertIn(bad.name, logs.output[0])
        self.assertIn(
            "could not close the collection activities", bad.message_ids[0].body
        )
        self.assertEqual(followed.collection_stage_id, self.stage_overdue)
        self._run(day(3))
        self.assertFalse(self._collection_activities(bad))

    def test_a_failure_that_cannot_be_logged_does_not_stop_the_run(self):
        """The invoice's chatter itself cannot be written: the stage fails, and so
        does its log; the invoice is flagged and the server log says it."""
        good = self._post_invoice(DUE)
        bad = self._post_invoice(DUE, partner=self.customer_2)
        with (
            self._fault(
                "mail_message",
                "BEFORE INSERT",
                "NEW.model = 'account.move' AND NEW.res_id = %s",
                bad.id,
            ),
            self.assertLogs(ENGINE_LOGGER, "WARNING") as logs,
        ):
            self._run(day(1))
        self.assertEqual(good.collection_stage_id, self.stage_overdue)
        self.assertFalse(bad.collection_stage_id)
        self.assertIn("simulated database failure", bad.collection_error)
        self.assertEqual(bad.collection_error_date, day(1))
        self.assertEqual(len(logs.output), 2)
        self.assertIn("could not log the failure", logs.output[1])
        self._run(day(2))
        self.assertEqual(bad.collection_stage_id, self.stage_overdue)
        self.assertFalse(bad.collection_error)
