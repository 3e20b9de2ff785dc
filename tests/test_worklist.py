import math

from odoo import Command
from odoo.tests import freeze_time, tagged

from .common import DUE, day
from .common_promises import PromiseCommon


@tagged("post_install", "-at_install")
class TestCollectionWorklist(PromiseCommon):
    def _rows(self, user=None):
        return (
            self.env["collection.worklist"]
            .with_user(user or self.salesperson)
            .search([])
        )

    def test_rows_priority_and_score_parts(self):
        big = self._post_invoice(DUE, amount=10000.0)
        small = self._post_invoice(day(19), amount=100.0, partner=self.customer_2)
        self._run(day(1))  # Sam's follow-up on the big one
        self._run(day(20))  # the big one escalates to the leader, the small one is due
        with freeze_time(day(20)):
            rows = self._rows()
            self.assertEqual(rows.move_id, big | small)
            self.assertEqual(rows[0].move_id, big, "the larger, older debt first")
            top = rows[0]
            self.assertEqual(top.kind, "activity")
            self.assertEqual(top.days_overdue, 20)
            self.assertEqual(top.amount_overdue, 10000.0)
            self.assertAlmostEqual(top.score_amount, round(10 * math.log10(10001), 1))
            self.assertEqual(top.score_days, 5.0)
            self.assertEqual(top.score_broken, 0.0)
            self.assertEqual(top.score_history, 0.0)
            self.assertAlmostEqual(
                top.priority, top.score_amount + top.score_days, places=1
            )
            self.assertEqual(
                top.date_expected,
                day(20),
                "no history: the due date, but never before today",
            )
            self.assertEqual(rows[1].days_overdue, 1)
        with freeze_time(day(21)):
            self.env["collection.worklist"].invalidate_model()  # a new request
            self.assertEqual(
                self._rows()[0].days_overdue, 21, "counted to the day it is read"
            )

    def test_history_and_broken_promises_raise_priority(self):
        # Globex paid a past invoice 12 days late and broke a promise
        old = self._post_invoice(day(-40), amount=500.0, partner=self.customer_2)
        self._pay(old, pay_date=day(-28))
        globex = self._post_invoice(DUE, amount=1000.0, partner=self.customer_2)
        acme = self._post_invoice(DUE, amount=1000.0)
        self._run(day(1))
        self._promise(globex, day(3))
        self._run(day(4))
        self.assertEqual(self.customer_2.collection_avg_days_late, 12.0)
        self.assertEqual(self.customer_2.collection_promise_broken_count, 1)

        # read as on day 4 (the expected payment is never before today)
        self.enterContext(freeze_time(day(4)))
        rows = self._rows()
        globex_rows = rows.filtered(lambda r: r.move_id == globex)
        acme_row = rows.filtered(lambda r: r.move_id == acme)
        self.assertEqual(len(globex_rows), 2, "follow-up and broken promise activities")
        self.assertIn(self.activity_type_broken, globex_rows.activity_type_id)
        for row in globex_rows:
            self.assertEqual(row.score_broken, 10.0)
            self.assertEqual(row.score_history, 4.0)
            self.assertEqual(row.avg_days_late, 12.0)
            self.assertEqual(row.date_expected, day(12))
            self.assertGreater(row.priority, acme_row.priority)
        self.assertEqual(acme_row.date_expected, day(4), "due, no history: today")
        self.assertEqual(rows[-1], acme_row)

    def test_expected_payment_is_what_the_customer_committed_to(self):
        invoice = self._post_invoice(DUE, amount=900.0)
        self._run(day(1))
        with freeze_time(day(30)):
            row = self._rows().filtered(lambda r: r.move_id == invoice)
            self.assertEqual(row.date_expected, day(30), "never in the past")
        promise = self._promise(invoice, day(37), on=day(30))
        with freeze_time(day(31)):
            self.env["collection.worklist"].invalidate_model()
            rows = self._rows().filtered(lambda r: r.move_id == invoice)
            self.assertTrue(rows)
            for row in rows:
                self.assertEqual(row.date_expected, promise.promised_date)
        promise.with_user(self.salesperson).action_cancel()
        with freeze_time(day(31)):
            plan = (
                self.env["collection.plan"]
                .with_user(self.salesperson)
                .create(
                    {
                        "move_ids": [Command.set(invoice.ids)],
                        "installment_ids": [
                            Command.create({"date": day(45), "amount": 450.0}),
                            Command.create({"date": day(75), "amount": 450.0}),
                        ],
                    }
                )
            )
        with freeze_time(day(31)):
            self.env["collection.worklist"].invalidate_model()
            row = self._rows().filtered(lambda r: r.move_id == invoice)
            self.assertEqual(
                row.date_expected, plan.installment_ids[0].date, "the next installment"
            )

    def test_promises_due_today_and_logging_from_a_row(self):
        invoice = self._post_invoice(DUE, amount=800.0)
        self._run(day(1))
        promise = self._promise(invoice, day(5))
        with freeze_time(day(5)):
            rows = self._rows()
            promise_row = rows.filtered(lambda r: r.kind == "promise")
            self.assertEqual(promise_row.promise_id, promise)
            self.assertEqual(promise_row.date_deadline, day(5))
            self.assertEqual(promise_row.amount_residual, 800.0)
            self.assertIn("Acme Customer", promise_row.display_name)
            # the "due" filter of the action keeps promises due today or earlier
            action = (
                self.env["collection.worklist"]
                .with_user(self.salesperson)
                .action_open_worklist()
            )
            self.assertEqual(action["context"].get("search_default_mine"), 1)
            self.assertEqual(action["context"].get("search_default_due"), 1)

            activity_row = rows.filtered(lambda r: r.kind == "activity")
            action = activity_row.action_log_contact()
            wizard = (
                self.env["collection.contact.wizard"]
                .with_user(self.salesperson)
                .with_context(**action["context"])
                .create({"channel": "call", "outcome": "reached"})
            )
            wizard.action_log()
        self.assertFalse(
            self._rows().filtered(lambda r: r.kind == "activity"), "done: off the list"
        )
        opened = promise_row.action_open_document()
        self.assertEqual(
            (opened["res_model"], opened["res_id"]), ("collection.promise", promise.id)
        )

    def test_manager_sees_everyone_grouped_by_salesperson(self):
        mine = self._post_invoice(DUE)
        theirs = self._post_invoice(DUE, user=self.salesperson_2)
        self._run(day(1))
        self.assertEqual(self._rows().move_id, mine)
        self.assertEqual(self._rows(self.salesperson_2).move_id, theirs)
        self.assertEqual(self._rows(self.manager).move_id, mine | theirs)
        action = (
            self.env["collection.worklist"]
            .with_user(self.manager)
            .action_open_worklist()
        )
        self.assertEqual(action["context"].get("search_default_group_user"), 1)
        self.assertNotIn("search_default_mine", action["context"])
        groups = (
            self.env["collection.worklist"]
            .with_user(self.manager)
            ._read_group([], ["user_id"], ["__count"])
        )
        self.assertEqual(
            dict(groups), {self.salesperson: 1, self.salesperson_2: 1}, "by salesperson"
        )
