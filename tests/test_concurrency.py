import threading

import psycopg2
from psycopg2 import errors

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from .common import DUE, day
from .common_committed import CollectionCommittedCase

REMINDER_DAY = day(-5)  # days overdue stay 0: no row is refreshed
FOLLOW_UP_DAY = day(1)


@tagged("post_install", "-at_install")
class TestCollectionConcurrency(CollectionCommittedCase):
    """Two runs at the same time, each on its own database connection, as two Odoo
    workers or two servers would run them."""

    def _company_ids(self, env):
        return env["res.company"].search([]).ids

    def test_second_run_skips_locked_invoices_without_waiting(self):
        """Run A is in the middle of its batches: its first batch is committed, its
        second batch is locked and not committed yet. Run B, started now on another
        connection, skips A's locked invoices (SKIP LOCKED) instead of waiting for
        them or executing their stage a second time, and advances the others."""
        move_ids = self._setup_invoices(8, DUE)
        with self._env(REMINDER_DAY) as env_a:
            self.assertEqual(
                env_a["account.move"]._cron_collection_run(batch_size=3), 3
            )
        first_batch = move_ids[:3]  # the work is taken in id order

        with self._env(REMINDER_DAY) as env_a:
            self.assertEqual(
                env_a["account.move"]._cron_collection_run(batch_size=3), 3
            )
            second_batch = move_ids[3:6]

            with self._env(REMINDER_DAY) as env_b:
                # B must not wait for A: any wait fails within 1 second
                env_b.cr.execute("SET LOCAL lock_timeout = '1s'")
                self.assertEqual(
                    env_b["account.move"]._cron_collection_run(batch_size=100),
                    2,
                    "B advances only the two invoices nobody has advanced or locked",
                )
                self.assertEqual(
                    sorted(
                        self._collection_activities(env_b, move_ids).mapped("res_id")
                    ),
                    first_batch + move_ids[6:],
                    "B sees A's committed batch, not A's batch in progress",
                )
            # B committed first, A commits its second batch now
            self.assertEqual(
                sorted(
                    self._collection_activities(env_a, second_batch).mapped("res_id")
                ),
                second_batch,
            )

        with self._env(REMINDER_DAY) as env_c:
            self.assertEqual(env_c["account.move"]._cron_collection_run(), 0)
            activities = self._collection_activities(env_c, move_ids)
            self.assertEqual(sorted(activities.mapped("res_id")), move_ids)
            reminder = env_c["account.move"].browse(move_ids).collection_stage_id
            self.assertEqual(len(reminder), 1)
            self.assertEqual(reminder.day_offset, -5)
            self.assertEqual(len(self._stage_notes(env_c, move_ids, reminder)), 8)

    def test_stale_run_fails_instead_of_repeating_a_stage(self):
        """Run B selected its work before run A committed the same invoices: when B
        locks them, PostgreSQL refuses (serialization failure, Odoo runs in
        REPEATABLE READ); the engine lets the error through instead of logging it
        on the invoices, B rolls back, and its retry finds nothing left to do."""
        move_ids = self._setup_invoices(3, DUE)
        with self._env(REMINDER_DAY) as env_b:
            work_b = dict(
                env_b["collection.engine"]._collection_due_work(
                    self._company_ids(env_b), REMINDER_DAY
                )
            )
            self.assertEqual(sorted(work_b), move_ids)

            with self._env(REMINDER_DAY) as env_a:
                self.assertEqual(env_a["account.move"]._cron_collection_run(), 3)
            # A committed

            with (
                mute_logger("odoo.sql_db"),
                self.assertRaises(errors.SerializationFailure),
            ):
                env_b["collection.engine"]._collection_process_batch(work_b)
            env_b.cr.rollback()
            self.assertEqual(env_b["account.move"]._cron_collection_run(), 0)

        with self._env(REMINDER_DAY) as env:
            moves = env["account.move"].browse(move_ids)
            self.assertEqual(len(self._collection_activities(env, move_ids)), 3)
            self.assertFalse(any(moves.mapped("collection_error")))
            self.assertEqual(
                len(self._stage_notes(env, move_ids, moves.collection_stage_id)), 3
            )

    def test_parallel_runs_execute_each_stage_once(self):
        """Two workers run the daily action at the same moment, batch after batch,
        committing between batches and retrying a batch on a concurrency error as
        Odoo's server does: every invoice gets its stage exactly once."""
        move_ids = self._setup_invoices(12, DUE)
        barrier = threading.Barrier(2)
        outcome = {"processed": [], "retries": [], "errors": []}

        def worker():
            processed = retries = 0
            try:
                barrier.wait(timeout=30)
                for _call in range(40):
                    try:
                        with self._env() as env:  # the main thread froze the day
                            done = env["account.move"]._cron_collection_run(
                                batch_size=3
                            )
                            left = env["collection.engine"]._collection_due_work(
                                self._company_ids(env), FOLLOW_UP_DAY
                            )
                    except psycopg2.OperationalError:
                        # as odoo.service.model.retrying: roll back, try again
                        retries += 1
                        continue
                    processed += done
                    if not done and not left:
                        break
            except Exception as error:  # noqa: BLE001 - reported by the main thread
                outcome["errors"].append(error)
            outcome["processed"].append(processed)
            outcome["retries"].append(retries)

        threads = [threading.Thread(target=worker) for _i in range(2)]
        # the runs that lose a race log their serialization failure ("bad query")
        with freeze_time(FOLLOW_UP_DAY), mute_logger("odoo.sql_db"):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        self.assertFalse(any(thread.is_alive() for thread in threads), "a run hung")
        self.assertFalse(outcome["errors"], outcome["errors"])
        self.assertEqual(
            sum(outcome["processed"]), 12, f"each invoice advanced once: {outcome}"
        )

        with self._env(FOLLOW_UP_DAY) as env:
            activities = self._collection_activities(env, move_ids)
            self.assertEqual(sorted(activities.mapped("res_id")), move_ids)
            stage = env["account.move"].browse(move_ids).collection_stage_id
            self.assertEqual(stage.day_offset, 1)
            self.assertEqual(len(self._stage_notes(env, move_ids, stage)), 12)
            digests = env["mail.mail"].search(
                [
                    ("subject", "like", "Collections: % new activit%"),
                    ("recipient_ids", "in", env.ref("base.user_admin").partner_id.ids),
                ]
            )
            # each run mails the activities it found unannounced: no activity is
            # announced twice (each worker may send its own digest)
            for move in env["account.move"].browse(move_ids):
                self.assertEqual(
                    len(
                        digests.filtered(lambda m, move=move: move.name in m.body_html)
                    ),
                    1,
                    f"{move.name} is announced exactly once",
                )
            self.assertFalse(activities.filtered(lambda a: not a.collection_notified))
            # and their customer one collection email, whichever run sent it
            emails = env["mail.message"].search(
                [
                    ("model", "=", "account.move"),
                    ("res_id", "in", move_ids),
                    ("message_type", "=", "comment"),
                ]
            )
            self.assertEqual(len(emails), 1, "one email for the customer")

    def test_scheduler_lock_keeps_a_second_worker_out(self):
        """The scheduler's own lock: while a worker holds the daily run's job, a
        second worker cannot acquire it and a manual run is refused."""
        with self._env() as env:
            cron = env.ref("account_collections.ir_cron_collection_run")
            saved = cron.read(["nextcall", "lastcall"], load=None)[0]
            cron.nextcall = "2000-01-01 00:00:00"
            cron_id = cron.id
        self.addCleanup(self._restore_cron, cron_id, saved)

        IrCron = self.registry["ir.cron"]
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            job = IrCron._acquire_one_job(cr_a, cron_id)
            self.assertTrue(job, "the first worker gets the job")
            self.assertIsNone(
                IrCron._acquire_one_job(cr_b, cron_id),
                "the second worker does not get the job while the first holds it",
            )
            env_b = api.Environment(cr_b, SUPERUSER_ID, {})
            with self.assertRaisesRegex(UserError, "currently being executed"):
                env_b["ir.cron"].browse(cron_id).method_direct_trigger()
            cr_a.rollback()

    def _restore_cron(self, cron_id, saved):
        with self._env() as env:
            env["ir.cron"].browse(cron_id).write(
                {"nextcall": saved["nextcall"], "lastcall": saved["lastcall"]}
            )
