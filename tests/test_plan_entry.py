from odoo.exceptions import AccessError, MissingError, ValidationError
from odoo.tests import freeze_time, tagged

from .common import day
from .common_rpc import RpcCommon


@tagged("post_install", "-at_install")
class TestPlanFromTheWorklist(RpcCommon):
    """The phase on the worklist's rows; payment plans from its rows and from
    Log a Contact, through RPC as the web client calls them."""

    def _rows(self, user, model="collection.worklist", domain=None):
        with freeze_time(day(2)):
            return self._rpc(
                user,
                model,
                "search_read",
                domain or [],
                ["partner_id", "move_id"] if model == "collection.worklist" else [],
            )

    def _prefill(self, action):
        (command,) = action["context"]["default_move_ids"]
        self.assertEqual(command[0], 6)
        return self.env["account.move"].browse(command[2])

    def _plan_from_action(self, user, action, installments):
        """Save the plan form the ``action`` opens, as the web client does:
        its default values, plus the installments the user enters."""
        with freeze_time(day(2)):
            defaults = self._rpc(
                user,
                "collection.plan",
                "default_get",
                ["move_ids", "note"],
                context=action["context"],
            )
            plan_id = self._rpc(
                user,
                "collection.plan",
                "create",
                {
                    "move_ids": defaults["move_ids"],
                    "installment_ids": [
                        (0, 0, {"date": str(date), "amount": amount})
                        for date, amount in installments
                    ],
                },
                context=action["context"],
            )
        return self.env["collection.plan"].browse(plan_id)

    def test_phase_on_the_activity_rows(self):
        move = self._post_invoice(day(0), 900.0)
        self._run(day(1))
        self.assertTrue(move.collection_phase)
        rows = self._rpc(
            self.salesperson,
            "collection.worklist",
            "search_read",
            [("phase", "=", move.collection_phase)],
            ["move_id", "phase"],
        )
        self.assertEqual([row["move_id"][0] for row in rows], move.ids)
        self.assertEqual(rows[0]["phase"], move.collection_phase)
        other = "legal" if move.collection_phase != "legal" else "preventive"
        self.assertFalse(
            self._rpc(
                self.salesperson,
                "collection.worklist",
                "search_count",
                [("phase", "=", other)],
            )
        )
        groups = self._rpc(
            self.salesperson,
            "collection.worklist",
            "read_group",
            [],
            ["phase"],
            ["phase"],
        )
        self.assertEqual(
            [(g["phase"], g["phase_count"]) for g in groups],
            [(move.collection_phase, 1)],
        )
        # the customer's row filters and groups the same way
        self.assertEqual(
            self._rpc(
                self.salesperson,
                "collection.worklist.customer",
                "search_count",
                [("phase", "=", move.collection_phase)],
            ),
            1,
        )

    def test_plan_from_the_activity_and_customer_rows(self):
        overdue = self._post_invoice(day(0), 900.0)
        older = self._post_invoice(day(-5), 300.0)
        not_due = self._post_invoice(day(30), 500.0)
        self._run(day(1))
        rows = self._rows(self.salesperson, domain=[("move_id", "=", overdue.id)])
        self.assertEqual(len(rows), 1)
        with freeze_time(day(2)):
            action = self._rpc(
                self.salesperson,
                "collection.worklist",
                "action_payment_plan",
                [rows[0]["id"]],
            )
        self.assertEqual(action["res_model"], "collection.plan")
        self.assertEqual(action["name"], "Payment Plan: Acme Customer")
        # the customer's overdue invoices, the invoice buttons' prefill
        self.assertEqual(self._prefill(action), overdue | older)
        plan = self._plan_from_action(
            self.salesperson, action, [(day(10), 600.0), (day(20), 600.0)]
        )
        self.assertEqual(plan.state, "open")
        self.assertEqual(plan.partner_id, self.customer)
        self.assertEqual(plan.user_id, self.salesperson)
        self.assertEqual(plan.move_ids, overdue | older)
        self.assertNotIn(not_due, plan.move_ids)

        # the customer's row: its overdue invoices are all in the open plan, which
        # opens (not an empty form)
        customer_rows = self._rows(self.salesperson, "collection.worklist.customer")
        self.assertEqual(len(customer_rows), 1)
        with freeze_time(day(2)):
            action = self._rpc(
                self.salesperson,
                "collection.worklist.customer",
                "action_payment_plan",
                [customer_rows[0]["id"]],
            )
        self.assertEqual((action["res_model"], action["res_id"]), (plan._name, plan.id))
        self.assertNotIn("context", action)
        plan.sudo().action_cancel()
        with freeze_time(day(2)):
            action = self._rpc(
                self.salesperson,
                "collection.worklist.customer",
                "action_payment_plan",
                [customer_rows[0]["id"]],
            )
        self.assertEqual(self._prefill(action), overdue | older)
        # the plan's rules apply as from the invoice: limits are the manager's
        with self._refused(AccessError, "collection manager"):
            self._plan_from_action(
                self.salesperson, action, [(day(10), 600.0), (day(250), 600.0)]
            )
        with self._refused(ValidationError, "add up to"):
            self._plan_from_action(self.salesperson, action, [(day(10), 100.0)])
        self.assertEqual(self.env["collection.plan"].search_count([]), 1)

    def test_salesperson_plans_from_own_rows_only(self):
        mine = self._post_invoice(day(0), 900.0)
        theirs = self._post_invoice(
            day(0), 700.0, partner=self.customer_2, user=self.salesperson_2
        )
        self._run(day(1))
        self.assertFalse(
            self._rows(self.salesperson, domain=[("move_id", "=", theirs.id)])
        )
        their_row = self._rows(self.salesperson_2)[0]
        their_customer_row = self._rows(
            self.salesperson_2, "collection.worklist.customer"
        )[0]
        for model, row in (
            ("collection.worklist", their_row),
            ("collection.worklist.customer", their_customer_row),
        ):
            with self.subTest(model=model), self._refused((AccessError, MissingError)):
                self._rpc(self.salesperson, model, "action_payment_plan", [row["id"]])
        my_row = self._rows(self.salesperson)[0]
        with freeze_time(day(2)):
            action = self._rpc(
                self.salesperson,
                "collection.worklist",
                "action_payment_plan",
                [my_row["id"]],
            )
        self.assertEqual(self._prefill(action), mine)
        self.assertFalse(self.env["collection.plan"].search([]))

    # -------------------------------------------------------------------------
    # Log a Contact, outcome payment plan
    # -------------------------------------------------------------------------

    def _log_plan(self, user, move, installments, note="Two installments agreed"):
        """Log a contact with outcome payment plan from the invoice, through RPC."""
        with freeze_time(day(2)):
            action = self._rpc(
                user, "account.move", "action_collection_log_contact", move.ids
            )
            wizard_id = self._rpc(
                user,
                "collection.contact.wizard",
                "create",
                {
                    "channel": "call",
                    "outcome": "plan",
                    "note": note,
                    "plan_installment_ids": [
                        (0, 0, {"date": str(date), "amount": amount})
                        for date, amount in installments
                    ],
                },
                context=action["context"],
            )
            self._rpc(user, "collection.contact.wizard", "action_log", [wizard_id])

    def _open_activities(self, move):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "account.move"),
                ("res_id", "=", move.id),
                ("collection_stage_id", "!=", False),
            ]
        )

    def test_log_a_contact_with_a_payment_plan(self):
        move = self._post_invoice(day(0), 1000.0)
        self._run(day(1))
        self.assertTrue(self._open_activities(move))
        # entered out of order: the installments are taken in date order
        self._log_plan(self.salesperson, move, [(day(20), 400.0), (day(10), 600.0)])
        contact = self.env["collection.contact"].search([("move_ids", "=", move.id)])
        self.assertEqual(len(contact), 1)
        self.assertEqual(contact.outcome, "plan")
        self.assertEqual(contact.user_id, self.salesperson)
        plan = contact.plan_id
        self.assertEqual(plan.state, "open")
        self.assertEqual(plan.move_ids, move)
        self.assertEqual(plan.user_id, self.salesperson)
        self.assertEqual(plan.note, "Two installments agreed")
        self.assertEqual(
            [(i.date, i.amount) for i in plan.installment_ids],
            [(day(10), 600.0), (day(20), 400.0)],
        )
        self.assertFalse(self._open_activities(move), "the contact closed it")
        bodies = " ".join(move.message_ids.mapped("body"))
        self.assertIn("Payment plan agreed", bodies)
        self.assertIn("Two installments agreed", bodies)
        # the plan pauses the escalation at +7
        self._run(day(8))
        self.assertEqual(move.collection_stage_id, self.stage_overdue)

    def test_log_a_contact_with_bad_installments_writes_nothing(self):
        move = self._post_invoice(day(0), 1000.0)
        self._run(day(1))
        activities = self._open_activities(move)
        messages = len(move.message_ids)
        cases = [
            (ValidationError, [(day(10), 400.0), (day(20), 400.0)], "add up to"),
            (ValidationError, [(day(10), 500.0), (day(10), 500.0)], "one per date"),
            (ValidationError, [(day(1), 1000.0)], "in the past"),
            (ValidationError, [], "needs installments"),
            (AccessError, [(day(10), 500.0), (day(250), 500.0)], "collection manager"),
        ]
        for exception, installments, message in cases:
            with self.subTest(message=message), self._refused(exception, message):
                self._log_plan(self.salesperson, move, installments)
        self.assertFalse(self.env["collection.contact"].search([]))
        self.assertFalse(self.env["collection.plan"].search([]))
        self.assertEqual(self._open_activities(move), activities)
        self.assertEqual(len(move.message_ids), messages)
        # beyond the policy's limits: a collection manager's
        self._log_plan(self.manager, move, [(day(10), 500.0), (day(250), 500.0)])
        contact = self.env["collection.contact"].search([])
        self.assertEqual(contact.user_id, self.manager)
        self.assertEqual(contact.plan_id.state, "open")
