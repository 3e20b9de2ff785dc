import io
import re
import shutil
import subprocess
from datetime import date

from PIL import Image

from odoo.tests import HttpCase, freeze_time, tagged
from odoo.tools import mute_logger

from .common_kpi import NEXT_MONDAY, KpiHistoryCommon

IMAGE_URL = re.compile(r'<img [^>]*src="(/web/image/(\d+)\?access_token=([0-9a-f-]+))"')
WEEK_END = date(2026, 4, 5)  # the week the scheduled action of NEXT_MONDAY stores


@tagged("post_install", "-at_install")
class TestKpiCharts(KpiHistoryCommon, HttpCase):
    """The trend charts of the weekly report: inline SVG in the PDF and on
    screen, PNG images in the email (fetched by the mail client with their
    access token)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_spanish()
        cls.manager_es = cls._create_collection_user(
            "kpimanager_es",
            "Pedro Pérez",
            groups=["base.group_user", "account.group_account_manager"],
        )
        cls.manager_es.lang = "es_ES"
        cls.company.collection_report_user_ids = cls.manager | cls.manager_es
        cls.report = cls.env.ref("account_collections.action_report_portfolio_status")

    def _weekly_run(self):
        with freeze_time(NEXT_MONDAY):
            self.env.ref(
                "account_collections.ir_cron_collection_weekly_report"
            ).method_direct_trigger()
        logs = self.env["collection.report.log"].search([("state", "=", "sent")])
        return {log.user_id: log.mail_id for log in logs}

    def _last_figures(self):
        return self.env["collection.kpi.dashboard"]._collection_series(
            self.company, [WEEK_END]
        )[WEEK_END]

    def test_email_shows_the_charts_as_png(self):
        self._backfill()
        mails = self._weekly_run()
        mail = mails[self.manager]
        self.assertNotIn("<svg", mail.body_html, "no inline SVG in an email")
        images = IMAGE_URL.findall(mail.body_html)
        self.assertEqual(len(images), 4, "overdue ratio, DSO, CEI, overdue amount")
        self.assertIn("Trends over 12 weeks", mail.body_html)
        # the current values are written above the charts, and in their alt text
        overdue_ratio = self._last_figures()["overdue_ratio"]
        self.assertIn(f'alt="Overdue ratio: {overdue_ratio:.1f} %"', mail.body_html)
        attachments = self.env["ir.attachment"].browse(
            [int(attachment_id) for _url, attachment_id, _token in images]
        )
        self.assertEqual(set(attachments.mapped("mimetype")), {"image/png"})
        self.assertEqual(
            set(attachments.mapped("res_model")), {"collection.report.log"}
        )
        for attachment in attachments:
            self.assertEqual(Image.open(io.BytesIO(attachment.raw)).size, (720, 300))
        self.assertEqual(len(mail.attachment_ids), 1, "only the PDF is attached")
        self.assertNotIn(mail.attachment_ids, attachments)
        # the mail queue sends absolute URLs
        outgoing = mail._prepare_outgoing_body()
        base_url = self.company.get_base_url()
        self.assertIn(f'src="{base_url}{images[0][0]}"', outgoing)
        # the mail client fetches them without a session, with their token
        self.env.flush_all()
        response = self.url_open(images[0][0])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "image/png")
        self.assertEqual(response.content, attachments[0].raw)
        # a wrong token gets Odoo's placeholder, not the chart
        forged = images[1][0].replace(images[1][2], "0" * len(images[1][2]))
        self.assertNotEqual(self.url_open(forged).content, attachments[1].raw)

        # the Spanish recipient's charts are in Spanish (labels and dates)
        mail_es = mails[self.manager_es]
        self.assertEqual(len(IMAGE_URL.findall(mail_es.body_html)), 4)
        self.assertIn("Tendencias de las últimas 12 semanas", mail_es.body_html)
        self.assertIn("Índice de morosidad", mail_es.body_html)

    def test_pdf_and_screen_show_the_charts_as_svg(self):
        self._backfill()
        self._weekly_run()
        with freeze_time(NEXT_MONDAY):
            html = str(
                self.env["ir.actions.report"]
                .with_user(self.manager)
                ._render_qweb_html(
                    self.report, self.company.ids, data={"date_to": "2026-04-05"}
                )[0]
            )
        self.assertEqual(html.count("<svg"), 4)
        # twelve weeks, a point each, in each chart
        self.assertEqual(html.count("<circle"), 4 * 12)
        figures = self._last_figures()
        self.assertIn(f"{figures['overdue_ratio']:.1f} %", html)
        self.assertIn(f"{figures['dso']:.1f}", html)
        self.assertIn(f"{figures['cei']:.1f} %", html)
        self.assertIn("Jan 18", html, "the first week of the twelve")
        self.assertIn("Apr 5", html, "the last one")

    def test_pdf_rendered_by_wkhtmltopdf(self):
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() != "ok":
            self.skipTest("wkhtmltopdf is not installed")
        if not shutil.which("pdftotext"):
            self.skipTest("pdftotext (poppler-utils) is not installed")
        self._backfill()
        self._weekly_run()
        # wkhtmltopdf cannot fetch the report's stylesheets from a test server
        with (
            freeze_time(NEXT_MONDAY),
            mute_logger("odoo.addons.base.models.ir_actions_report"),
        ):
            pdf, report_type = (
                self.env["ir.actions.report"]
                .with_context(force_report_rendering=True)
                ._render_qweb_pdf(
                    self.report, self.company.ids, data={"date_to": "2026-04-05"}
                )
            )
        self.assertEqual(report_type, "pdf")
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        # the charts' own texts (axis dates), drawn by wkhtmltopdf from the SVG
        self.assertIn("Trends over 12 weeks", text)
        self.assertIn("Jan 18", text)
        self.assertIn("Apr 5", text)

    def test_cards_and_trend_tell_one_week(self):
        """The weekly report is as of the Sunday of the week that ended: its
        cards, and each trend chart's last point, are the same figures, even
        when the week's stored snapshot no longer matches the ledger."""
        self._backfill()
        self._weekly_run()
        log = self.env["collection.report.log"].search(
            [("user_id", "=", self.manager.id), ("state", "=", "sent")]
        )
        self.assertEqual(log.report_date, WEEK_END)
        # a payment dated in that week, registered after its snapshot was stored
        invoice = self.env["account.move"].search(
            [
                ("move_type", "=", "out_invoice"),
                ("company_id", "=", self.company.id),
                ("payment_state", "=", "not_paid"),
                ("state", "=", "posted"),
                ("invoice_date", "<", WEEK_END),
            ],
            limit=1,
        )
        self._pay(invoice, pay_date=WEEK_END)
        dashboard = self.env["collection.kpi.dashboard"]
        with freeze_time(NEXT_MONDAY):
            page = self.env[
                "report.account_collections.report_portfolio_status"
            ]._get_report_values(self.company.ids, {"date_to": str(WEEK_END)})["pages"][
                self.company.id
            ]
        kpis = page["kpis"]
        headline = dashboard._collection_headline_figures(kpis)
        self.assertNotEqual(
            headline["overdue"],
            self._last_figures()["overdue"],
            "the stored week is stale: the payment came after it",
        )
        fmt = page["fmt"]
        self.assertEqual(len(page["trend"]), 4)
        for chart in page["trend"]:
            figure = chart["key"]
            last_day, last_value = chart["chart"].points[-1]
            self.assertEqual(last_value, headline[figure], figure)
            self.assertEqual(
                chart["value"],
                dashboard._collection_format(fmt, figure, headline[figure]),
            )
            self.assertEqual(len(chart["chart"].points), 12)
        self.assertEqual(last_day, "Apr 5")

    def test_no_history_yet(self):
        with freeze_time(NEXT_MONDAY):
            values = self.env[
                "report.account_collections.report_portfolio_status"
            ]._get_report_values(self.company.ids, {"date_to": "2026-03-30"})
            html = str(
                self.env["ir.actions.report"]._render_qweb_html(
                    self.report, self.company.ids, data={"date_to": "2026-03-30"}
                )[0]
            )
        self.assertEqual(values["pages"][self.company.id]["trend"], [])
        self.assertIn("No KPI history yet", html)
        self.assertNotIn("<svg", html)
