from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import freeze_time, tagged

from .common import day
from .common_rpc import RpcCommon


@tagged("post_install", "-at_install")
class TestPaymentPlans(RpcCommon):
    """Payment plans: recorded by the salesperson (through RPC, as the web client
    does), judged by the daily run from the real payments."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plan_broken_type = cls.env.ref(
            "account_collections.mail_activity_type_collection_plan_broken"
        )

    def _plan(self, moves, installments, user=None, on=None):
        """Record a plan on ``moves`` with ``installments`` [(date, amount)] as
        ``user`` through RPC on day ``on``."""
        with freeze_time(on or day(1)):
            plan_id = self._rpc(
                user or self.salesperson,
                "collection.plan",
                "create",
                {
                    "move_ids": [(6, 0, moves.ids)],
                    "installment_ids": [
                        (0, 0, {"date": str(date), "amount": amount})
                        for date, amount in installments
                    ],
                },
            )
        return self.env["collection.plan"].browse(plan_id)

    def _plans(self):
        return self.env["collection.plan"].search([])

    def test_three_installments_kept_with_a_split_payment(self):
        move = self._post_invoice(day(0), 900.0)
        self._run(day(1))
        self.assertEqual(move.collection_stage_id, self.stage_overdue)
        plan = self._plan(move, [(day(10), 300.0), (day(20), 300.0), (day(30), 300.0)])
        self.assertEqual(plan.state, "open")
        self.assertEqual(plan.partner_id, self.customer)
        self.assertEqual(plan.user_id, self.salesperson)
        self.assertIn("Payment plan agreed", move.message_ids[:1].body)
        schedule = self.env["mail.message"].search(
            [
                ("model", "=", "collection.plan"),
                ("res_id", "=", plan.id),
                ("message_type", "=", "comment"),
            ]
        )
        self.assertEqual(len(schedule), 1, "the customer receives the schedule")
        self.assertIn(self.customer, schedule.partner_ids)
        self.assertIn(move.name, schedule.body)

        # the escalation at +7 waits while the plan is open
        self._run(day(8))
        self.assertEqual(move.collection_stage_id, self.stage_overdue)
        # one payment covers the first installment and half of the second
        self._pay(move, 450.0, pay_date=day(10))
        self._run(day(11))
        first, second, third = plan.installment_ids
        self.assertEqual((first.state, first.amount_paid), ("paid", 300.0))
        self.assertEqual((second.state, second.amount_paid), ("open", 150.0))
        self.assertEqual(plan.amount_paid, 450.0)
        self._pay(move, 150.0, pay_date=day(20))
        self._run(day(21))
        self.assertEqual(second.state, "paid")
        self.assertEqual(plan.state, "open")
        self._pay(move, 300.0, pay_date=day(29))
        self._run(day(30))
        self.assertEqual(plan.installment_ids.mapped("state"), ["paid"] * 3)
        self.assertEqual(plan.state, "kept")
        self.assertEqual(plan.date_closed, day(30))
        self.assertIn("Payment plan kept", move.message_ids[:1].body)
        self.assertEqual(
            move.collection_stage_id, self.stage_overdue, "never escalated"
        )

    def test_plan_broken_after_the_grace_period(self):
        move = self._post_invoice(day(0), 1000.0)
        self._run(day(1))
        plan = self._plan(move, [(day(10), 500.0), (day(20), 500.0)])
        self._pay(move, 100.0, pay_date=day(9))
        # late, but within the 3 days of grace: still open, still paused
        self._run(day(13))
        self.assertEqual(plan.installment_ids[0].state, "late")
        self.assertEqual(plan.state, "open")
        self.assertEqual(move.collection_stage_id, self.stage_overdue)
        self.assertFalse(self._activities_of_type(move, self.plan_broken_type))

        self._run(day(14))
        self.assertEqual(plan.state, "broken")
        activity = self._activities_of_type(move, self.plan_broken_type)
        self.assertEqual(activity.user_id, self.salesperson)
        self.assertIn("Payment plan broken", activity.summary)
        # the escalation resumes in the same run
        self.assertEqual(move.collection_stage_id, self.stage_escalation)
        self.assertIn(
            "Payment plan broken",
            " ".join(move.message_ids.mapped("body")),
        )
        emails = self.env["mail.message"].search(
            [
                ("model", "=", "collection.plan"),
                ("res_id", "=", plan.id),
                ("message_type", "=", "comment"),
            ]
        )
        self.assertEqual(len(emails), 2, "the schedule, then the broken plan")
        self.assertIn("was missed", emails[0].subject)
        self.assertIn(self.customer, emails[0].partner_ids)
        # a broken plan stays: it cannot be deleted
        with self.assertRaises(UserError), self.env.cr.savepoint():
            plan.unlink()

    def test_plans_judged_together_each_with_its_policy_grace(self):
        """The daily run judges every open plan at once (their policies' grace
        days read in one query): each plan keeps its own customer's grace."""
        quick = self.policy.copy({"name": "No grace", "plan_grace_days": 0})
        self.customer_2.with_company(self.company).collection_policy_id = quick
        move = self._post_invoice(day(0), 1000.0)
        move_2 = self._post_invoice(day(0), 1000.0, partner=self.customer_2)
        self._run(day(1))
        plan = self._plan(move, [(day(10), 500.0), (day(20), 500.0)])
        plan_2 = self._plan(move_2, [(day(10), 500.0), (day(20), 500.0)])
        plans = plan | plan_2
        self.assertEqual(
            self.env["collection.plan"]._collection_grace_days(plans),
            {p.id: p.move_ids[0].collection_policy_id.plan_grace_days for p in plans},
        )
        self.assertEqual(
            [p.move_ids.collection_policy_id.plan_grace_days for p in plans], [3, 0]
        )
        # a day after the first installment: past the grace of 0 days only
        self._run(day(11))
        self.assertEqual(plans.mapped("state"), ["open", "broken"])
        self.assertEqual([p.installment_ids[0].state for p in plans], ["late", "late"])
        self._run(day(14))
        self.assertEqual(plan.state, "broken")

    def test_bad_plans_are_refused_and_nothing_is_written(self):
        move = self._post_invoice(day(0), 1000.0)
        other = self._post_invoice(day(0), 500.0, partner=self.customer_2)
        paid = self._post_invoice(day(0), 200.0)
        self._pay(paid, pay_date=day(0))
        cases = [
            (move, [(day(10), 400.0), (day(20), 400.0)], "add up to"),
            (move, [(day(20), 500.0), (day(10), 500.0)], "order of their dates"),
            (move, [(day(10), 500.0), (day(10), 500.0)], "order of their dates"),
            (move, [(day(0), 1000.0)], "in the past"),
            (move, [(day(10), 1100.0), (day(20), -100.0)], "positive amount"),
            (move | other, [(day(10), 1500.0)], "one customer"),
            (paid, [(day(10), 200.0)], "open customer invoices only"),
            (move, [], "needs installments"),
        ]
        for moves, installments, message in cases:
            with self.subTest(message=message), self._refused(ValidationError, message):
                self._plan(moves, installments)
        # beyond the policy's limits (6 installments, 180 days): a manager's
        with self._refused(AccessError, "collection manager"):
            self._plan(move, [(day(10), 500.0), (day(250), 500.0)])
        self.assertFalse(self._plans())
        plan = self._plan(
            move, [(day(10), 500.0), (day(250), 500.0)], user=self.manager
        )
        self.assertEqual(plan.state, "open")
        # one open plan per invoice
        with self._refused(ValidationError, "already have an open payment plan"):
            self._plan(move, [(day(10), 1000.0)])

    def test_rpc_salesperson_cannot_forge_a_plan_nor_read_a_colleagues(self):
        move = self._post_invoice(day(0), 1000.0)
        plan = self._plan(move, [(day(10), 1000.0)])
        for values in (
            {"state": "kept"},
            {"amount_paid": 1000.0},
            {"move_ids": [(5,)]},
        ):
            with self._refused(AccessError):
                self._rpc(
                    self.salesperson,
                    "collection.plan",
                    "write",
                    plan.ids,
                    values,
                    context=self.ATTACKER_CONTEXT,
                )
        with self._refused(AccessError):
            self._rpc(
                self.salesperson,
                "collection.plan.installment",
                "write",
                plan.installment_ids.ids,
                {"state": "paid", "amount_paid": 1000.0},
                context=self.ATTACKER_CONTEXT,
            )
        with self._refused(AccessError):
            self._rpc(
                self.salesperson,
                "collection.plan",
                "create",
                {
                    "move_ids": [(6, 0, move.ids)],
                    "state": "kept",
                    "installment_ids": [(0, 0, {"date": str(day(10)), "amount": 1.0})],
                },
            )
        self.assertEqual(plan.state, "open")
        self.assertEqual(plan.installment_ids.state, "open")
        # a colleague sees neither the plan nor its installments
        found = self._rpc(
            self.salesperson_2, "collection.plan", "search_read", [], ["id"]
        )
        self.assertFalse(found)
        with self._refused(AccessError):
            self._rpc(
                self.salesperson_2, "collection.plan", "read", plan.ids, ["state"]
            )
        with self._refused(AccessError):
            self._rpc(
                self.salesperson_2,
                "collection.plan.installment",
                "read",
                plan.installment_ids.ids,
                ["amount"],
            )
        with self._refused(AccessError):
            self._rpc(self.salesperson_2, "collection.plan", "action_cancel", plan.ids)
        # its salesperson cancels it: the escalation resumes
        self._rpc(self.salesperson, "collection.plan", "action_cancel", plan.ids)
        self.assertEqual(plan.state, "cancelled")
        self.assertEqual(
            self._rpc(self.manager, "collection.plan", "search_count", []), 1
        )

    def _activities_of_type(self, move, activity_type):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "account.move"),
                ("res_id", "=", move.id),
                ("activity_type_id", "=", activity_type.id),
            ]
        )
