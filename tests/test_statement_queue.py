from datetime import datetime

from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from .common import DUE, CollectionCommon, day

# the daily run and the statement job log from the addon's models
ENGINE_LOGGER = "odoo.addons.account_collections.models"


@tagged("post_install", "-at_install")
class TestStatementQueue(CollectionCommon):
    """The run queues each customer email with its mail held; the statement job
    attaches the customer statement to it and releases it, once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cron_statements = cls.env.ref(
            "account_collections.ir_cron_collection_statements"
        )
        cls.queue = cls.env["collection.statement.queue"].sudo()

    def _email(self, customer):
        return self.env["mail.message"].search(
            [
                ("model", "=", "account.move"),
                ("message_type", "=", "comment"),
                ("partner_ids", "in", customer.ids),
            ]
        )

    def _mail(self, message):
        return (
            self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)])
        )

    def _statement_job(self, on):
        with freeze_time(on):
            self.cron_statements.method_direct_trigger()

    def test_email_waits_for_its_statement_then_leaves_with_it(self):
        move = self._post_invoice(DUE, amount=321.0)
        other = self._post_invoice(DUE, amount=654.0, partner=self.customer_2)
        triggers = self.env["ir.cron.trigger"].sudo()
        triggered = triggers.search_count([("cron_id", "=", self.cron_statements.id)])
        run_at = datetime(2026, 3, 17, 5, 0)
        self._run(run_at)

        # posted on the invoice, no statement yet, its mail held for hours
        email = self._email(self.customer)
        self.assertEqual(len(email), 1)
        self.assertEqual(email.res_id, move.id)
        self.assertFalse(email.attachment_ids)
        mail = self._mail(email)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.state, "outgoing")
        self.assertGreaterEqual(
            (mail.scheduled_date - run_at).total_seconds(), 5 * 3600, "held"
        )
        waiting = self.queue.search([("message_id", "=", email.id)])
        self.assertEqual(waiting.partner_id, self.customer)
        self.assertEqual(waiting.company_id, self.company)
        self.assertEqual(waiting.date, day(1))
        self.assertEqual(len(self.queue.search([])), 2, "both customers' emails")
        # the run started the statement job
        self.assertEqual(
            triggers.search_count([("cron_id", "=", self.cron_statements.id)]),
            triggered + 1,
        )

        self._statement_job(datetime(2026, 3, 17, 5, 1))
        self.assertFalse(self.queue.search([]), "nothing waits")
        for customer, invoice in ((self.customer, move), (self.customer_2, other)):
            email = self._email(customer)
            self.assertEqual(len(email.attachment_ids), 1, customer.name)
            statement = email.attachment_ids
            self.assertEqual(statement.name, f"Statement - {customer.name}.html")
            self.assertIn("Statement of Account", statement.raw.decode())
            self.assertIn(invoice.name, statement.raw.decode())
            self.assertEqual(statement.res_model, "account.move")
            self.assertEqual(statement.res_id, invoice.id)
            mail = self._mail(email)
            self.assertEqual(mail.attachment_ids, statement, "the mail sends it")
            self.assertFalse(mail.scheduled_date, "released")
            self.assertEqual(mail.state, "outgoing")
            self.assertFalse(
                invoice.message_main_attachment_id,
                "the statement is not the invoice's PDF",
            )

        # the job again (a re-run, the hourly safety net): nothing twice
        self._statement_job(datetime(2026, 3, 17, 6, 0))
        self.assertEqual(len(self._email(self.customer).attachment_ids), 1)
        self.assertEqual(len(self._email(self.customer_2).attachment_ids), 1)

    def test_statement_that_keeps_failing_releases_the_email_without_it(self):
        """The customer statement's template cannot be rendered for one customer
        (a customization reads its reference, which it lacks): its email waits
        three attempts, then leaves without it and its invoice says so; the
        other customer's email leaves with its statement."""
        self.env["ir.ui.view"].create(
            {
                "name": "Statement with the customer's reference",
                "type": "qweb",
                "inherit_id": self.env.ref(
                    "account_collections.report_customer_statement_document"
                ).id,
                "arch": """
                    <xpath expr="//a[hasclass('o_collection_statement_marker')]"
                           position="after">
                        <span t-out="o.ref.upper()"/>
                    </xpath>""",
            }
        )
        self.customer_2.ref = "GLX"
        broken = self._post_invoice(DUE, amount=100.0)
        healthy = self._post_invoice(DUE, amount=200.0, partner=self.customer_2)
        self._run(day(1))
        email = self._email(self.customer)
        waiting = self.queue.search([("message_id", "=", email.id)])

        for attempt in (1, 2):
            with mute_logger(ENGINE_LOGGER):
                self._statement_job(datetime(2026, 3, 17, 5 + attempt, 0))
            self.assertEqual(waiting.attempts, attempt)
            self.assertTrue(self._mail(email).scheduled_date, "still held")
            self.assertFalse(email.attachment_ids)
        # the other customer's statement was attached at the first attempt
        self.assertEqual(len(self._email(self.customer_2).attachment_ids), 1)
        self.assertFalse(self._mail(self._email(self.customer_2)).scheduled_date)
        self.assertIn(
            healthy.name, self._email(self.customer_2).attachment_ids.raw.decode()
        )

        with self.assertLogs(ENGINE_LOGGER, "WARNING") as logs:
            self._statement_job(datetime(2026, 3, 17, 8, 0))
        self.assertIn(broken.name, logs.output[0])
        self.assertFalse(waiting.exists(), "given up")
        mail = self._mail(email)
        self.assertFalse(mail.scheduled_date, "the email leaves without it")
        self.assertEqual(mail.state, "outgoing")
        self.assertFalse(email.attachment_ids)
        note = broken.message_ids.filtered(
            lambda m: "could not be attached" in (m.body or "")
        )
        self.assertEqual(len(note), 1)
        self.assertIn(email.subject, note.body)
        self.assertFalse(self.queue.search([]))
