from contextlib import contextmanager
from unittest.mock import patch

from psycopg2 import errors

from odoo import Command
from odoo.sql_db import db_connect
from odoo.tests import freeze_time, tagged
from odoo.tools import SQL, mute_logger

from odoo.addons.mail.tests.common import MockEmail

from .common import DUE, CollectionCommon, day
from .common_committed import CollectionCommittedCase
from .common_promises import PromiseCommon

# the daily run logs from its service models and their shared helpers
ENGINE_LOGGER = "odoo.addons.account_collections.models"


@tagged("post_install", "-at_install")
class TestCollectionReliability(CollectionCommon, MockEmail):
    """Faults in the middle of the daily run: what a salesperson and a customer see
    afterwards (no duplicate activity or email, no invoice skipped)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.notice = cls._stage_template(
            "Overdue notice", "Overdue: {{ object.name }}", cls.stage_overdue
        )
        cls.customers = cls.env["res.partner"].create(
            [
                {"name": f"Customer {i}", "email": f"ap{i}@customer{i}.example"}
                for i in range(6)
            ]
        )

    def _post_one_per_customer(self):
        moves = self.env["account.move"]
        for customer in self.customers:
            moves |= self._post_invoice(DUE, partner=customer)
        return moves

    def _run_until_done(self, run_day, batch_size):
        """Call the run as the scheduler does until a call has nothing to do: no
        invoice to advance, no customer to email."""
        conversation = self.env["collection.conversation"]
        for _call in range(20):
            advanced = self._run(run_day, batch_size=batch_size)
            owed = conversation._collection_owed_customers(
                self.env["res.company"].search([]).ids, run_day
            )
            if not advanced and not owed:
                return
        self.fail("the run never finished")

    def _customer_emails(self, move):
        return move.message_ids.filtered(
            lambda m: (
                m.message_type == "comment" and m.subject == f"Overdue: {move.name}"
            )
        )

    def _assert_untouched(self, moves):
        for move in moves:
            self.assertFalse(move.collection_stage_id, f"{move.name}: no stage")
            self.assertFalse(
                self._collection_activities(move), f"{move.name}: no activity"
            )
            self.assertFalse(self._customer_emails(move), f"{move.name}: no email")
            self.assertFalse(
                move.collection_error, f"{move.name}: not flagged as failed"
            )
            self.assertFalse(
                move.message_ids.filtered(
                    lambda m: "Collection stage" in (m.body or "")
                ),
                f"{move.name}: no stage note",
            )

    def _assert_done_once(self, moves, stage):
        for move in moves:
            self.assertEqual(move.collection_stage_id, stage, move.name)
            self.assertEqual(len(self._collection_activities(move)), 1, move.name)
            self.assertEqual(len(self._customer_emails(move)), 1, move.name)
            self.assertEqual(
                len(
                    move.message_ids.filtered(
                        lambda m: "Collection stage" in (m.body or "")
                    )
                ),
                1,
                move.name,
            )

    @contextmanager
    def _database_fault(self, move, errcode):
        """Make PostgreSQL itself fail (with ``errcode``) when the customer email of
        ``move`` is stored, as a real database error would, until the block ends."""
        self.env.cr.execute(
            SQL(
                """
                CREATE FUNCTION collection_test_fault() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.model = 'account.move' AND NEW.res_id = %s
                       AND NEW.message_type = 'comment' THEN
                        RAISE EXCEPTION 'simulated database failure'
                              USING ERRCODE = %s;
                    END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER collection_test_fault BEFORE INSERT ON mail_message
                   FOR EACH ROW EXECUTE FUNCTION collection_test_fault();
                """,
                move.id,
                errcode,
            )
        )
        try:
            yield
        finally:
            self.env.cr.execute(
                "DROP TRIGGER collection_test_fault ON mail_message;"
                "DROP FUNCTION collection_test_fault();"
            )

    def _assert_stage_without_email(self, moves, stage):
        for move in moves:
            self.assertEqual(move.collection_stage_id, stage, move.name)
            self.assertEqual(len(self._collection_activities(move)), 1, move.name)
            self.assertFalse(self._customer_emails(move), f"{move.name}: no email")
            self.assertEqual(move.collection_mail_stage_id, stage, "still owed")

    def _crash_and_rerun(self, fault, expected_exception):
        """Six invoices of six customers in batches of three: the stages of the
        day are executed first, then the customers are emailed three at a time.
        The second batch of emails crashes on its second customer, after the
        first one's email was written. The crashed transaction is rolled back
        (as the scheduler does); the next run emails the customers left, exactly
        once each, and nobody twice."""
        moves = self._post_one_per_customer()
        first_batch, second_batch = moves[:3], moves[3:]
        self.assertEqual(self._run(day(1), batch_size=3), 3, "three invoices")
        self.assertEqual(
            self._run(day(1), batch_size=3), 3, "three invoices, three customers"
        )

        with fault(second_batch[1]), self.assertRaises(expected_exception):
            with self.env.cr.savepoint():  # the scheduler's rollback
                self._run(day(1), batch_size=3)
        self.env.invalidate_all()

        self._assert_done_once(first_batch, self.stage_overdue)
        self._assert_stage_without_email(second_batch, self.stage_overdue)

        self._run_until_done(day(1), batch_size=3)
        self._assert_done_once(moves, self.stage_overdue)
        self.assertFalse(any(moves.mapped("collection_error")))
        self.assertFalse(any(moves.mapped("collection_mail_held")))
        # the next days: nothing repeated, the next stage once
        self._run_until_done(day(2), batch_size=3)
        self.assertEqual(len(self._collection_activities(moves)), 6)
        self._assert_done_once(moves, self.stage_overdue)
        self._run_until_done(day(7), batch_size=3)
        escalations = self._collection_activities(moves).filtered(
            lambda a: a.collection_stage_id == self.stage_escalation
        )
        self.assertEqual(sorted(escalations.mapped("res_id")), sorted(moves.ids))

    def test_database_crash_mid_batch_then_rerun(self):
        """A database error the engine must not swallow (serialization failure): the
        run stops, nothing of the crashed batch remains, the re-run does it once."""

        @contextmanager
        def fault(move):
            with self._database_fault(move, "40001"), mute_logger("odoo.sql_db"):
                yield

        self._crash_and_rerun(fault, errors.SerializationFailure)

    def test_worker_killed_mid_batch_then_rerun(self):
        """The worker is interrupted (KeyboardInterrupt, as on a shutdown signal)
        while emailing the second customer of a batch."""
        Conversation = self.registry["collection.conversation"]
        post = Conversation._collection_post

        @contextmanager
        def fault(move):
            def post_or_die(self, moves, **kwargs):
                if move in moves:
                    raise KeyboardInterrupt
                return post(self, moves, **kwargs)

            with patch.object(Conversation, "_collection_post", post_or_die):
                yield

        self._crash_and_rerun(fault, KeyboardInterrupt)

    def test_one_invoice_database_error_is_isolated(self):
        """A database error specific to one customer's email (a failed check, not
        a concurrency error) is logged on its invoice; the others get theirs, and
        the email is retried the next day."""
        moves = self._post_one_per_customer()
        bad = moves[2]
        with (
            self._database_fault(bad, "P0001"),
            mute_logger("odoo.sql_db"),
            self.assertLogs(ENGINE_LOGGER, "WARNING") as logs,
        ):
            self._run(day(1))
        self.assertIn(bad.name, logs.output[0])
        self._assert_done_once(moves - bad, self.stage_overdue)
        self._assert_stage_without_email(bad, self.stage_overdue)
        self.assertEqual(bad.collection_mail_held, "error")
        self.assertEqual(bad.collection_mail_checked_date, day(1))
        self.assertIn("could not be sent", bad.message_ids[0].body)

        self._run(day(2))
        self._assert_done_once(moves, self.stage_overdue)
        self.assertFalse(bad.collection_mail_held)

    def test_broken_customer_data_never_stops_the_run(self):
        """In one run: a customer without email, an invoice whose salesperson and
        manager left, a customer the stage email cannot be rendered for, and a
        healthy invoice. Each broken case is visible on its invoice and the others
        are processed."""
        self.company.collection_manager_id = False
        self._stage_template(
            "Notice with reference",
            "Overdue: {{ object.name }} ({{ object.partner_id.ref.upper() }})",
            self.stage_overdue,
        )
        no_email, healthy, no_ref, left = self.customers[:4]
        (healthy | no_email | left).ref = "REF"
        no_email.email = False
        gone = self._create_collection_user("gone", "Gone Seller")
        gone_leader = self._create_collection_user("gone_leader", "Gone Leader")
        self.env["crm.team"].create(
            {
                "name": "Closed team",
                "user_id": gone_leader.id,
                "member_ids": [Command.set(gone.ids)],
            }
        )
        inv_no_email = self._post_invoice(DUE, partner=no_email)
        inv_healthy = self._post_invoice(DUE, partner=healthy)
        inv_no_ref = self._post_invoice(DUE, partner=no_ref)
        inv_left = self._post_invoice(DUE, partner=left, user=gone)
        (gone | gone_leader).active = False

        with (
            self.mock_mail_gateway(),
            self.assertLogs(ENGINE_LOGGER, "WARNING") as logs,
        ):
            self._run_with_statements(day(1))
            self.env["mail.mail"].sudo().process_email_queue()
        self.assertEqual(len(logs.output), 1, "only the invoice that failed is logged")
        self.assertIn(inv_no_ref.name, logs.output[0])

        for move in inv_healthy | inv_no_email | inv_left:
            self.assertEqual(move.collection_stage_id, self.stage_overdue, move.name)
        for move in inv_healthy | inv_left:
            self.assertEqual(len(self._collection_activities(move)), 1, move.name)
        # the customer without email: no email is attempted; the chatter says why
        # and the salesperson gets, besides the follow-up, a to-do to complete it
        self.assertFalse(
            inv_no_email.message_ids.filtered(lambda m: m.message_type == "comment")
        )
        self.assertTrue(
            inv_no_email.message_ids.filtered(
                lambda m: "was not sent" in (m.body or "")
            )
        )
        self.assertEqual(
            self._collection_activities(inv_no_email).activity_type_id,
            self.stage_overdue.activity_type_id
            | self.env.ref("mail.mail_activity_data_todo"),
        )
        # the salesperson and the team leader left, there is no company manager:
        # somebody active gets the activity and the chatter says why
        activity = self._collection_activities(inv_left)
        self.assertTrue(activity.user_id.active, "the follow-up is not lost")
        self.assertTrue(
            activity.user_id.has_group("account_collections.group_collection_manager")
        )
        self.assertTrue(
            inv_left.message_ids.filtered(lambda m: "no active salesperson" in m.body)
        )
        # the template that cannot be rendered: the stage is done, the email
        # logged and retried tomorrow
        self.assertEqual(inv_no_ref.collection_stage_id, self.stage_overdue)
        self.assertFalse(self._customer_emails(inv_no_ref))
        self.assertEqual(inv_no_ref.collection_mail_held, "error")
        self.assertIn("could not be sent", inv_no_ref.message_ids[0].body)
        # and the healthy customer got their email
        sent = inv_healthy.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(len(sent), 1)
        self.assertIn("(REF)", sent.subject)

    def test_archived_activity_type_still_reaches_the_salesperson(self):
        """An activity type archived after the policy was set up: the stage still
        creates its activity (the type is kept for history)."""
        self.stage_overdue.mail_template_id = False
        self.stage_overdue.activity_type_id.active = False
        move = self._post_invoice(DUE)
        self._run(day(1))
        activity = self._collection_activities(move)
        self.assertEqual(activity.activity_type_id, self.stage_overdue.activity_type_id)
        self.assertEqual(activity.user_id, self.salesperson)
        self.assertIn(
            activity,
            self.env["mail.activity"]
            .with_user(self.salesperson)
            .search([("user_id", "=", self.salesperson.id)]),
        )


@tagged("post_install", "-at_install")
class TestCollectionCrashWithScheduler(CollectionCommittedCase):
    """The daily run executed by Odoo's real scheduler (its own cursors, a commit
    after each batch) crashes in the middle of a batch, then runs again."""

    def setUp(self):
        super().setUp()
        with self._env() as env:
            cron = env.ref("account_collections.ir_cron_collection_run")
            saved = cron.read(
                ["code", "nextcall", "lastcall", "failure_count", "first_failure_date"],
                load=None,
            )[0]
            del saved["id"]
            cron.code = "model._cron_collection_run(batch_size=2)"
            self.cron_id = cron.id
        self.addCleanup(self._restore_cron, saved)

    def _restore_cron(self, saved):
        with self._env() as env:
            env["ir.cron"].browse(self.cron_id).write(saved)
            env.cr.execute(
                "DROP TRIGGER IF EXISTS collection_test_fault ON mail_message;"
                "DROP FUNCTION IF EXISTS collection_test_fault();"
            )

    def _scheduler_runs_the_job(self, run_day):
        """What a cron worker does when the job is due: acquire it, execute it."""
        IrCron = self.registry["ir.cron"]
        with self._env() as env:
            env["ir.cron"].browse(self.cron_id).nextcall = "2000-01-01 00:00:00"
        with freeze_time(run_day), self.registry.cursor() as cron_cr:
            job = IrCron._acquire_one_job(cron_cr, self.cron_id)
            self.assertTrue(job, "the job is due")
            IrCron._process_job(db_connect(self.registry.db_name), cron_cr, job)

    def test_crash_in_the_middle_of_a_batch_then_next_run(self):
        move_ids = self._setup_invoices(5, DUE)
        # the stage note of the 4th invoice cannot be stored: the 2nd batch fails
        # after its activities were created and its stages written
        with self._env() as env:
            env.cr.execute(
                SQL(
                    """
                    CREATE FUNCTION collection_test_fault() RETURNS trigger
                    LANGUAGE plpgsql AS $$
                    BEGIN
                        IF NEW.model = 'account.move' AND NEW.res_id = %s
                           AND NEW.body LIKE %s THEN
                            RAISE EXCEPTION 'simulated database failure'
                                  USING ERRCODE = 'serialization_failure';
                        END IF;
                        RETURN NEW;
                    END $$;
                    CREATE TRIGGER collection_test_fault BEFORE INSERT ON mail_message
                       FOR EACH ROW EXECUTE FUNCTION collection_test_fault();
                    """,
                    move_ids[3],
                    "%Collection stage%",
                )
            )

        with (
            mute_logger("odoo.sql_db"),
            self.assertLogs("odoo.addons.base.models.ir_cron", "ERROR") as logs,
        ):
            self._scheduler_runs_the_job(day(1))
        self.assertIn("failed", logs.output[0])

        with self._env() as env:
            moves = env["account.move"].browse(move_ids)
            self.assertEqual(
                sorted(self._collection_activities(env, move_ids).mapped("res_id")),
                move_ids[:2],
                "the first batch is committed, nothing of the crashed one remains",
            )
            self.assertFalse(moves[2:].collection_stage_id)
            self.assertFalse(any(moves.mapped("collection_error")))
            self.assertEqual(env["ir.cron"].browse(self.cron_id).failure_count, 1)
            self.assertFalse(
                env["mail.mail"].search([("subject", "like", "Collections: %")]),
                "no digest for an unfinished run",
            )
            env.cr.execute(
                "DROP TRIGGER collection_test_fault ON mail_message;"
                "DROP FUNCTION collection_test_fault();"
            )

        self._scheduler_runs_the_job(day(1))

        with self._env() as env:
            activities = self._collection_activities(env, move_ids)
            self.assertEqual(sorted(activities.mapped("res_id")), move_ids)
            stage = env["account.move"].browse(move_ids).collection_stage_id
            self.assertEqual(stage.day_offset, 1)
            self.assertEqual(len(self._stage_notes(env, move_ids, stage)), 5)
            self.assertEqual(env["ir.cron"].browse(self.cron_id).failure_count, 0)
            digest = env["mail.mail"].search([("subject", "like", "Collections: %")])
            self.assertEqual(len(digest), 1)
            self.assertIn("5 new activities", digest.subject)


@tagged("post_install", "-at_install")
class TestPromiseReliability(PromiseCommon):
    """Promises to pay through faults: none lost, none judged twice."""

    def test_crash_after_judging_promises_judges_them_once(self):
        """The daily run judges the due promises, then crashes in its batch: the
        judgment is rolled back with the batch, and the next run judges each
        promise once (one broken-promise activity, one chatter note)."""
        invoice = self._post_invoice(DUE)
        other = self._post_invoice(DUE, partner=self.customer_2)
        self._run(day(1))
        promise = self._promise(invoice, day(5))
        Engine = self.registry["collection.engine"]
        execute = Engine._collection_execute

        def execute_then_lose_the_connection(engine, stage_by_move_id):
            execute(engine, stage_by_move_id)
            raise errors.AdminShutdown("terminating connection due to administrator")

        with (
            patch.object(
                Engine, "_collection_execute", execute_then_lose_the_connection
            ),
            self.assertRaises(errors.AdminShutdown),
            self.env.cr.savepoint(),
        ):
            self._run(day(7))
        self.env.invalidate_all()
        self.assertEqual(promise.state, "open", "the judgment was rolled back")
        self.assertFalse(self._broken_activities(invoice))
        self.assertEqual(other.collection_stage_id, self.stage_overdue)

        self._run(day(7))
        self._run(day(7))
        self.assertEqual(promise.state, "broken")
        self.assertEqual(len(self._broken_activities(invoice)), 1)
        self.assertEqual(len(self._messages(invoice, "broken")), 1)
        self.assertEqual(other.collection_stage_id, self.stage_escalation)

    def test_broken_promise_of_a_salesperson_who_left_is_not_lost(self):
        """The salesperson who took the promise left, without team leader nor
        company manager: the broken promise still reaches an active person."""
        self.company.collection_manager_id = False
        gone = self._create_collection_user("gone", "Gone Seller")
        invoice = self._post_invoice(DUE, user=gone)
        promise = self._promise(invoice, day(5), user=gone)
        gone.active = False
        self._run(day(6))
        self.assertEqual(promise.state, "broken")
        activity = self._broken_activities(invoice)
        self.assertEqual(len(activity), 1)
        self.assertTrue(activity.user_id.active, "not assigned to OdooBot")
        self.assertTrue(
            activity.user_id.has_group("account_collections.group_collection_manager")
        )
