import base64

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, freeze_time, tagged

from .common import DUE, day
from .common_promises import PromiseCommon


@tagged("post_install", "-at_install")
class TestCollectionContact(PromiseCommon):
    def _upload(self, name, content, user=None):
        """A file uploaded in the wizard, as the web client does (no record yet)."""
        return (
            self.env["ir.attachment"]
            .with_user(user or self.salesperson)
            .create(
                {
                    "name": name,
                    "datas": base64.b64encode(content),
                    "res_model": "collection.contact.wizard",
                    "res_id": 0,
                }
            )
        )

    def test_contact_on_two_invoices_posts_on_both_and_closes_activity(self):
        first = self._post_invoice(DUE, amount=400.0)
        second = self._post_invoice(DUE, amount=600.0)
        self._run(day(1))
        activity = self._collection_activities(first)
        self.assertEqual(activity.user_id, self.salesperson)
        receipt = self._upload("call-notes.txt", b"Customer will check with AP")

        contact = self._log_contact(
            first | second,
            on=day(2),
            activity=activity,
            channel="whatsapp",
            outcome="reached",
            note="Spoke to Ann in AP.\nShe will call back.",
            attachment_ids=[(6, 0, receipt.ids)],
        )
        self.assertEqual(contact.move_ids, first | second)
        self.assertEqual(contact.user_id, self.salesperson)
        self.assertEqual(contact.partner_id, self.customer)
        self.assertEqual(contact.channel, "whatsapp")
        self.assertEqual(contact.amount_due, 1000.0)
        self.assertEqual(contact.attachment_ids, receipt)
        self.assertEqual(receipt.res_model, "collection.contact")
        self.assertEqual(receipt.res_id, contact.id)
        for move in first | second:
            posted = self._messages(move, "Spoke to Ann in AP.")
            self.assertEqual(len(posted), 1, move.name)
            self.assertEqual(posted.author_id, self.salesperson.partner_id)
            self.assertIn("WhatsApp", posted.body)
            self.assertEqual(posted.attachment_ids.mapped("name"), ["call-notes.txt"])
            self.assertEqual(posted.attachment_ids.res_id, move.id)
            self.assertEqual(posted.attachment_ids.raw, b"Customer will check with AP")
        self.assertFalse(activity.exists(), "the triggering activity is done")
        self.assertFalse(
            self._collection_activities(first | second),
            "the salesperson's follow-up of the other invoice is answered too",
        )
        done = self._done_collection_messages(first)
        self.assertIn("Contact logged", done[0].body)
        self.assertEqual(
            self.env["collection.contact"].search_count(
                [("move_ids", "in", second.ids)]
            ),
            1,
        )

    def test_contact_does_not_close_someone_elses_activity(self):
        invoice = self._post_invoice(DUE)
        self._run(day(7))
        escalation = self._collection_activities(invoice)
        self.assertEqual(escalation.user_id, self.leader)
        self._log_contact(invoice, on=day(8), outcome="no_answer")
        self.assertTrue(escalation.exists(), "the manager's escalation stays open")

    def test_contact_with_promise(self):
        invoice = self._post_invoice(DUE, amount=1000.0)
        self._run(day(1))
        with freeze_time(day(2)):
            wizard = self._contact_wizard(
                invoice, outcome="promise", promised_date=day(9)
            )
            self.assertEqual(
                wizard.promise_amount, 1000.0, "defaults to the open amount"
            )
            wizard.promise_amount = 700.0
            wizard.action_log()
        promise = invoice.collection_promise_ids
        self.assertEqual(len(promise), 1)
        self.assertEqual(promise.amount, 700.0)
        self.assertEqual(promise.promised_date, day(9))
        self.assertEqual(promise.user_id, self.salesperson)
        contact = promise.contact_id
        self.assertEqual(contact.promise_id, promise)
        self.assertEqual(contact.outcome, "promise")
        posted = self._messages(invoice, "Promise to pay")
        self.assertEqual(len(posted), 1, "one message: the contact, with its promise")
        self.assertIn("700.00", posted.body)
        self._run(day(7))
        self.assertEqual(invoice.collection_stage_id, self.stage_overdue, "paused")

    def test_contact_with_invalid_promise_writes_nothing(self):
        invoice = self._post_invoice(DUE, amount=1000.0)
        self._run(day(1))
        activity = self._collection_activities(invoice)
        messages = invoice.message_ids
        receipt = self._upload("proof.pdf", b"%PDF")
        for label, vals, error in [
            (
                "too much",
                {"promised_date": day(9), "promise_amount": 1500.0},
                ValidationError,
            ),
            (
                "past date",
                {"promised_date": day(1), "promise_amount": 100.0},
                ValidationError,
            ),
            ("no date", {"promise_amount": 100.0}, UserError),
        ]:
            with self.assertRaises(error, msg=label):
                self._log_contact(
                    invoice,
                    on=day(2),
                    outcome="promise",
                    attachment_ids=[(6, 0, receipt.ids)],
                    **vals,
                )
            self.assertFalse(self.env["collection.contact"].search([]), label)
            self.assertFalse(self.env["collection.promise"].search([]), label)
            self.assertEqual(invoice.message_ids, messages, label)
            self.assertTrue(activity.exists(), label)
            self.assertEqual(receipt.res_model, "collection.contact.wizard", label)

    def test_contact_from_customer_covers_open_invoices(self):
        first = self._post_invoice(DUE)
        second = self._post_invoice(DUE)
        paid = self._post_invoice(DUE)
        self._pay(paid, pay_date=day(1))
        self._post_invoice(DUE, partner=self.customer_2)
        action = self.customer.with_user(
            self.salesperson
        ).action_collection_log_contact()
        wizard = (
            self.env["collection.contact.wizard"]
            .with_user(self.salesperson)
            .with_context(**action["context"])
        )
        with Form(wizard) as form:
            self.assertEqual(form.partner_id, self.customer)
            form.channel = "visit"
            form.outcome = "refused"
            form.note = "Will not pay before the audit."
        self.assertEqual(form.record.move_ids, first | second)
        form.record.action_log()
        contact = self.env["collection.contact"].search([])
        self.assertEqual(contact.move_ids, first | second)
        self.assertEqual(self.customer.collection_contact_count, 1)
        self.assertEqual(first.collection_contact_count, 1)
        with self.assertRaisesRegex(UserError, "no open invoice"):
            self.partner_b.action_collection_log_contact()

    def test_contact_rejects_invoices_of_two_customers(self):
        mine = self._post_invoice(DUE)
        theirs = self._post_invoice(DUE, partner=self.customer_2)
        with self.assertRaisesRegex(UserError, "several customers"):
            (mine | theirs).with_user(self.salesperson).action_collection_log_contact()
        paid = self._post_invoice(DUE)
        self._pay(paid, pay_date=day(1))
        with self.assertRaisesRegex(UserError, "open customer invoices"):
            paid.action_collection_log_contact()

    def test_dispute_excludes_invoices(self):
        invoice = self._post_invoice(DUE)
        self._run(day(1))
        self._log_contact(invoice, on=day(2), outcome="dispute", note="Goods damaged")
        self.assertTrue(invoice.collection_excluded)
        self.assertEqual(invoice.collection_exclusion_reason, "dispute")
        self._run(day(8))
        self.assertFalse(self._collection_activities(invoice))

    def test_log_contact_from_activity(self):
        invoice = self._post_invoice(DUE)
        self._run(day(1))
        activity = self._collection_activities(invoice)
        server_action = self.env.ref(
            "account_collections.collection_contact_wizard_action_activity"
        )
        action = (
            server_action.with_user(self.salesperson)
            .with_context(
                active_model="mail.activity",
                active_ids=activity.ids,
                active_id=activity.id,
            )
            .run()
        )
        self.assertEqual(action["res_model"], "collection.contact.wizard")
        wizard = (
            self.env["collection.contact.wizard"]
            .with_user(self.salesperson)
            .with_context(**action["context"])
            .create({"channel": "email", "outcome": "no_answer"})
        )
        self.assertEqual(wizard.activity_id, activity)
        self.assertEqual(wizard.move_ids, invoice)
        with freeze_time(day(2)):
            wizard.action_log()
        self.assertFalse(activity.exists())
