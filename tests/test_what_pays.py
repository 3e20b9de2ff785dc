"""What pays an invoice: one rule (collection.receivable's
``_collection_payments_sql`` and ``_collection_commitment_verdict``) for the
promises to pay and the payment plans. Money pays; a credit note does not pay
but reduces what is owed; an invoice reversed in full was paid by nobody, and
the promise or plan on it is cancelled, never kept."""

from odoo.tests import freeze_time, tagged
from odoo.tools import SQL

from .common import DUE, day
from .common_rpc import RpcCommon


@tagged("post_install", "-at_install")
class TestWhatPays(RpcCommon):
    def _plan(self, moves, installments, on=None):
        """Record a plan on ``moves`` with ``installments`` [(date, amount)] as
        the salesperson through RPC on day ``on``."""
        with freeze_time(on or day(1)):
            plan_id = self._rpc(
                self.salesperson,
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

    def _credit(self, invoice, amount, on):
        """A credit note of ``amount`` on day ``on``, matched with ``invoice``."""
        with freeze_time(on):
            refund = self._post_invoice(
                on, amount=amount, move_type="out_refund", invoice_date=on
            )
            (refund | invoice).line_ids.filtered(
                lambda line: line.account_type == "asset_receivable"
            ).reconcile()
        return refund

    def _reverse(self, invoice, on):
        """Reverse ``invoice`` in full on day ``on`` (Add Credit Note, posted)."""
        with freeze_time(on):
            wizard = (
                self.env["account.move.reversal"]
                .with_context(active_model="account.move", active_ids=invoice.ids)
                .create({"journal_id": invoice.journal_id.id, "date": on})
            )
            wizard.refund_moves()
            credit_note = self.env["account.move"].search(
                [("reversed_entry_id", "=", invoice.id)]
            )
            credit_note.action_post()  # matches the credit note with the invoice
        self.assertEqual(invoice.payment_state, "reversed")
        return credit_note

    def test_sql_and_python_say_the_same_payments(self):
        """The SQL form (the judges' queries) and the Python form of what paid
        an invoice agree: payments count, credit notes and reversals do not."""
        paid = self._post_invoice(DUE, amount=1000.0)
        self._pay(paid, 300.0, day(2))
        self._pay(paid, 200.0, day(4))
        credited = self._post_invoice(DUE, amount=1000.0)
        self._credit(credited, 400.0, day(3))
        self._pay(credited, 100.0, day(5))
        reversed_ = self._post_invoice(DUE, amount=1000.0)
        self._reverse(reversed_, day(6))
        untouched = self._post_invoice(DUE, amount=1000.0)
        moves = paid | credited | reversed_ | untouched
        receivable = self.env["collection.receivable"]
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                "SELECT move_id, date, amount FROM (%s) pay WHERE move_id = ANY(%s)",
                receivable._collection_payments_sql(),
                moves.ids,
            )
        )
        in_sql = sorted((move_id, date, amount) for move_id, date, amount in rows)
        in_python = sorted(
            (move.id, date, amount)
            for move, date, amount in receivable._collection_payments(moves)
        )
        self.assertEqual(in_sql, in_python)
        self.assertEqual(
            in_sql,
            [
                (paid.id, day(2), 300.0),
                (paid.id, day(4), 200.0),
                (credited.id, day(5), 100.0),
            ],
            "the payments, not the credit notes",
        )

    def test_credit_note_of_the_promised_amount_pays_neither(self):
        """A credit note of the promised amount before the promised date is not a
        payment: the promise is broken and the plan's installment is late, then
        the plan broken, each with nothing paid."""
        promised = self._post_invoice(DUE, amount=1000.0)
        planned = self._post_invoice(DUE, amount=1000.0)
        self._run(day(1))
        promise = self._promise(promised, day(10), amount=500.0, on=day(2))
        plan = self._plan(planned, [(day(10), 500.0), (day(20), 500.0)], on=day(2))
        self._credit(promised, 500.0, day(5))
        self._credit(planned, 500.0, day(5))

        self._run(day(11))
        self.assertEqual(promise.state, "broken")
        self.assertEqual(promise.amount_paid, 0.0)
        first = plan.installment_ids.sorted("sequence")[0]
        self.assertEqual((first.state, first.amount_paid), ("late", 0.0))
        self.assertEqual(plan.state, "open", "within the grace period")
        self.assertEqual(plan.amount_paid, 0.0)
        self._run(day(14))
        self.assertEqual(plan.state, "broken")
        self.assertEqual(plan.amount_paid, 0.0)

    def test_credit_note_reduces_what_is_owed(self):
        """A credit note reduces what is owed: paying the rest by the date keeps
        the promise of the full amount and the plan, with what was paid, not
        what was credited."""
        promised = self._post_invoice(DUE, amount=1000.0)
        planned = self._post_invoice(DUE, amount=1000.0)
        self._run(day(1))
        promise = self._promise(promised, day(10), on=day(2))
        self.assertEqual(promise.amount, 1000.0)
        plan = self._plan(planned, [(day(10), 500.0), (day(20), 500.0)], on=day(2))
        for invoice in promised | planned:
            self._credit(invoice, 500.0, day(5))
        self._run(day(6))
        self.assertEqual(promise.state, "open", "the credit note paid nothing")
        self.assertEqual(plan.state, "open")
        self.assertEqual(plan.installment_ids.mapped("amount_paid"), [0.0, 0.0])
        with freeze_time(day(8)):
            self._pay(promised, pay_date=day(8))
            self._pay(planned, pay_date=day(8))
        self.assertEqual(promise.state, "kept", "nothing is owed any more")
        self.assertEqual(promise.amount_paid, 500.0)
        self._run(day(9))
        self.assertEqual(plan.state, "kept")
        self.assertEqual(plan.amount_paid, 500.0)
        self.assertEqual(plan.installment_ids.mapped("state"), ["paid", "paid"])
        self.assertEqual(plan.installment_ids.mapped("amount_paid"), [500.0, 0.0])

    def test_invoice_reversed_in_full_cancels_promise_and_plan(self):
        """An invoice reversed in full is not paid: its promise and its plan are
        cancelled, neither is kept with an amount nobody paid."""
        promised = self._post_invoice(DUE, amount=1000.0)
        planned = self._post_invoice(DUE, amount=600.0)
        planned_2 = self._post_invoice(DUE, amount=400.0)
        self._run(day(1))
        promise = self._promise(promised, day(10), on=day(2))
        plan = self._plan(
            planned | planned_2, [(day(10), 500.0), (day(20), 500.0)], on=day(2)
        )
        self._reverse(promised, day(5))
        self.assertEqual(promise.state, "cancelled", "at once")
        self.assertEqual(promise.amount_paid, 0.0)
        self._reverse(planned, day(5))
        self._run(day(6))
        self.assertEqual(plan.state, "open", "one invoice is still owed")
        self._reverse(planned_2, day(7))
        self._run(day(8))
        self.assertEqual(plan.state, "cancelled")
        self.assertEqual(plan.date_closed, day(8))
        self.assertEqual(plan.amount_paid, 0.0)
        self.assertTrue(
            planned.message_ids.filtered(
                lambda m: "reversed by credit notes" in (m.body or "")
            )
        )
        self.assertFalse(
            planned.message_ids.filtered(
                lambda m: "Payment plan kept" in (m.body or "")
            )
        )
