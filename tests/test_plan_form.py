"""A payment plan recorded from its own form: the invoice's button, the worklist
row's button and Payment Plans > New, as salespeople use them."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, freeze_time, tagged

from odoo.addons.account.tests.common import AccountTestMockOnlineSyncCommon

from .common import CollectionCommon, day

TODAY = day(10)


@tagged("post_install", "-at_install")
class TestPlanForm(CollectionCommon):
    def _form_of(self, action, user=None):
        """The form an action opens, as ``user`` (the salesperson)."""
        env = self.env(user=user or self.salesperson)
        Plan = env["collection.plan"].with_context(**action.get("context", {}))
        if action.get("res_id"):
            return Form(Plan.browse(action["res_id"]))
        return Form(Plan)

    @freeze_time(TODAY)
    def test_from_the_invoice_split_into_three(self):
        invoice = self._post_invoice(day(-20), amount=1000.0)
        action = invoice.with_user(self.salesperson).action_collection_payment_plan()
        form = self._form_of(action)
        # the customer, currency and what is left to pay, before anything is typed
        self.assertEqual(form.partner_id, self.customer)
        self.assertEqual(form.currency_id, invoice.currency_id)
        self.assertEqual(form.amount_due, 1000.0)
        form.split_count = 3
        form.split_first_date = TODAY + timedelta(days=5)
        form.split_every = "month"
        self.assertEqual(len(form.installment_ids), 3)
        self.assertEqual(form.amount_total, 1000.0)
        plan = form.save()
        self.assertEqual(
            plan.installment_ids.mapped("amount"),
            [333.33, 333.33, 333.34],
            "the last one takes the rounding",
        )
        self.assertEqual(plan.state, "open")
        self.assertEqual(plan.partner_id, self.customer)
        self.assertEqual(plan.user_id, self.salesperson)
        self.assertEqual(
            plan.installment_ids.mapped("date"),
            [
                TODAY + timedelta(days=5),
                fields.Date.add(TODAY + timedelta(days=5), months=1),
                fields.Date.add(TODAY + timedelta(days=5), months=2),
            ],
        )
        self.assertIn(self.customer.name, plan.display_name)
        self.assertNotIn(str(plan.date), plan.display_name, "no ISO date in the name")

    @freeze_time(TODAY)
    def test_from_the_menu_the_invoices_give_the_customer(self):
        invoice = self._post_invoice(day(-5), amount=600.0, partner=self.customer_2)
        form = Form(self.env["collection.plan"].with_user(self.salesperson))
        self.assertFalse(form.partner_id)
        self.assertEqual(
            self.env["collection.plan"].new({}).display_name, "New Payment Plan"
        )
        form.move_ids.add(invoice)
        self.assertEqual(form.partner_id, self.customer_2)
        self.assertEqual(form.amount_due, 600.0)
        with form.installment_ids.new() as line:
            line.date = TODAY + timedelta(days=3)
            line.amount = 600.0
        plan = form.save()
        self.assertEqual(plan.move_ids, invoice)
        self.assertEqual(plan.partner_id, self.customer_2)

    @freeze_time(TODAY)
    def test_invoice_already_in_a_plan(self):
        invoice = self._post_invoice(day(-20), amount=1000.0)
        form = self._form_of(
            invoice.with_user(self.salesperson).action_collection_payment_plan()
        )
        form.split_count = 2
        plan = form.save()
        # its button now opens that plan, not an empty form
        action = invoice.with_user(self.salesperson).action_collection_payment_plan()
        self.assertEqual(action["res_id"], plan.id)
        # a colleague who sees the invoice but may not read the plan is told why
        colleague = self._create_collection_user(
            "colleague",
            "Carl Colleague",
            groups=[
                "base.group_user",
                "sales_team.group_sale_salesman_all_leads",
                "account.group_account_invoice",
            ],
        )
        with self.assertRaisesRegex(UserError, "already in an open payment plan"):
            invoice.with_user(colleague).action_collection_payment_plan()


@tagged("post_install", "-at_install")
class TestPlanFormTours(CollectionCommon, AccountTestMockOnlineSyncCommon):
    """A salesperson records a plan in the web client from each entry point."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesperson.password = "salesperson"

    def _customer(self, name):
        return self.env["res.partner"].create(
            {"name": name, "email": "ap@plan.example", "is_company": True}
        )

    def _recorded_plan(self, customer, installments=3):
        plan = self.env["collection.plan"].search([("partner_id", "=", customer.id)])
        self.assertEqual(len(plan), 1)
        self.assertEqual(plan.state, "open")
        self.assertEqual(len(plan.installment_ids), installments)
        self.assertEqual(plan.user_id, self.salesperson)
        return plan

    def test_plan_from_the_invoice(self):
        customer = self._customer("Plan Invoice Customer")
        today = fields.Date.today()
        invoice = self._post_invoice(today - timedelta(days=10), 1200.0, customer)
        self.start_tour(
            f"/odoo/action-account.action_move_out_invoice_type/{invoice.id}",
            "account_collections_plan_from_invoice",
            login="salesperson",
        )
        self.assertEqual(self._recorded_plan(customer).move_ids, invoice)

    def test_plan_from_the_worklist(self):
        customer = self._customer("Plan Worklist Customer")
        today = fields.Date.today()
        invoice = self._post_invoice(today - timedelta(days=3), 800.0, customer)
        self._run(today)
        self.start_tour(
            "/odoo/action-account_collections.collection_worklist_action_server",
            "account_collections_plan_from_worklist",
            login="salesperson",
        )
        self.assertEqual(self._recorded_plan(customer).move_ids, invoice)

    def test_plan_from_the_menu(self):
        customer = self._customer("Plan Menu Customer")
        today = fields.Date.today()
        invoice = self._post_invoice(today - timedelta(days=3), 650.0, customer)
        self.start_tour(
            "/odoo/action-account_collections.collection_plan_action",
            "account_collections_plan_from_menu",
            login="salesperson",
        )
        self.assertEqual(self._recorded_plan(customer).move_ids, invoice)
