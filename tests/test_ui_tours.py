from datetime import date, timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestMockOnlineSyncCommon

from .common import CollectionCommon

DUE = date(2026, 3, 16)


@tagged("post_install", "-at_install")
class TestCollectionTours(CollectionCommon, AccountTestMockOnlineSyncCommon):
    """The web client in a real (headless) browser: Odoo tours."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesperson.password = "salesperson"
        cls.tour_customer = cls.env["res.partner"].create(
            {"name": "Tour Customer", "email": "ap@tour.example", "is_company": True}
        )

    def test_salesperson_sees_invoices_by_stage(self):
        invoice = self._post_invoice(DUE, partner=self.tour_customer)
        self._run(DUE + timedelta(days=3))
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
