from odoo import Command
from odoo.tests import freeze_time, tagged
from odoo.tools import SQL

from odoo.addons.account_collections.models.collection_receivable import (
    COLLECTION_PAUSE_FOREVER,
)

from .common import day
from .common_promises import PromiseCommon


@tagged("post_install", "-at_install")
class TestPausedUntil(PromiseCommon):
    """Until when the collection of an invoice is paused, and why, is one rule
    (``collection.receivable._collection_pauses`` and its SQL form): the daily
    run's selection, the invoice's next collection date, the worklist and the
    portal page all read it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        invoice = cls._post_invoice
        cls.moves = {
            name: invoice(day(0), 1000.0)
            for name in (
                "free",
                "promise",
                "past promise",
                "plan",
                "dispute",
                "decided dispute",
                "claim",
                "claim not pausing",
                "excluded",
                "promise and dispute",
            )
        }
        # every invoice at its overdue stage (day 1); the escalation is due on
        # day 7
        with freeze_time(day(1)):
            cls.env["account.move"]._cron_collection_run()
            cls._promise_as(cls.moves["past promise"], day(3))
        with freeze_time(day(2)):
            cls._promise_as(cls.moves["promise"], day(10))
            cls._promise_as(cls.moves["promise and dispute"], day(4))
            cls.env["collection.plan"].with_user(cls.salesperson).create(
                {
                    "move_ids": [Command.set(cls.moves["plan"].ids)],
                    "installment_ids": [
                        Command.create({"date": day(21), "amount": 500.0}),
                        Command.create({"date": day(35), "amount": 500.0}),
                    ],
                }
            )
            Dispute = cls.env["collection.dispute"].sudo()
            for name, until in (
                ("dispute", day(16)),
                ("decided dispute", day(16)),
                ("promise and dispute", day(16)),
            ):
                move = cls.moves[name]
                Dispute.create(
                    {
                        "company_id": move.company_id.id,
                        "move_id": move.id,
                        "partner_id": move.commercial_partner_id.id,
                        "reason": "wrong_amount",
                        "paused_until": until,
                    }
                )
            Dispute.search([("move_id", "=", cls.moves["decided dispute"].id)]).write(
                {"state": "accepted"}
            )
            Claim = cls.env["collection.payment.claim"].sudo()
            for name, until in (("claim", day(9)), ("claim not pausing", False)):
                move = cls.moves[name]
                Claim.create(
                    {
                        "company_id": move.company_id.id,
                        "partner_id": move.commercial_partner_id.id,
                        "move_ids": [Command.set(move.ids)],
                        "payment_date": day(1),
                        "currency_id": move.currency_id.id,
                        "amount": 1000.0,
                        "reference": name,
                        "paused_until": until,
                    }
                )
            cls.moves["excluded"]._collection_exclude("dispute", "Disputed by phone")

    @classmethod
    def _promise_as(cls, move, promised_date):
        return (
            cls.env["collection.promise"]
            .with_user(cls.salesperson)
            .create(
                {
                    "move_ids": [Command.set(move.ids)],
                    "promised_date": promised_date,
                    "amount": move.amount_residual,
                }
            )
        )

    def _all_moves(self):
        moves = self.env["account.move"]
        for move in self.moves.values():
            moves |= move
        return moves

    def _sql_pauses(self, moves, today):
        receivable = self.env["collection.receivable"]
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT m.id, pause.until, pause.reason
                  FROM account_move m
             LEFT JOIN LATERAL (%s) pause ON TRUE
                 WHERE m.id = ANY(%s)
                """,
                receivable._collection_pause_sql(today, "m"),
                moves.ids,
            )
        )
        return {move_id: (until, reason) for move_id, until, reason in rows if reason}

    def _expected(self):
        forever = self.env["collection.receivable"]._collection_pauses(
            self.moves["excluded"], day(2)
        )[self.moves["excluded"].id][0]
        return {
            "promise": (day(10), "promise"),
            "past promise": (day(3), "promise"),
            "plan": (day(21), "plan"),
            "dispute": (day(16), "dispute"),
            "claim": (day(9), "claim"),
            "excluded": (forever, "excluded"),
            "promise and dispute": (day(16), "dispute"),
        }

    def test_python_and_sql_agree(self):
        moves = self._all_moves()
        expected = {
            self.moves[name].id: pause for name, pause in self._expected().items()
        }
        python = self.env["collection.receivable"]._collection_pauses(moves, day(2))
        self.assertEqual(python, expected)
        self.assertEqual(self._sql_pauses(moves, day(2)), expected)
        # later on, the pauses that ended are gone, a late plan still pauses
        for today in (day(5), day(12), day(25)):
            with self.subTest(today=today):
                self.assertEqual(
                    self._sql_pauses(moves, today),
                    self.env["collection.receivable"]._collection_pauses(moves, today),
                )
        later = self.env["collection.receivable"]._collection_pauses(moves, day(25))
        # a late installment not judged yet: paused day by day
        self.assertEqual(later[self.moves["plan"].id], (day(25), "plan"))

    def test_next_collection_date_is_after_the_pause(self):
        """Under a plan or a dispute the next collection date is the day after
        the pause ends (the stage's date when later), never a day already past."""
        expected = {
            "free": day(7),
            "promise": day(11),
            "past promise": day(7),
            "plan": day(22),
            "dispute": day(17),
            "decided dispute": day(7),
            "claim": day(10),
            "claim not pausing": day(7),
            "excluded": False,
            "promise and dispute": day(17),
        }
        with freeze_time(day(2)):
            moves = self._all_moves()
            moves.invalidate_recordset()
            for name, next_date in expected.items():
                with self.subTest(name):
                    move = self.moves[name]
                    self.assertEqual(move.collection_next_date, next_date)
            self.assertEqual(self.moves["plan"].collection_pause_reason, "plan")
            self.assertEqual(self.moves["plan"].collection_pause_until, day(21))
            self.assertEqual(self.moves["excluded"].collection_pause_reason, "excluded")
            self.assertFalse(self.moves["excluded"].collection_pause_until)
        with freeze_time(day(9)):
            moves.invalidate_recordset()
            for name in ("plan", "dispute"):
                with self.subTest(name):
                    self.assertGreater(self.moves[name].collection_next_date, day(9))

    def test_run_follows_the_rule(self):
        """On day 8 the daily run escalates exactly the invoices not paused."""
        work = dict(
            self.env["collection.engine"]._collection_due_work(self.company.ids, day(8))
        )
        pauses = self.env["collection.receivable"]._collection_pauses(
            self._all_moves(), day(8)
        )
        for name, move in self.moves.items():
            with self.subTest(name):
                self.assertEqual(
                    move.id in work,
                    move.id not in pauses,
                )

    def test_worklist_and_portal_follow_the_rule(self):
        """The worklist's activity rows and the portal page read the same pause."""
        with freeze_time(day(2)):
            rows = self.env["collection.worklist"].search(
                [("kind", "=", "activity"), ("move_id", "in", self._all_moves().ids)]
            )
            by_move = {
                row.move_id.id: (row.paused_until, row.pause_reason) for row in rows
            }
            expected = self.env["collection.receivable"]._collection_pauses(
                self._all_moves(), day(2)
            )
            for name, move in self.moves.items():
                if move.id not in by_move:
                    continue  # no activity (the excluded invoice's were closed)
                with self.subTest(name):
                    until, reason = expected.get(move.id, (False, False))
                    if until == COLLECTION_PAUSE_FOREVER:
                        until = False  # an exclusion has no end: no date
                    self.assertEqual(by_move[move.id], (until, reason))
            self.assertEqual(by_move[self.moves["plan"].id], (day(21), "plan"))
            values = self.env["collection.portal"]._collection_page_values(
                self.customer, self.company
            )
            paused = values["sections"][0]["paused"]
            self.assertEqual(
                set(paused),
                set(expected) - {self.moves["excluded"].id},
            )
            self.assertIn("Payment plan", paused[self.moves["plan"].id])
            self.assertIn("04/06/2026", paused[self.moves["plan"].id])
