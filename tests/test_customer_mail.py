import re
from urllib.parse import unquote

from freezegun import freeze_time

from odoo.tests import tagged

from .common import DUE, CollectionCommon, day


@tagged("post_install", "-at_install")
class TestCollectionCustomerMail(CollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"email": "billing@company.example", "phone": "+1 555 0100"})
        cls.salesperson.signature = "<p>Sam Seller, Account Executive</p>"

    def _outgoing(self, message):
        return (
            self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)])
        )

    def test_default_policy_writes_at_pre_due_overdue_and_final_stages(self):
        templates = {
            stage.day_offset: stage.mail_template_id for stage in self.policy.stage_ids
        }
        self.assertEqual(
            templates,
            {
                -5: self.env.ref(
                    "account_collections.mail_template_collection_reminder"
                ),
                1: self.env.ref("account_collections.mail_template_collection_overdue"),
                7: self.env["mail.template"],
                30: self.env.ref("account_collections.mail_template_collection_final"),
            },
        )

    def test_overdue_notice_lists_open_invoices_with_portal_links(self):
        older = self._post_invoice(day(-20), amount=300.0)
        invoice = self._post_invoice(DUE, amount=1000.0)
        other_customer = self._post_invoice(DUE, amount=777.0, partner=self.customer_2)
        paid = self._post_invoice(day(-10), amount=450.0)
        self._pay(paid)
        self._run(day(1))

        message = invoice.message_ids.filtered(
            lambda m: (
                m.subject == f"{self.company.name}: invoice {invoice.name} is overdue"
            )
        )
        self.assertEqual(len(message), 1)
        self.assertEqual(message.partner_ids, self.customer)
        self.assertEqual(message.author_id, self.salesperson.partner_id)
        body = message.body
        self.assertIn(older.name, body)
        self.assertIn(invoice.name, body)
        self.assertNotIn(paid.name, body, "paid invoices are not listed")
        self.assertNotIn(other_customer.name, body, "only this customer's invoices")
        self.assertIn("1,000.00", body)
        self.assertIn("1,300.00", body, "the total due")
        self.assertIn(invoice.get_portal_url(), body)
        self.assertIn(older.get_portal_url(), body)
        self.assertIn(
            "Sam Seller, Account Executive", body, "the salesperson's signature"
        )
        self.assertIn("billing@company.example", body, "the company's signature")
        # the chatter keeps the stage note, under the email sent after the stages
        self.assertIn("Overdue follow-up", invoice.message_ids[1].body)

        mail = self._outgoing(message)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.customer)
        self.assertEqual(mail.email_cc, self.salesperson.email_formatted)
        self.assertIn(
            "View Invoice", mail.body_html, "the layout's button names the invoice"
        )

    def test_large_debtor_email_lists_the_first_invoices_and_counts_the_rest(self):
        """A customer with 24 open invoices: the email lists the 20 due first and
        this one, says how many more there are, and the total covers them all."""
        older = [
            self._post_invoice(day(-60 + offset), amount=100.0) for offset in range(22)
        ]
        later = self._post_invoice(day(10), amount=100.0)
        invoice = self._post_invoice(DUE, amount=1000.0)
        self._run(day(1))
        message = invoice.message_ids.filtered(
            lambda m: (
                m.subject == f"{self.company.name}: invoice {invoice.name} is overdue"
            )
        )
        self.assertEqual(len(message), 1)
        body = message.body
        for listed in older[:19]:
            self.assertIn(listed.get_portal_url(), body)
        self.assertIn(invoice.get_portal_url(), body, "the invoice itself is listed")
        for unlisted in older[19:] + [later]:
            self.assertNotIn(unlisted.get_portal_url(), body)
        self.assertIn("and 4 more open invoices", body)
        self.assertIn("3,300.00", body, "the total covers every open invoice")

    def test_reminder_and_final_notice(self):
        invoice = self._post_invoice(DUE, amount=640.0)
        self._run(day(-5))
        reminder = invoice.message_ids.filtered(
            lambda m: (
                m.subject
                == f"{self.company.name}: invoice {invoice.name} is due on 03/16/2026"
            )
        )
        self.assertEqual(len(reminder), 1)
        self.assertIn("friendly reminder", reminder.body)
        self._run(day(30))
        final = invoice.message_ids.filtered(
            lambda m: (
                m.subject
                == f"{self.company.name}: final notice for invoice {invoice.name}"
            )
        )
        self.assertEqual(len(final), 1)
        self.assertIn("30 days overdue", final.body)
        self.assertEqual(final.partner_ids, self.customer)

    def test_recipient_is_billing_contact_then_collection_contact_then_customer(self):
        company = self.env["res.partner"].create(
            {"name": "Initech", "is_company": True, "email": "info@initech.example"}
        )
        billing = self.env["res.partner"].create(
            {
                "name": "Bill Lumbergh",
                "parent_id": company.id,
                "type": "invoice",
                "email": "bill@initech.example",
            }
        )
        treasurer = self.env["res.partner"].create(
            {
                "name": "Tess Treasurer",
                "parent_id": company.id,
                "email": "tess@initech.example",
                "collection_mail_contact": True,
            }
        )
        to_billing = self._post_invoice(DUE, partner=billing)
        to_treasurer = self._post_invoice(DUE, partner=company)
        self.assertEqual(to_billing.collection_mail_partner_id, billing)
        self.assertEqual(to_treasurer.collection_mail_partner_id, treasurer)
        treasurer.collection_mail_contact = False
        to_treasurer.invalidate_recordset(["collection_mail_partner_id"])
        self.assertEqual(to_treasurer.collection_mail_partner_id, company)
        treasurer.collection_mail_contact = True
        to_treasurer.invalidate_recordset(["collection_mail_partner_id"])

        self._run(day(1))
        for invoice, recipient in ((to_billing, billing), (to_treasurer, treasurer)):
            sent = invoice.message_ids.filtered(
                lambda m, i=invoice: (
                    m.subject and f"invoice {i.name} is overdue" in m.subject
                )
            )
            self.assertEqual(sent.partner_ids, recipient)
            self.assertIn(f"Dear {recipient.name}", sent.body)

    def test_customer_without_email_gets_note_and_salesperson_activity(self):
        nomail = self.env["res.partner"].create(
            {"name": "Nomail Corp", "is_company": True}
        )
        invoice = self._post_invoice(DUE, partner=nomail)
        self.assertFalse(invoice.collection_mail_partner_id)
        mails_before = self.env["mail.mail"].search([])
        self._run(day(1))

        self.assertEqual(invoice.collection_stage_id, self.stage_overdue)
        self.assertFalse(
            invoice.message_ids.filtered(lambda m: m.message_type == "comment"),
            "no email posted",
        )
        note = invoice.message_ids.filtered(lambda m: "was not sent" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn("Nomail Corp", note.body)
        todo = self._collection_activities(invoice).filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_todo")
        )
        self.assertEqual(todo.user_id, self.salesperson)
        self.assertIn("Add an email address for Nomail Corp", todo.summary)
        new_mails = self.env["mail.mail"].search([]) - mails_before
        self.assertFalse(
            new_mails.filtered(
                lambda m: m.email_to or m.recipient_ids - self.salesperson.partner_id
            ),
            "nothing but the salesperson's digest",
        )
        digest = new_mails.filtered(
            lambda m: self.salesperson.partner_id in m.recipient_ids
        )
        self.assertIn("Add an email address for Nomail Corp", digest.body_html)

    def test_partner_smart_button_counts_invoices_in_collection(self):
        contact = self.env["res.partner"].create(
            {"name": "Wile E.", "parent_id": self.customer.id}
        )
        self._post_invoice(DUE)
        self._post_invoice(DUE, partner=contact)
        paid = self._post_invoice(DUE)
        self._pay(paid)
        self.assertEqual(self.customer.collection_invoice_count, 2)
        self.assertEqual(contact.collection_invoice_count, 2)
        action = contact.action_view_collection_invoices()
        invoices = self.env["account.move"].search(action["domain"])
        self.assertEqual(len(invoices), 2)
        self.assertNotIn(paid, invoices)

    def test_no_stale_email_when_an_old_invoice_enters_collection(self):
        """Going live with old open invoices: the run gives them their stage's
        activity, but does not send their customers stale notices."""
        old = self._post_invoice(day(-60), amount=800.0)
        mails_before = self.env["mail.mail"].search([])
        self._run(day(1))
        self.assertEqual(old.collection_stage_id, self.stage_final)
        self.assertTrue(self._collection_activities(old))
        self.assertFalse(
            old.message_ids.filtered(lambda m: m.message_type == "comment"),
            "no final notice for an invoice that enters the process 31 days late",
        )
        # one note per customer (a go-live over a backlog writes thousands
        # otherwise), naming the invoice and how late it entered
        self.assertFalse(
            old.message_ids.filtered(lambda m: "was not sent" in (m.body or ""))
        )
        note = self.customer.message_ids.filtered(
            lambda m: "was not sent" in (m.body or "")
        )
        self.assertEqual(len(note), 1)
        self.assertIn("entered the collection process more than 7 days", note.body)
        self.assertIn(old.name, note.body)
        self.assertIn("31 days after the stage's date", note.body)
        self.assertEqual(old.collection_mail_held, "late")
        self.assertFalse(old.collection_mail_stage_id, "owes no email")
        # a re-run the same day says it once
        self._run(day(1))
        self.assertEqual(
            len(
                self.customer.message_ids.filtered(
                    lambda m: "was not sent" in (m.body or "")
                )
            ),
            1,
        )
        new_mails = self.env["mail.mail"].search([]) - mails_before
        self.assertFalse(new_mails.filtered(lambda m: self.customer in m.recipient_ids))

    def test_stale_emails_of_many_batches_make_one_note_per_customer(self):
        """A go-live run processes the old invoices in several batches: their
        customer gets one note listing them all, not one per batch or invoice."""
        old = self.env["account.move"]
        for amount in (100.0, 200.0, 300.0, 400.0, 500.0):
            old |= self._post_invoice(day(-60), amount=amount)
        with freeze_time(day(1)):
            # the scheduler's calls, 2 invoices each (and more calls than needed)
            for _call in range(5):
                self.env["account.move"]._cron_collection_run(batch_size=2)
        self.assertEqual(set(old.mapped("collection_mail_held")), {"late"})
        notes = self.customer.message_ids.filtered(
            lambda m: "was not sent" in (m.body or "")
        )
        self.assertEqual(len(notes), 1)
        for invoice in old:
            self.assertIn(invoice.name, notes.body)

    def test_stage_reached_late_on_a_followed_invoice_still_writes(self):
        """An invoice already in the process (a missed run, a broken promise) still
        gets the email of the stage it reaches late."""
        invoice = self._post_invoice(DUE, amount=500.0)
        self._run(day(1))
        self._run(day(45))
        self.assertEqual(invoice.collection_stage_id, self.stage_final)
        final = invoice.message_ids.filtered(
            lambda m: (
                m.subject
                == f"{self.company.name}: final notice for invoice {invoice.name}"
            )
        )
        self.assertEqual(len(final), 1)

    def test_batch_of_customers_each_get_their_own_email(self):
        """One email per customer, whatever the salesperson of each invoice: the
        salesperson of the invoice it is posted on signs it."""
        first = self._post_invoice(DUE, amount=100.0)
        second = self._post_invoice(DUE, amount=200.0, partner=self.customer_2)
        other_seller = self._post_invoice(DUE, amount=300.0, user=self.salesperson_2)
        first.message_unsubscribe(partner_ids=self.salesperson.partner_id.ids)
        self._run(day(1))
        # the author of the email follows the invoice, to receive the answers
        self.assertIn(self.salesperson.partner_id, first.message_partner_ids)
        for invoice, customer, seller in (
            (first, self.customer, self.salesperson),
            (second, self.customer_2, self.salesperson),
        ):
            email = invoice.message_ids.filtered(lambda m: m.message_type == "comment")
            self.assertEqual(email.partner_ids, customer)
            self.assertEqual(email.author_id, seller.partner_id)
            self.assertIn(invoice.name, email.subject)
            mail = self._outgoing(email)
            self.assertEqual(mail.recipient_ids, customer)
            self.assertEqual(mail.email_cc, seller.email_formatted)
            self.assertIn(seller.email, mail.email_from)
        # Sally's invoice of the same customer went in Sam's email
        self.assertFalse(
            other_seller.message_ids.filtered(lambda m: m.message_type == "comment")
        )
        self.assertIn(
            other_seller.name,
            first.message_ids.filtered(lambda m: m.message_type == "comment").body,
        )
        # rendered together, each email lists its own customer's invoices only
        second_body = second.message_ids.filtered(
            lambda m: m.message_type == "comment"
        ).body
        self.assertIn(second.name, second_body)
        self.assertNotIn(first.name, second_body)
        self.assertNotIn(
            second.name,
            first.message_ids.filtered(lambda m: m.message_type == "comment").body,
        )

    def test_emails_carry_each_customer_its_own_portal_signup_link(self):
        """Where customers may sign up to the portal (b2c), the button of each
        email opens the invoice with a signup link of its own customer (the run
        prepares all the recipients at once before posting)."""
        self.env["ir.config_parameter"].sudo().set_param(
            "auth_signup.invitation_scope", "b2c"
        )
        first = self._post_invoice(DUE, amount=100.0)
        second = self._post_invoice(DUE, amount=200.0, partner=self.customer_2)
        self._run(day(1))
        Partner = self.env["res.partner"].sudo()
        for invoice, customer in ((first, self.customer), (second, self.customer_2)):
            email = invoice.message_ids.filtered(lambda m: m.message_type == "comment")
            mail = self._outgoing(email)
            tokens = re.findall(r"auth_signup_token=([^&\"']+)", mail.body_html)
            self.assertTrue(tokens, "the button carries a signup token")
            with freeze_time(day(1)):  # the token's validity runs from the email
                self.assertEqual(
                    Partner._get_partner_from_token(unquote(tokens[0])), customer
                )
            self.assertEqual(customer.sudo().signup_type, "signup")

    def test_emails_rendered_together_are_those_rendered_one_by_one(self):
        """The run compiles a template's body once for a batch of emails: each
        email is the one Odoo renders for its invoice alone."""
        first = self._post_invoice(DUE, amount=100.0)
        second = self._post_invoice(DUE, amount=200.0, partner=self.customer_2)
        template = self.env.ref("account_collections.mail_template_collection_overdue")
        moves = first | second
        # one instant for both: the portal links carry a token signed with the time
        with freeze_time(day(1)):
            alone = {
                move.id: template._generate_template(move.ids, ["body_html"])[move.id][
                    "body_html"
                ]
                for move in moves
            }
            together = template.with_context(
                collection_mail_batch=True
            )._generate_template(moves.ids, ["body_html"])
        for move in moves:
            self.assertIn(move.name, together[move.id]["body_html"])
            self.assertEqual(together[move.id]["body_html"], alone[move.id])
