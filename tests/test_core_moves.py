"""Odoo keeps working with the addon installed: invoices, bills, credit notes and
entries are created in their forms (an onchange on an empty record, as the web
client and Odoo's ``Form`` do), read together, in other companies, by the
superuser and with archived salespeople, and paid from the invoice."""

from datetime import date

from odoo import Command, fields
from odoo.tests import Form, freeze_time, tagged

from odoo.addons.account.tests.common import AccountTestMockOnlineSyncCommon

from .common import CollectionCommon

TODAY = date(2026, 3, 2)


def _create_accountant(cls, collection_group):
    """An accountant (Invoicing administrator) who works collections too, in
    ``collection_group``: every collection field of the invoice form is in the
    views this user gets."""
    return cls._create_collection_user(
        "accountant",
        "Ada Accountant",
        groups=[
            "base.group_user",
            "sales_team.group_sale_salesman_all_leads",
            "account.group_account_manager",
            "account.group_account_user",
            collection_group,
        ],
    )


@tagged("post_install", "-at_install")
class TestCoreMoveForms(CollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = _create_accountant(
            cls, "account_collections.group_collection_manager"
        )
        cls.vendor = cls.env["res.partner"].create({"name": "Vendor Corp"})
        cls.company_b = cls.setup_other_company(name="Company B")["company"]

    def _new_move_form(self, move_type, user=None, partner=None, company=None):
        env = self.env(user=user or self.accountant)
        if company:
            env = env(context=dict(env.context, allowed_company_ids=company.ids))
        form = Form(
            env["account.move"].with_context(default_move_type=move_type),
            view="account.view_move_form",
        )
        # the empty record opened: no customer yet, nothing computed crashed
        self.assertFalse(form.partner_id)
        if partner:
            form.partner_id = partner
        if move_type == "entry":
            with form.line_ids.new() as line:
                line.account_id = self.company_data["default_account_revenue"]
                line.credit = 100.0
            with form.line_ids.new() as line:
                line.account_id = self.company_data["default_account_receivable"]
                line.debit = 100.0
        else:
            form.invoice_date = TODAY
            with form.invoice_line_ids.new() as line:
                line.name = "Consulting"
                line.price_unit = 500.0
                line.tax_ids.clear()
        return form

    @freeze_time(TODAY)
    def test_every_move_type_opens_saves_and_posts_from_its_form(self):
        for move_type, partner in (
            ("out_invoice", self.customer),
            ("out_refund", self.customer),
            ("in_invoice", self.vendor),
            ("in_refund", self.vendor),
            ("entry", None),
        ):
            with self.subTest(move_type=move_type):
                move = self._new_move_form(move_type, partner=partner).save()
                move.action_post()
                self.assertEqual(move.state, "posted")
                follows = move_type == "out_invoice"
                self.assertEqual(
                    move.collection_policy_id,
                    self.policy if follows else self.policy.browse(),
                )
                self.assertEqual(bool(move.collection_date_due), follows)
                self.assertEqual(bool(move.collection_next_stage_id), follows)

    @freeze_time(TODAY)
    def test_invoice_form_of_a_salesperson_then_paid(self):
        form = self._new_move_form("out_invoice", user=self.salesperson)
        # a customer chosen later, as a user types: the policy follows it
        form.partner_id = self.customer
        self.assertEqual(form.collection_policy_id, self.policy)
        invoice = form.save()
        invoice.action_post()
        self._run(TODAY)
        self._pay(invoice, pay_date=TODAY)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertFalse(invoice.collection_next_stage_id)
        self.assertFalse(
            self._collection_activities(invoice).filtered(lambda a: a.active),
            "paying the invoice closes its collection activities",
        )

    @freeze_time(TODAY)
    def test_company_without_collection_policy(self):
        company = self.company_b
        company.collection_policy_id = False
        self.accountant.company_ids = [Command.link(company.id)]
        form = self._new_move_form(
            "out_invoice", partner=self.customer, company=company
        )
        invoice = form.save()
        invoice.action_post()
        self.assertEqual(invoice.company_id, company)
        self.assertFalse(invoice.collection_policy_id)
        self.assertFalse(invoice.collection_next_stage_id)
        # the daily run of a day with such an invoice does not fail
        self._run(fields.Date.add(TODAY, days=40))
        self.assertFalse(invoice.collection_stage_id)

    @freeze_time(TODAY)
    def test_mixed_moves_read_together(self):
        invoice = self._post_invoice(TODAY, partner=self.customer)
        refund = self._post_invoice(TODAY, move_type="out_refund")
        bill = self._post_invoice(TODAY, move_type="in_invoice", partner=self.vendor)
        payment = self._pay(invoice, amount=100.0, pay_date=TODAY)
        no_partner = self.env["account.move"].create(
            {"move_type": "entry", "line_ids": []}
        )
        moves = (invoice | refund | bill | payment.move_id | no_partner).with_user(
            self.accountant
        )
        moves.invalidate_recordset()
        names = [
            "collection_policy_id",
            "collection_next_stage_id",
            "collection_next_date",
            "collection_days_overdue",
            "collection_mail_partner_id",
            "collection_open_invoice_ids",
            "collection_open_amount",
            "collection_promise_count",
            "collection_contact_count",
        ]
        values = {row["id"]: row for row in moves.read(names)}
        self.assertEqual(values[invoice.id]["collection_policy_id"][0], self.policy.id)
        self.assertEqual(values[invoice.id]["collection_open_amount"], 900.0)
        for other in refund | bill | payment.move_id | no_partner:
            self.assertFalse(values[other.id]["collection_policy_id"])
            self.assertFalse(values[other.id]["collection_next_stage_id"])

    @freeze_time(TODAY)
    def test_new_records_in_memory(self):
        # several new records at once, one without customer nor company
        Move = self.env["account.move"].with_user(self.accountant)
        moves = Move.new({"move_type": "out_invoice", "partner_id": self.customer.id})
        moves |= Move.new({"move_type": "out_invoice"})
        moves |= Move.new({"move_type": "entry", "company_id": False})
        self.assertEqual(moves[0].collection_policy_id, self.policy)
        self.assertFalse(moves[1].collection_policy_id)
        self.assertFalse(moves[2].collection_policy_id)
        self.assertFalse(any(moves.mapped("collection_next_stage_id")))
        self.assertEqual(moves.mapped("collection_promise_count"), [0, 0, 0])

    @freeze_time(TODAY)
    def test_archived_salesperson_and_superuser(self):
        invoice = self._post_invoice(TODAY, partner=self.customer)
        self.salesperson.action_archive()
        # the invoice of an archived salesperson still opens in its form
        form = Form(invoice.with_user(self.accountant))
        self.assertEqual(form.collection_policy_id, self.policy)
        # and the superuser creates invoices in the form as anyone
        superuser_form = self._new_move_form(
            "out_invoice", user=self.env.ref("base.user_root"), partner=self.customer
        )
        new_invoice = superuser_form.save()
        new_invoice.action_post()
        self._run(fields.Date.add(TODAY, days=2))
        self.assertEqual(invoice.collection_stage_id, self.stage_overdue)
        activity = self._collection_activities(invoice)
        self.assertTrue(activity.user_id.active, "never an archived user")

    @freeze_time(TODAY)
    def test_salesperson_creates_a_customer_in_its_form(self):
        # a salesperson allowed to create contacts (Extra Rights)
        self.salesperson.groups_id += self.env.ref("base.group_partner_manager")
        form = Form(self.env["res.partner"].with_user(self.salesperson))
        form.name = "New Customer Ltd"
        form.company_type = "company"
        partner = form.save()
        self.assertEqual(partner.name, "New Customer Ltd")
        # no policy of its own: it follows the company's default
        self.assertFalse(partner.sudo().collection_policy_id)
        invoice = self._post_invoice(TODAY, partner=partner)
        self.assertEqual(invoice.collection_policy_id, self.policy)


@tagged("post_install", "-at_install")
class TestCoreMoveTours(CollectionCommon, AccountTestMockOnlineSyncCommon):
    """An accountant in the web client: a customer invoice and a vendor bill
    created from their menus, posted and paid."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = _create_accountant(
            cls, "account_collections.group_collection_user"
        )
        cls.accountant.password = "accountant"
        cls.env["res.partner"].create(
            {"name": "Tour Customer", "email": "ap@tour.example", "is_company": True}
        )
        cls.env["res.partner"].create({"name": "Tour Vendor", "is_company": True})
        cls.env["product.product"].create(
            {
                "name": "Tour Service",
                "type": "service",
                "taxes_id": False,
                "supplier_taxes_id": False,
            }
        )

    def _last(self, move_type):
        return self.env["account.move"].search(
            [("move_type", "=", move_type), ("create_uid", "=", self.accountant.id)],
            order="id desc",
            limit=1,
        )

    def test_accountant_invoices_and_is_paid(self):
        self.start_tour(
            "/odoo", "account_collections_accountant_invoice", login="accountant"
        )
        invoice = self._last("out_invoice")
        self.assertEqual(invoice.partner_id.name, "Tour Customer")
        self.assertEqual(invoice.amount_total, 450.0)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(invoice.collection_policy_id, self.policy)
        self.assertFalse(invoice.collection_next_stage_id)
        # a run after the payment does nothing on it
        self._run(fields.Date.add(invoice.invoice_date_due, days=10))
        self.assertFalse(invoice.collection_stage_id)
        self.assertFalse(self._collection_activities(invoice))

    def test_accountant_records_a_vendor_bill(self):
        self.start_tour(
            "/odoo", "account_collections_accountant_bill", login="accountant"
        )
        bill = self._last("in_invoice")
        self.assertEqual(bill.partner_id.name, "Tour Vendor")
        self.assertEqual(bill.amount_total, 300.0)
        self.assertIn(bill.payment_state, ("paid", "in_payment"))
        self.assertFalse(bill.collection_policy_id)
        self.assertFalse(bill.collection_date_due)
        self._run(fields.Date.add(bill.invoice_date_due, days=10))
        self.assertFalse(bill.collection_stage_id)
        self.assertFalse(
            bill.message_ids.filtered(lambda m: "ollection" in (m.body or ""))
        )
