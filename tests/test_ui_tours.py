import base64
import io
from datetime import timedelta

import openpyxl

from odoo import fields, http
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestMockOnlineSyncCommon

from .common import CollectionCommon
from .common_portal import PortalCommon


@tagged("post_install", "-at_install")
class TestCollectionTours(CollectionCommon, AccountTestMockOnlineSyncCommon):
    """The web client in a real (headless) browser: Odoo tours."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Read the modules' manifests (for the static files) now, in this
        # thread. Otherwise the browser's first requests parse them in several
        # server threads at once, and Python 3.11's AST construction, whose
        # recursion counter the threads share, can fail one of them with
        # "SystemError: AST constructor recursion depth mismatch" (seen here on
        # 3.11.7: an error in the log; see CPython gh-106905).
        _ = http.root.statics  # a lazy property, computed once
        cls.salesperson.password = "salesperson"
        cls.tour_customer = cls.env["res.partner"].create(
            {"name": "Tour Customer", "email": "ap@tour.example", "is_company": True}
        )

    def test_salesperson_sees_invoices_by_stage(self):
        # the browser reads the days overdue to the real today
        today = fields.Date.today()
        invoice = self._post_invoice(
            today - timedelta(days=3), partner=self.tour_customer
        )
        self._run(today)
        self.assertEqual(invoice.collection_stage_id, self.stage_overdue)
        self.start_tour(
            "/odoo", "account_collections_invoices_kanban", login="salesperson"
        )

    def test_salesperson_logs_a_promise_from_the_worklist(self):
        today = fields.Date.today()
        invoice = self._post_invoice(
            today - timedelta(days=3), amount=1200.0, partner=self.tour_customer
        )
        self._run(today)
        self.assertTrue(self._collection_activities(invoice))
        self.start_tour(
            "/odoo", "account_collections_worklist_promise", login="salesperson"
        )
        promise = self.env["collection.promise"].search(
            [("partner_id", "=", self.tour_customer.id)]
        )
        self.assertEqual(len(promise), 1)
        self.assertEqual(promise.state, "open")
        self.assertEqual(promise.move_ids, invoice)
        self.assertEqual(promise.amount, 1200.0)
        self.assertEqual(promise.promised_date, today + timedelta(days=7))
        self.assertEqual(promise.user_id, self.salesperson)

    def test_manager_dashboard_and_aging_export(self):
        manager = self._create_collection_user(
            "manager",
            "Mia Manager",
            groups=[
                "base.group_user",
                "sales_team.group_sale_salesman_all_leads",
                "account.group_account_invoice",
                "account_collections.group_collection_manager",
            ],
        )
        manager.password = "manager"
        today = fields.Date.today()
        self._post_invoice(
            today - timedelta(days=10), amount=2500.0, partner=self.tour_customer
        )
        self._run(today)
        # the KPI history the dashboard shows (the install queues it in the
        # background)
        self.assertTrue(
            self.env["collection.kpi.history"]._collection_backfill(self.company)
        )
        self.start_tour(
            "/odoo", "account_collections_manager_dashboard_aging", login="manager"
        )
        wizard = (
            self.env["collection.aging.wizard"]
            .sudo()
            .search([("create_uid", "=", manager.id)], order="id desc", limit=1)
        )
        self.assertTrue(wizard.xlsx_file, "the XLSX was exported from the browser")
        self.assertEqual(wizard.group_by, "user")
        book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(wizard.xlsx_file)))
        rows = list(book.worksheets[0].iter_rows(values_only=True))
        self.assertEqual(rows[-1][0], "Total")
        self.assertIn("Sam Seller", [row[0] for row in rows])
        self.assertIn(2500.0, rows[-1])


@tagged("post_install", "-at_install")
class TestPortalTours(PortalCommon, AccountTestMockOnlineSyncCommon):
    """The customer's answers on the portal, in a real (headless) browser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        _ = http.root.statics  # see TestCollectionTours
        cls.salesperson.password = "salesperson"
        cls.customer.name = "Tour Customer"

    def test_portal_user_promises_two_invoices(self):
        self.start_tour(
            "/my/collections", "account_collections_portal_promise", login="paula"
        )
        promise = self.env["collection.promise"].search(
            [("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(promise.source, "portal")
        self.assertEqual(promise.move_ids, self.invoice_1 | self.invoice_2)
        self.assertEqual(promise.amount, 1500.0)

    def test_anonymous_disputes_with_the_emails_link_and_salesperson_accepts(self):
        self.start_tour(
            f"/my/collections?access_token={self._token()}",
            "account_collections_portal_dispute",
        )
        dispute = self.env["collection.dispute"].search([])
        self.assertEqual(dispute.move_id, self.invoice_1)
        self.assertEqual(dispute.reason, "not_received")
        self.assertEqual(dispute.attachment_ids.name, "delivery.pdf")
        self.start_tour(
            "/odoo", "account_collections_dispute_accept", login="salesperson"
        )
        self.assertEqual(dispute.state, "accepted")
        self.assertEqual(self.invoice_1.collection_exclusion_reason, "dispute")
