import re
from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from .common import AGING_REPORT, DUE
from .common_portal import PortalCommon
from .common_rpc import RpcCommon

STATEMENT = "report.account_collections.report_customer_statement"
TOTAL_RE = re.compile(r'o_collection_total"[^>]*>(.*?)</td>', re.S)
AGING_HEAD_RE = re.compile(r'o_collection_aging">\s*<thead>(.*?)</thead>', re.S)


@tagged("post_install", "-at_install")
class TestCustomerBalance(PortalCommon, HttpCase):
    """What a customer owes is one rule (collection.receivable's
    ``_collection_balance()``): the portal page, the customer email, the
    statement and the aging's row of a mixed customer say the same total in the
    same buckets, and what the ledger says (Odoo's total receivable)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # invoice_1 (1,200.00, 3 days overdue) is partly paid: 800.00 left;
        # invoice_2 (800.00) is not due yet
        cls.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=cls.invoice_1.ids
        ).create({"payment_date": cls.today, "amount": 400.0})._create_payments()
        # a disputed invoice, excluded from collection: shown and counted
        cls.disputed = cls._post_invoice(cls.today - timedelta(days=100), amount=500.0)
        cls.env["collection.exclusion"]._collection_exclude(cls.disputed, "dispute")
        # a credit note and a payment, neither matched with an invoice yet
        cls.refund = cls._post_invoice(
            cls.today - timedelta(days=10), amount=150.0, move_type="out_refund"
        )
        cls.payment = cls.env["account.payment"].create(
            {
                "amount": 200.0,
                "date": cls.today,
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": cls.customer.id,
            }
        )
        cls.payment.action_post()
        cls.balance_total = 800.0 + 800.0 + 500.0 - 150.0 - 200.0

    def _balance(self):
        return self.env["collection.receivable"]._collection_balance(
            self.customer, self.company, self.today
        )[self.customer.id, self.company.id]

    def _money(self, amount):
        return f"{amount:,.2f}"

    def test_the_rule_counts_every_open_item(self):
        self.assertTrue(self.payment.move_id, "the payment is on the receivable")
        balance = self._balance()
        self.assertAlmostEqual(balance["total"], self.balance_total)
        self.assertAlmostEqual(balance["excluded"], 500.0)
        self.assertAlmostEqual(balance["invoices"], 2100.0)
        self.assertAlmostEqual(balance["other"], -350.0)
        self.assertEqual(
            set(balance["invoice_ids"]),
            set((self.invoice_1 | self.invoice_2 | self.disputed).ids),
        )
        self.assertEqual(balance["excluded_ids"], self.disputed.ids)
        self.assertAlmostEqual(sum(balance["buckets"]), balance["total"])
        labels = self.env["collection.receivable"]._collection_bucket_labels()
        self.assertEqual(len(balance["buckets"]), len(labels))
        # not due: invoice_2 and the payment; 1-30: invoice_1 and the credit
        # note; 91-120: the disputed invoice
        self.assertEqual(
            balance["buckets"], [600.0, 650.0, 0.0, 0.0, 500.0, 0.0], labels
        )
        self.assertAlmostEqual(balance["overdue"], 1150.0)

    def test_sql_rule_equals_the_ledger(self):
        """Parity: the SQL rule says what the ORM reads of the ledger (the open
        receivable items' residuals, Odoo's *Total Receivable*)."""
        lines = self.env["account.move.line"].search(
            [
                ("partner_id", "child_of", self.customer.id),
                ("company_id", "=", self.company.id),
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
            ]
        )
        ledger = self.company.currency_id.round(sum(lines.mapped("amount_residual")))
        self.assertAlmostEqual(self._balance()["total"], ledger)
        self.assertAlmostEqual(
            self.customer.with_company(self.company).credit, self._balance()["total"]
        )

    def test_every_place_says_the_same_total(self):
        balance = self._balance()
        labels = self.env["collection.receivable"]._collection_bucket_labels()
        # the statement (attached to the emails, downloaded from the portal)
        statement = self.env[STATEMENT]._collection_statement_values(
            self.customer, self.today, self.company
        )[self.customer.id]
        self.assertAlmostEqual(statement["total"], balance["total"])
        self.assertEqual(statement["buckets"], balance["buckets"])
        self.assertEqual(statement["labels"], labels)
        # the aging's row of the customer
        aging = self.env[AGING_REPORT]._collection_aging(
            [self.company.id], self.today, partner_ids=self.customer.ids
        )
        (row,) = aging["rows"]
        self.assertAlmostEqual(row["total"], balance["total"])
        self.assertEqual(row["amounts"], balance["buckets"])
        # the customer email's total (the template as the run renders it)
        template = self.env.ref("account_collections.mail_template_collection_reminder")
        body = str(
            template._render_field("body_html", self.invoice_2.ids)[self.invoice_2.id]
        )
        total = re.search(r"Total due.*?o_collection_total[^>]*>([^<]*)<", body, re.S)
        self.assertIn(self._money(balance["total"]), total.group(1))
        self.assertIn("Invoices on hold (excluded from collection)", body)
        self.assertIn(self._money(500.0), body)
        self.assertIn("Credit notes and payments not yet matched", body)
        self.assertIn(self._money(350.0), body)
        # the portal page, over HTTP, with the link of that email
        page = self._page(self._token()).text
        self.assertIn(self._money(balance["total"]), TOTAL_RE.search(page).group(1))
        head = AGING_HEAD_RE.search(page).group(1)
        self.assertEqual(
            [label.strip() for label in re.findall(r">([^<]+)</th>", head)], labels
        )
        # the disputed invoice is listed, labelled; the credits are one row
        self.assertIn(f'data-invoice="{self.disputed.name}"', page)
        self.assertIn("On hold", page.split(self.disputed.name, 1)[1][:2000])
        self.assertIn("Credit notes and payments not yet matched", page)


@tagged("post_install", "-at_install")
class TestCustomerBalanceRights(RpcCommon):
    """The invoice's *Customer's Balance* is read with the reader's rights: the
    items of the moves they may read, nothing for a portal user."""

    def test_balance_as_the_reader_may_see_it(self):
        fields = [
            "collection_balance",
            "collection_balance_excluded",
            "collection_balance_other",
        ]
        invoice = self._post_invoice(DUE, amount=1000.0)
        self._post_invoice(DUE, amount=100.0, move_type="out_refund")
        # a salesperson limited to their own documents (as Sales makes them)
        own_documents = self.env["res.groups"].create({"name": "Own documents"})
        model_id = self.env["ir.model"]._get_id("account.move")
        self.env["ir.model.access"].create(
            {
                "name": "Own invoices",
                "model_id": model_id,
                "group_id": own_documents.id,
                "perm_read": True,
            }
        )
        self.env["ir.rule"].create(
            {
                "name": "Own invoices",
                "model_id": model_id,
                "groups": [Command.set(own_documents.ids)],
                "domain_force": "[('invoice_user_id', '=', user.id)]",
            }
        )
        rita = self._create_collection_user(
            "rita",
            "Rita Restricted",
            groups=["base.group_user", "sales_team.group_sale_salesman"],
        )
        rita.groups_id = [Command.link(own_documents.id)]
        rita_invoice = self._post_invoice(DUE, amount=300.0, user=rita)
        read = self._rpc(rita, "account.move", "read", rita_invoice.ids, fields)[0]
        self.assertEqual(read["collection_balance"], 300.0)
        self.assertEqual(read["collection_balance_other"], 0.0)
        read = self._rpc(
            self.salesperson, "account.move", "read", rita_invoice.ids, fields
        )[0]
        self.assertEqual(read["collection_balance"], 1200.0)
        self.assertEqual(read["collection_balance_other"], -100.0)
        # a portal follower reads the invoice, not the customer's balance
        invoice.message_subscribe(self.portal.partner_id.ids)
        for fname in fields:
            with self.subTest(fname), self.assertRaises(AccessError):
                self._rpc(self.portal, "account.move", "read", invoice.ids, [fname])
