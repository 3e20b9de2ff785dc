import logging
from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from .common import CollectionCommon

LOGGER = "odoo.addons.account_collections.report.collection_portfolio_delivery"
MONDAY = "2026-03-30 06:00:00"  # ISO week 2026-W14


@tagged("post_install", "-at_install")
class TestPortfolioWeeklyReport(CollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_spanish()
        cls.company.email = "collections@company.example"
        cls._post_invoice(date(2026, 3, 3), 3000, invoice_date=date(2026, 2, 1))
        cls._post_invoice(
            date(2026, 4, 14),
            4000,
            partner=cls.customer_2,
            user=cls.salesperson_2,
            invoice_date=date(2026, 3, 15),
        )
        manager_groups = ["base.group_user", "account.group_account_manager"]
        cls.manager_en = cls._create_collection_user(
            "mgr_en", "Emma English", manager_groups
        )
        cls.manager_es = cls._create_collection_user(
            "mgr_es", "Pedro Pérez", manager_groups
        )
        cls.manager_es.lang = "es_ES"
        cls.no_email = cls._create_collection_user(
            "mgr_noemail", "Nora Nomail", manager_groups
        )
        cls.no_email.partner_id.email = False
        cls.company.collection_report_user_ids = (
            cls.manager_en | cls.manager_es | cls.no_email
        )
        cls.weekly_cron = cls.env.ref(
            "account_collections.ir_cron_collection_weekly_report"
        )
        cls.log_model = cls.env["collection.report.log"]
        cls.delivery = cls.env["collection.portfolio.delivery"]

    def _run_weekly(self, when=MONDAY, **kwargs):
        with freeze_time(when), self.assertLogs(LOGGER, level=logging.INFO) as captured:
            if kwargs:
                self.delivery._cron_send_weekly_report(**kwargs)
            else:
                self.weekly_cron.method_direct_trigger()
        return captured.output

    def _report_mails(self, user=None, company=None):
        logs = self.log_model.search(
            [("state", "=", "sent")]
            + ([("user_id", "=", user.id)] if user else [])
            + ([("company_id", "=", company.id)] if company else [])
        )
        return logs.mail_id

    def test_one_mail_per_recipient_in_their_language(self):
        output = self._run_weekly()

        mail_en = self._report_mails(self.manager_en)
        mail_es = self._report_mails(self.manager_es)
        self.assertEqual(len(mail_en), 1)
        self.assertEqual(len(mail_es), 1)
        self.assertEqual(len(self._report_mails()), 2, "one mail per recipient")
        for mail, user, name in (
            (mail_en, self.manager_en, "Portfolio Status - "),
            (mail_es, self.manager_es, "Estado de la cartera - "),
        ):
            self.assertEqual(mail.recipient_ids, user.partner_id)
            self.assertEqual(len(mail.attachment_ids), 1, "the report is attached")
            self.assertTrue(mail.attachment_ids.name.startswith(name))
            self.assertIn(self.company.name, mail.body_html)
            self.assertIn("collections@company.example", mail.email_from)

        self.assertIn("Portfolio status of", mail_en.subject)
        self.assertIn("Portfolio status: ", mail_en.body_html)
        self.assertIn("Hello Emma English", mail_en.body_html)
        self.assertIn("Estado de la cartera de", mail_es.subject)
        self.assertIn("Estado de la cartera: ", mail_es.body_html)
        self.assertIn("Hola Pedro Pérez", mail_es.body_html)
        self.assertIn("Índice de morosidad", mail_es.body_html)
        self.assertNotIn("Portfolio status", mail_es.body_html)

        # the recipient without an email address is skipped, and says why
        self.assertTrue(
            any(
                "not sent to mgr_noemail: the user has no email address" in line
                for line in output
            ),
            output,
        )
        skipped = self.log_model.search([("user_id", "=", self.no_email.id)])
        self.assertEqual(skipped.state, "skipped")
        self.assertEqual(skipped.week, "2026-W14")
        self.assertFalse(skipped.mail_id)

    def test_twice_in_the_same_week_sends_once(self):
        self._run_weekly()
        self.assertEqual(len(self._report_mails()), 2)
        self._run_weekly("2026-04-02 06:00:00")  # Thursday of the same ISO week
        self.assertEqual(len(self._report_mails()), 2, "nothing sent twice")
        self.assertEqual(self.log_model.search_count([]), 3)
        self._run_weekly("2026-04-06 06:00:00")  # next Monday
        self.assertEqual(len(self._report_mails()), 4)
        self.assertEqual(
            sorted(set(self.log_model.search([]).mapped("week"))),
            ["2026-W14", "2026-W15"],
        )

    def test_batches(self):
        self._run_weekly(batch_size=2)
        self.assertEqual(self.log_model.search_count([]), 2)
        self._run_weekly(batch_size=2)
        self.assertEqual(self.log_model.search_count([]), 3)
        self.assertEqual(len(self._report_mails()), 2)

    def test_pdf_attachment(self):
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() != "ok":
            self.skipTest("wkhtmltopdf is not installed: the PDF cannot be rendered")
        self.company.collection_report_user_ids = self.manager_es
        # wkhtmltopdf cannot fetch the report's stylesheets from a test server
        with (
            freeze_time(MONDAY),
            mute_logger("odoo.addons.base.models.ir_actions_report"),
        ):
            self.delivery.with_context(
                force_report_rendering=True
            )._cron_send_weekly_report()
        attachment = self._report_mails(self.manager_es).attachment_ids
        self.assertEqual(attachment.mimetype, "application/pdf")
        self.assertTrue(attachment.raw.startswith(b"%PDF"))
        self.assertTrue(attachment.name.endswith(".pdf"))
        self.assertIn("Estado de la cartera", attachment.name)

    def test_multi_company_recipients(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        customer_b = self.env["res.partner"].create({"name": "Bravo Customer"})
        self._post_invoice(
            date(2026, 3, 3),
            777,
            partner=customer_b,
            company=company_b,
            invoice_date=date(2026, 2, 1),
        )
        self.manager_en.company_ids = [Command.link(company_b.id)]
        company_b.collection_report_user_ids = self.manager_en | self.manager_es
        self._run_weekly()

        mails_en = self._report_mails(self.manager_en)
        self.assertEqual(len(mails_en), 2, "one mail per company")
        mail_b = self._report_mails(self.manager_en, company_b)
        self.assertIn("Company B", mail_b.subject)
        self.assertIn("Bravo Customer", mail_b.body_html)
        self.assertNotIn("Acme Customer", mail_b.body_html)
        mail_a = self._report_mails(self.manager_en, self.company)
        self.assertNotIn("Bravo Customer", mail_a.body_html)
        # manager_es is not allowed in company B: no report of company B for them
        self.assertEqual(len(self._report_mails(self.manager_es)), 1)
        refused = self.log_model.search(
            [("user_id", "=", self.manager_es.id), ("company_id", "=", company_b.id)]
        )
        self.assertEqual(refused.state, "skipped")
        self.assertEqual(refused.note, "the user is not allowed in this company")
        # each manager sees the deliveries of their companies only
        logs_seen = self.log_model.with_user(self.manager_es).search([])
        self.assertEqual(logs_seen.company_id, self.company)

    def test_send_now(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(
            settings.collection_report_user_ids, self.company.collection_report_user_ids
        )
        with freeze_time(MONDAY), self.assertLogs(LOGGER, level=logging.INFO):
            action = settings.action_collection_send_report_now()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("Nora Nomail", action["params"]["message"])
        self.assertEqual(len(self._report_mails()), 2)
        self.assertEqual(set(self.log_model.search([]).mapped("week")), {False})
        # a test sending does not count as the weekly delivery
        self._run_weekly()
        self.assertEqual(len(self._report_mails()), 4)

        with self.assertRaises(AccessError):
            self.delivery.with_user(self.salesperson)._collection_send_now(
                self.company, self.manager_en
            )
        self.company.collection_report_user_ids = False
        with self.assertRaises(UserError):
            self.env["res.config.settings"].create(
                {}
            ).action_collection_send_report_now()
