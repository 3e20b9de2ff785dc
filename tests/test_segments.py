from datetime import timedelta

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from .common import day
from .common_rpc import RpcCommon


@tagged("post_install", "-at_install")
class TestCollectionSegments(RpcCommon):
    """Segments give customers their policy from their behaviour; the daily run
    re-evaluates them and writes each change in the customer's chatter."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.strict = cls.env.ref("account_collections.collection_policy_strict")
        cls.light = cls.env.ref("account_collections.collection_policy_light")
        cls.high_risk = cls.env.ref("account_collections.collection_segment_high_risk")
        cls.reliable = cls.env.ref("account_collections.collection_segment_reliable")
        # the examples are shipped for the main company, archived
        (cls.high_risk | cls.reliable).sudo().write(
            {"company_id": cls.company.id, "active": True}
        )
        cls.Segment = cls.env["collection.segment"]

    def _evaluate(self, on):
        with freeze_time(on):
            return self.Segment._collection_evaluate(self.company, on)

    def _segment(self, partner):
        return partner.with_company(self.company).collection_segment_id

    def _break_promise(self, move, made_on, date):
        """A promise made on ``made_on`` for ``date``, judged broken the day after
        (by the judge alone: the daily run would evaluate the segments too)."""
        promise = self._promise(move, date, amount=100.0, on=made_on)
        judged_on = date + timedelta(days=1)
        with freeze_time(judged_on):
            self.env["collection.promise.judge"]._collection_judge_due(judged_on)
        self.assertEqual(promise.state, "broken")
        return promise

    def test_customer_moves_between_segments_as_its_broken_promises_change(self):
        late = self._post_invoice(day(0), 1000.0)
        # paid on time: a reliable payer (days late 0, invoiced this year)
        self._pay(self._post_invoice(day(0), 500.0), pay_date=day(0))
        self.assertEqual(self._evaluate(day(1)), 1)
        self.assertEqual(self._segment(self.customer), self.reliable)
        self.assertEqual(self._policy(late), self.light)
        self.assertEqual(self._sql_policy(late)[late.id], self.light.id)
        message = self.customer.message_ids[:1]
        self.assertIn("Reliable payers", message.body)
        self.assertIn("none", message.body)
        # evaluated again with nothing changed: nothing written, nothing logged
        count = len(self.customer.message_ids)
        self.assertEqual(self._evaluate(day(2)), 0)
        self.assertEqual(len(self.customer.message_ids), count)

        # two promises broken within 90 days: high risk, and its stricter policy
        self._break_promise(late, day(2), day(4))
        self._break_promise(late, day(6), day(8))
        self.assertEqual(self._evaluate(day(10)), 1)
        self.assertEqual(self._segment(self.customer), self.high_risk)
        self.assertEqual(self._policy(late), self.strict)
        self.assertEqual(self._sql_policy(late)[late.id], self.strict.id)
        self.assertIn("High risk", self.customer.message_ids[:1].body)
        self.assertIn("Reliable payers", self.customer.message_ids[:1].body)

        # 90 days later the broken promises are old: no longer high risk, nor a
        # reliable payer (its 1,000 is 100 days late and still unpaid)
        self.assertEqual(self._evaluate(day(100)), 1)
        self.assertFalse(self._segment(self.customer))
        self.assertIn("High risk", self.customer.message_ids[:1].body)
        # a manager accepts up to 120 days late among reliable payers
        self.reliable.criterion_ids.filtered(
            lambda c: c.criterion == "days_late"
        ).value = 120
        self.assertEqual(self._evaluate(day(101)), 1)
        self.assertEqual(self._segment(self.customer), self.reliable)

        # a policy set by hand on the customer wins over the segment's
        self.customer.with_company(self.company).collection_policy_id = self.policy
        self.assertEqual(self._policy(late), self.policy)
        self.assertEqual(self._sql_policy(late)[late.id], self.policy.id)
        # an archived segment's policy no longer applies, and the run clears it
        self.customer.with_company(self.company).collection_policy_id = False
        self.reliable.active = False
        self.assertEqual(self._policy(late), self.policy, "the company's default")
        self.assertEqual(self._sql_policy(late)[late.id], self.policy.id)
        self.assertEqual(self._evaluate(day(102)), 1)
        self.assertFalse(self._segment(self.customer))

    def test_days_late_counts_unpaid_invoices_and_needs_a_history(self):
        # a customer who pays nothing is not a reliable payer, however few
        # invoices it has paid late (none)
        self._post_invoice(day(0), 800.0)
        # a new customer, its first invoice not due yet: no figure at all
        self._post_invoice(day(20), 300.0, partner=self.customer_2)
        self.assertEqual(self._evaluate(day(3)), 1)
        self.assertEqual(self._segment(self.customer), self.reliable, "3 days late")
        self.assertFalse(self._segment(self.customer_2), "no history: no segment")
        self.assertEqual(self._evaluate(day(30)), 1)
        self.assertFalse(self._segment(self.customer), "30 days late and unpaid")
        self.assertIn("Reliable payers", self.customer.message_ids[:1].body)
        # paid at last: the lateness stays in the customer's history, which the
        # priority score reads too
        self._pay(self.customer.invoice_ids, pay_date=day(30))
        self.env["res.partner"]._collection_refresh_payment_history()
        self.assertEqual(self.customer.collection_avg_days_late, 30)
        self.assertEqual(self._evaluate(day(31)), 0)
        self.assertFalse(self._segment(self.customer))

    def test_daily_run_evaluates_the_segments_once_a_day_and_applies_them(self):
        move = self._post_invoice(day(0))
        self._pay(self._post_invoice(day(-30), 200.0), pay_date=day(-30))
        self._run(day(-6))
        self.assertEqual(self._segment(self.customer), self.reliable)
        # the light policy's first stage is at -3: nothing at -5 (the default's)
        self._run(day(-5))
        self.assertFalse(move.collection_stage_id)
        self._run(day(-3))
        self.assertEqual(
            move.collection_stage_id,
            self.env.ref("account_collections.collection_stage_light_reminder"),
        )
        # the same day again: the segments are not evaluated a second time
        self.reliable.criterion_ids.filtered(
            lambda c: c.criterion == "invoiced"
        ).value = 10**9
        self._run(day(-3))
        self.assertEqual(self._segment(self.customer), self.reliable)
        self._run(day(-2))
        self.assertFalse(self._segment(self.customer), "re-evaluated the next day")

    def test_segment_domain_restricts_its_customers(self):
        self._post_invoice(day(0), partner=self.customer)
        self._post_invoice(day(0), partner=self.customer_2)
        self.high_risk.write(
            {
                "criterion_ids": [Command.clear()],
                "partner_domain": f"[('id', '=', {self.customer_2.id})]",
            }
        )
        self._evaluate(day(1))
        self.assertEqual(self._segment(self.customer_2), self.high_risk)
        self.assertEqual(
            self._segment(self.customer),
            self.reliable,
            "the next segment by sequence",
        )
        self.assertEqual(self.high_risk.customer_count, 1)

    @mute_logger("odoo.sql_db")
    def test_bad_segments_are_refused_and_nothing_is_written(self):
        for domain, message in (
            ("[('id', '=',", "not valid"),
            ("[('no_such_field', '=', 1)]", "not valid"),
            ("'not a list'", "not valid"),
        ):
            with self.assertRaisesRegex(ValidationError, message):
                with self.env.cr.savepoint():
                    self.Segment.create(
                        {
                            "name": "Bad",
                            "sequence": 99,
                            "policy_id": self.policy.id,
                            "partner_domain": domain,
                        }
                    )
        with self.assertRaises(IntegrityError), self.env.cr.savepoint():
            self.Segment.create(
                {"name": "Same order", "sequence": 10, "policy_id": self.policy.id}
            )
        with self.assertRaisesRegex(ValidationError, "out of range"):
            with self.env.cr.savepoint():
                self.high_risk.criterion_ids.value = -1
        with self.assertRaisesRegex(ValidationError, "out of range"):
            with self.env.cr.savepoint():
                self.high_risk.criterion_ids.write(
                    {"criterion": "reliability", "value": 120}
                )
        # the policy of a segment is in use: archived, not deleted
        with self.assertRaisesRegex(UserError, "segments High risk"):
            with self.env.cr.savepoint():
                self.strict.unlink()
        self.assertTrue(self.high_risk.exists())
        self.assertFalse(self.Segment.search([("name", "in", ("Bad", "Same order"))]))
        self.assertEqual(self.high_risk.criterion_ids.value, 2)

    def test_rpc_salesperson_cannot_set_up_segments_nor_a_customer_segment(self):
        with self._refused(AccessError):
            self._rpc(
                self.salesperson,
                "collection.segment",
                "create",
                {"name": "Mine", "sequence": 50, "policy_id": self.light.id},
            )
        with self._refused(AccessError):
            self._rpc(
                self.salesperson,
                "collection.segment",
                "write",
                self.high_risk.ids,
                {"policy_id": self.light.id},
            )
        with self._refused(AccessError):
            self._rpc(
                self.salesperson,
                "collection.segment",
                "action_evaluate",
                self.high_risk.ids,
            )
        with self._refused(AccessError, "set by the daily collection run"):
            self._rpc(
                self.salesperson,
                "res.partner",
                "write",
                self.customer.ids,
                {"collection_segment_id": self.reliable.id},
                context=self.ATTACKER_CONTEXT,
            )
        self.assertFalse(self._segment(self.customer))
        # a manager evaluates them now
        self._post_invoice(day(0))
        self._pay(self._post_invoice(day(0), 100.0), pay_date=day(0))
        with freeze_time(day(1)):
            self._rpc(self.manager, "collection.segment", "action_evaluate", [])
        self.assertEqual(self._segment(self.customer), self.reliable)

    def test_rpc_segments_of_another_company_are_not_readable(self):
        company_2 = self.setup_other_company()["company"]
        other = self.Segment.create(
            {
                "name": "Other company's",
                "sequence": 10,
                "company_id": company_2.id,
                "policy_id": self.policy.id,
            }
        )
        found = self._rpc(
            self.salesperson, "collection.segment", "search_read", [], ["name"]
        )
        self.assertEqual(
            {row["name"] for row in found}, {"High risk", "Reliable payers"}
        )
        with self._refused(AccessError):
            self._rpc(self.salesperson, "collection.segment", "read", other.ids)
