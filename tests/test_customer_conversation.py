from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import DUE, CollectionCommon, day

# the daily run logs from its service models and their shared helpers
ENGINE_LOGGER = "odoo.addons.account_collections.models"


@tagged("post_install", "-at_install")
class TestCustomerConversation(CollectionCommon):
    """One collection email per customer and run, a minimum interval between two,
    none while the customer's money waits to be reconciled."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.overdue_template = cls.env.ref(
            "account_collections.mail_template_collection_overdue"
        )
        cls.accountant = cls._create_collection_user(
            "accountant",
            "Ada Accountant",
            groups=[
                "base.group_user",
                "account.group_account_invoice",
                "account_collections.group_collection_manager",
            ],
        )

    def _emails_to(self, customer):
        """The collection emails posted to ``customer`` (on any invoice)."""
        return self.env["mail.message"].search(
            [
                ("model", "=", "account.move"),
                ("message_type", "=", "comment"),
                ("partner_ids", "in", customer.ids),
            ]
        )

    def _outgoing(self, message):
        return (
            self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)])
        )

    def test_one_email_per_customer_then_the_interval(self):
        overdue = [self._post_invoice(DUE, amount=100.0 * (i + 1)) for i in range(3)]
        soon = [self._post_invoice(day(6), amount=50.0 * (i + 1)) for i in range(2)]
        other = self._post_invoice(DUE, amount=777.0, partner=self.customer_2)
        moves = self.env["account.move"].concat(*overdue, *soon)
        self._run_with_statements(day(1))
        self.assertEqual(
            {m.collection_stage_id for m in moves},
            {self.stage_overdue, self.stage_reminder},
        )
        email = self._emails_to(self.customer)
        self.assertEqual(len(email), 1, "one email for the five invoices")
        self.assertIn(email.res_id, [m.id for m in overdue], "posted on an overdue one")
        lead = self.env["account.move"].browse(email.res_id)
        self.assertEqual(
            email.subject, f"{self.company.name}: invoice {lead.name} is overdue"
        )
        for move in moves:
            self.assertIn(move.name, email.body)
        self.assertNotIn(other.name, email.body)
        self.assertIn("750.00", email.body, "the total due")
        # the statement is attached
        self.assertEqual(len(email.attachment_ids), 1)
        self.assertIn("Statement of Account", email.attachment_ids.raw.decode())
        self.assertIn(lead.name, email.attachment_ids.raw.decode())
        mail = self._outgoing(email)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.customer)
        self.assertEqual(mail.attachment_ids, email.attachment_ids)
        self.assertEqual(email.attachment_ids.res_id, lead.id)
        self.assertFalse(
            lead.message_main_attachment_id, "the statement is not the invoice's PDF"
        )
        # every invoice of the email says so in its chatter, with a link
        for move in moves - lead:
            note = move.message_ids.filtered(
                lambda m: "part of the collection email" in (m.body or "")
            )
            self.assertEqual(len(note), 1, move.name)
            self.assertIn(f'data-oe-id="{lead.id}"', note.body)
            self.assertFalse(move.collection_mail_stage_id)
            self.assertEqual(move.collection_mail_date, day(1))
        # Globex got its own
        self.assertEqual(len(self._emails_to(self.customer_2)), 1)

        # the next day, inside the interval: nothing
        self._run(day(2))
        self.assertEqual(len(self._emails_to(self.customer)), 1)
        # a new invoice reaches its reminder the day after: held until day 4
        late = self._post_invoice(day(7), amount=40.0)
        self._run(day(2))
        self.assertEqual(late.collection_stage_id, self.stage_reminder)
        self.assertEqual(len(self._emails_to(self.customer)), 1)
        held = late.message_ids.filtered(lambda m: "was held" in (m.body or ""))
        self.assertEqual(len(held), 1)
        self.assertIn("leaves at least 3 days", held.body)
        self.assertEqual(late.collection_mail_held, "interval")
        self._run(day(3))
        self.assertEqual(len(self._emails_to(self.customer)), 1)
        self.assertEqual(
            len(late.message_ids.filtered(lambda m: "was held" in (m.body or ""))),
            1,
            "said once",
        )
        self._run(day(4))
        emails = self._emails_to(self.customer)
        self.assertEqual(len(emails), 2, "sent when the interval ends")
        second = emails.sorted("id")[-1]
        self.assertEqual(second.res_id, late.id)
        self.assertIn("friendly reminder", second.body)
        # the held invoice first, then the other open ones
        self.assertLess(second.body.index(late.name), second.body.index(lead.name))
        self.assertFalse(late.collection_mail_stage_id)

    def test_no_interval(self):
        self.policy.mail_interval_days = 0
        first = self._post_invoice(DUE, amount=100.0)
        self._run(day(1))
        self._post_invoice(day(1), amount=200.0)
        self._run(day(2))
        self.assertEqual(len(self._emails_to(self.customer)), 2, "the next day")
        self._post_invoice(day(7), amount=300.0)
        self._run(day(2))
        self.assertEqual(len(self._emails_to(self.customer)), 3, "and the same day")
        self.assertTrue(first)

    def test_interval_is_a_policy_setting(self):
        self.assertEqual(self.policy.mail_interval_days, 3)
        with self.assertRaises(ValidationError):
            self.policy.mail_interval_days = -1

    def test_unmatched_payment_holds_the_email_and_asks_to_reconcile(self):
        self.company.collection_manager_id = self.accountant
        invoice = self._post_invoice(DUE, amount=500.0, partner=self.customer_2)
        small = self._post_invoice(DUE, amount=500.0)
        for partner, amount in ((self.customer_2, 600.0), (self.customer, 100.0)):
            payment = self.env["account.payment"].create(
                {
                    "amount": amount,
                    "date": day(-2),
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": partner.id,
                }
            )
            payment.action_post()
        self._run(day(1))
        # the stage still happens
        self.assertEqual(invoice.collection_stage_id, self.stage_overdue)
        self.assertEqual(self._collection_activities(invoice).user_id, self.salesperson)
        self.assertFalse(self._emails_to(self.customer_2), "no email")
        note = invoice.message_ids.filtered(lambda m: "was held" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn("600.00", note.body)
        self.assertIn("Ada Accountant", note.body)
        reconcile = self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", self.customer_2.id)]
        )
        self.assertEqual(len(reconcile), 1)
        self.assertEqual(reconcile.user_id, self.accountant)
        self.assertIn("600.00", reconcile.summary)
        self.assertIn("500.00", reconcile.note)
        # the money that does not cover the debt does not hold the email
        self.assertEqual(len(self._emails_to(self.customer)), 1)
        self.assertTrue(small)
        # the next days: still held, one activity
        self._run(day(2))
        self._run(day(5))
        self.assertFalse(self._emails_to(self.customer_2))
        self.assertEqual(
            self.env["mail.activity"].search_count(
                [("res_model", "=", "res.partner"), ("res_id", "=", self.customer_2.id)]
            ),
            1,
        )

    def test_salesperson_asked_to_reconcile_without_manager(self):
        self.company.collection_manager_id = False
        self._post_invoice(DUE, amount=300.0)
        payment = self.env["account.payment"].create(
            {
                "amount": 300.0,
                "date": day(-2),
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
            }
        )
        payment.action_post()
        self._run(day(1))
        reconcile = self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
        )
        self.assertEqual(reconcile.user_id, self.salesperson)
        self.assertFalse(self._emails_to(self.customer))

    def test_customer_without_email_then_fixed(self):
        self.customer.email = False
        invoice = self._post_invoice(DUE, amount=300.0)
        healthy = self._post_invoice(DUE, amount=200.0, partner=self.customer_2)
        self._run(day(1))
        self.assertEqual(len(self._emails_to(self.customer_2)), 1, "the others")
        self.assertEqual(invoice.collection_mail_held, "no_email")
        self.assertEqual(
            len(
                invoice.message_ids.filtered(lambda m: "was not sent" in (m.body or ""))
            ),
            1,
        )
        self._run(day(2))
        self.assertEqual(
            len(
                invoice.message_ids.filtered(lambda m: "was not sent" in (m.body or ""))
            ),
            1,
            "said once",
        )
        self.customer.email = "ap@acme.example"
        self._run(day(3))
        self.assertEqual(len(self._emails_to(self.customer)), 1, "retried")
        self.assertTrue(healthy)

    def test_template_failure_is_logged_and_retried_the_next_day(self):
        self._stage_template(
            "Notice with reference",
            "Overdue: {{ object.name }} ({{ object.partner_id.ref.upper() }})",
            self.stage_overdue,
        )
        self.customer_2.ref = "GLX"
        broken = self._post_invoice(DUE, amount=300.0)
        healthy = self._post_invoice(DUE, amount=200.0, partner=self.customer_2)
        with self.assertLogs(ENGINE_LOGGER, "WARNING") as logs:
            self._run(day(1))
        self.assertEqual(len(logs.output), 1)
        self.assertIn(broken.name, logs.output[0])
        self.assertEqual(broken.collection_stage_id, self.stage_overdue, "stage done")
        self.assertTrue(self._collection_activities(broken))
        self.assertFalse(self._emails_to(self.customer))
        self.assertIn("could not be sent", broken.message_ids[0].body)
        self.assertEqual(len(self._emails_to(self.customer_2)), 1)
        self._run(day(1))  # not again the same day
        self.customer.ref = "ACM"
        self._run(day(2))
        email = self._emails_to(self.customer)
        self.assertEqual(len(email), 1)
        self.assertIn("(ACM)", email.subject)
        self.assertTrue(healthy)

    def test_manual_sending_from_the_invoice_still_works(self):
        invoice = self._post_invoice(DUE, amount=300.0)
        self._run(day(1))
        self.assertEqual(len(self._emails_to(self.customer)), 1)
        # inside the interval, the salesperson sends the invoice by hand
        wizard = (
            self.env["account.move.send.wizard"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({})
        )
        wizard.action_send_and_print()
        self.assertEqual(len(self._emails_to(self.customer)), 2)
        # and the run's interval is the run's: the manual email does not count
        self.assertEqual(invoice.collection_mail_date, day(1))
