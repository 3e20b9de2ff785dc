from odoo.exceptions import UserError, ValidationError
from odoo.tests import freeze_time, tagged

from .common import DUE, day
from .common_promises import PromiseCommon


@tagged("post_install", "-at_install")
class TestCollectionPromise(PromiseCommon):
    def _escalations(self, moves):
        return self._collection_activities(moves).filtered(
            lambda a: a.collection_stage_id == self.stage_escalation
        )

    def test_promise_pauses_escalation_until_its_date(self):
        promised = self._post_invoice(DUE)
        control = self._post_invoice(DUE)
        self._run(day(1))
        promise = self._promise(promised, day(9))
        self.assertEqual(promise.partner_id, self.customer)
        self.assertEqual(promise.user_id, self.salesperson)
        self.assertIn("Promise to pay recorded", promised.message_ids[0].body)
        self.assertEqual(promised.collection_promise_ids, promise)
        self.assertEqual(promised.collection_promise_date, day(9))
        with freeze_time(day(2)):  # the day the promise is made
            promised.invalidate_recordset(["collection_next_date"])
            self.assertEqual(promised.collection_next_date, day(10), "shown paused")

        self._run(day(7))
        self.assertEqual(control.collection_stage_id, self.stage_escalation)
        self.assertEqual(self._escalations(control).user_id, self.leader)
        self.assertEqual(
            promised.collection_stage_id, self.stage_overdue, "paused at T+7"
        )
        self.assertFalse(self._escalations(promised))

        self._run(day(9))
        self.assertEqual(
            promise.state, "open", "the promised day itself is still paused"
        )
        self.assertEqual(promised.collection_stage_id, self.stage_overdue)

    def test_broken_when_unpaid_activity_and_escalation_resumes(self):
        invoice = self._post_invoice(DUE)
        self._run(day(1))
        promise = self._promise(invoice, day(9))
        self._run(day(9))
        self.assertFalse(self._broken_activities(invoice))

        self._run(day(10))
        self.assertEqual(promise.state, "broken")
        self.assertEqual(promise.date_closed, day(10))
        broken = self._broken_activities(invoice)
        self.assertEqual(len(broken), 1)
        self.assertEqual(broken.user_id, self.salesperson)
        self.assertEqual(broken.collection_promise_id, promise)
        self.assertTrue(self._messages(invoice, "broken"), "posted in the chatter")
        self.assertEqual(invoice.collection_stage_id, self.stage_escalation)
        self.assertEqual(self._escalations(invoice).user_id, self.leader)
        self.assertEqual(self.customer.collection_promise_broken_count, 1)
        self.assertEqual(self.customer.collection_reliability, 0)

        self._run(day(11))
        self.assertEqual(len(self._broken_activities(invoice)), 1, "judged once")

    def test_kept_by_payment_split_in_two_before_date(self):
        invoice = self._post_invoice(DUE, amount=1000.0)
        self._run(day(1))
        promise = self._promise(invoice, day(10), amount=600.0)
        self._pay(invoice, 300.0, day(4))
        self._pay(invoice, 300.0, day(6))
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(promise.state, "open", "judged on its date, not before")
        self.assertEqual(promise.amount_paid, 600.0)

        self._run(day(10))
        self.assertEqual(promise.state, "open")
        self.assertFalse(self._escalations(invoice))

        self._run(day(11))
        self.assertEqual(promise.state, "kept")
        self.assertTrue(self._messages(invoice, "kept"))
        self.assertFalse(self._broken_activities(invoice))
        self.assertEqual(
            invoice.collection_stage_id,
            self.stage_escalation,
            "the rest is followed again",
        )
        self.assertEqual(self.customer.collection_promise_kept_count, 1)
        self.assertEqual(self.customer.collection_reliability, 100)

    def test_kept_at_once_when_invoices_fully_paid(self):
        first = self._post_invoice(DUE, amount=400.0)
        second = self._post_invoice(DUE, amount=600.0)
        self._run(day(1))
        promise = self._promise(first | second, day(20))
        self.assertEqual(promise.amount, 1000.0, "defaults to the open amount")
        with freeze_time(day(5)):
            self._pay(first, pay_date=day(5))
            self.assertEqual(promise.state, "open", "one invoice still open")
            self._pay(second, pay_date=day(5))
        self.assertEqual(promise.state, "kept")
        self.assertEqual(promise.date_closed, day(5))
        self.assertTrue(self._messages(second, "kept: the invoices are paid"))

    def test_partial_payment_below_promised_amount_is_broken(self):
        invoice = self._post_invoice(DUE, amount=1000.0)
        self._run(day(1))
        promise = self._promise(invoice, day(10), amount=600.0)
        self._pay(invoice, 200.0, day(5))
        self._run(day(11))
        self.assertEqual(promise.state, "broken")
        self.assertEqual(promise.amount_paid, 200.0)
        self.assertTrue(self._broken_activities(invoice))
        message = self._messages(invoice, "broken")
        self.assertIn("200.00", message[0].body)

    def test_payment_outside_the_promise_window_does_not_count(self):
        invoice = self._post_invoice(DUE, amount=1000.0)
        self._run(day(1))
        self._pay(invoice, 500.0, day(1))
        promise = self._promise(invoice, day(10), amount=300.0, on=day(2))
        self._pay(invoice, 300.0, day(12))  # paid, but after the promised date
        self._run(day(12))
        self.assertEqual(promise.state, "broken")
        self.assertEqual(promise.amount_paid, 0.0)

    def test_credit_note_is_not_a_payment(self):
        invoice = self._post_invoice(DUE, amount=1000.0)
        self._run(day(1))
        promise = self._promise(invoice, day(10), amount=500.0)
        refund = self._post_invoice(DUE, amount=500.0, move_type="out_refund")
        (refund | invoice).line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        ).reconcile()
        self.assertEqual(invoice.payment_state, "partial")
        self._run(day(11))
        self.assertEqual(promise.state, "broken")

    def test_cancelling_promise_resumes_process(self):
        invoice = self._post_invoice(DUE)
        self._run(day(1))
        promise = self._promise(invoice, day(20))
        self._run(day(7))
        self.assertFalse(self._escalations(invoice))
        with freeze_time(day(8)):
            promise.with_user(self.salesperson).action_cancel()
        self.assertEqual(promise.state, "cancelled")
        self.assertTrue(self._messages(invoice, "cancelled by Sam Seller"))
        self._run(day(8))
        self.assertEqual(invoice.collection_stage_id, self.stage_escalation)
        with self.assertRaises(UserError):
            promise.action_cancel()
        self._run(day(21))
        self.assertEqual(
            promise.state, "cancelled", "a cancelled promise is not judged"
        )
        self.assertFalse(self._broken_activities(invoice))

    def test_promise_validation(self):
        invoice = self._post_invoice(DUE, amount=1000.0)
        other_customer = self._post_invoice(DUE, partner=self.customer_2)
        company_b = self.setup_other_company(name="Company B")["company"]
        other_company = self._post_invoice(DUE, company=company_b)
        paid = self._post_invoice(DUE)
        self._pay(paid, pay_date=day(1))
        draft = self._post_invoice(DUE)
        draft.button_draft()
        eur = self.setup_other_currency("EUR")
        foreign = self._post_invoice(DUE, currency=eur)
        self._promise(
            self._post_invoice(DUE), day(9)
        )  # an invoice with an open promise
        taken = self.env["collection.promise"].search([]).move_ids

        cases = [
            ("amount zero", invoice, day(9), 0.0, "greater than zero"),
            ("negative amount", invoice, day(9), -10.0, "greater than zero"),
            (
                "above open amount",
                invoice,
                day(9),
                1000.01,
                "more than the open amount",
            ),
            ("another customer", invoice | other_customer, day(9), 10.0, "Globex"),
            ("another company", invoice | other_company, day(9), 10.0, "company"),
            ("paid invoice", paid, day(9), 10.0, "nothing left to pay"),
            ("draft invoice", draft, day(9), 10.0, "not posted"),
            ("date in the past", invoice, day(1), 10.0, "in the past"),
            ("two currencies", invoice | foreign, day(9), 10.0, "one currency"),
            ("already promised", taken, day(9), 10.0, "already has an open promise"),
        ]
        promise_count = self.env["collection.promise"].search_count([])
        messages = invoice.message_ids
        for label, moves, promised_date, amount, message in cases:
            # assertRaises rolls back to a savepoint, as a failed request would
            with self.assertRaises(ValidationError, msg=label) as error:
                self._promise(moves, promised_date, amount=amount, user=self.env.user)
            self.assertIn(message, str(error.exception), label)
            self.assertEqual(
                self.env["collection.promise"].search_count([]), promise_count, label
            )
            self.assertEqual(invoice.message_ids, messages, label)
        # the open amount itself is fine, and today is fine
        promise = self._promise(invoice, day(2), amount=1000.0, on=day(2))
        self.assertEqual(promise.state, "open")
        self.assertEqual(promise.move_ids, invoice)

    def test_broken_promise_activity_closed_by_payment_not_by_next_stage(self):
        invoice = self._post_invoice(DUE)
        self._run(day(1))
        self._promise(invoice, day(3))
        self._run(day(4))
        broken = self._broken_activities(invoice)
        self.assertTrue(broken)
        self._run(day(7))  # the escalation does not supersede it
        self.assertTrue(broken.exists())
        self._pay(invoice, pay_date=day(8))
        self.assertFalse(broken.exists(), "payment closes every collection activity")

    def test_judged_promises_cannot_be_deleted(self):
        invoice = self._post_invoice(DUE)
        promise = self._promise(invoice, day(3))
        self._run(day(4))
        self.assertEqual(promise.state, "broken")
        with self.assertRaises(UserError):
            promise.unlink()

    def test_payment_by_user_without_collection_access_keeps_promise(self):
        """An accountant outside the collection groups registers the payment: the
        promise is still judged kept."""
        billing = self._create_collection_user(
            "billing",
            "Bill Clerk",
            groups=["base.group_user", "account.group_account_invoice"],
        )
        invoice = self._post_invoice(DUE)
        self._run(day(1))
        promise = self._promise(invoice, day(9))
        with freeze_time(day(4)):
            self.env["account.payment.register"].with_user(billing).with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({"payment_date": day(4)})._create_payments()
        self.assertEqual(promise.state, "kept")
        self.assertFalse(self._collection_activities(invoice))
