from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import CollectionCommon

AS_OF = date(2026, 3, 31)
LABELS = ["Not due", "1-30", "31-60", "61-90", "91-120", "Over 120"]


class AgingCommon(CollectionCommon):
    """Invoices in every bucket on 2026-03-31, payments matched before and after
    that date, an unmatched payment, a credit note, a EUR invoice, two companies.

    As of 2026-03-31 (buckets: not due, 1-30, 31-60, 61-90, 91-120, over 120):
    Acme, company 1 (Sam):   100, 200, 300, 350, 500, 600  = 2050
    Acme, company 2 (admin):   0, 800,   0,   0,   0,   0  =  800
    Globex, company 1 (Sally): 0, 890, 150,   0,   0,   0  = 1040
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_2 = cls.setup_other_company()["company"]
        cls.eur = cls.setup_other_currency(
            "EUR", rates=[("2025-01-01", 2.0), ("2026-04-01", 2.5)]
        )
        cls.customer.user_id = cls.salesperson
        cls.customer_2.user_id = cls.salesperson_2
        cls.admin = cls.env.user
        cls.allowed = {"allowed_company_ids": (cls.company + cls.company_2).ids}

        def invoice(due, amount, invoice_date, **kwargs):
            return cls._post_invoice(due, amount, invoice_date=invoice_date, **kwargs)

        # Acme, company 1, salesperson Sam
        cls.inv_not_due = invoice(date(2026, 4, 15), 100.0, date(2026, 3, 20))
        cls.inv_1_30 = invoice(date(2026, 3, 16), 200.0, date(2026, 3, 1))
        cls.inv_31_60 = invoice(date(2026, 2, 14), 300.0, date(2026, 1, 15))
        cls.inv_61_90 = invoice(date(2026, 1, 15), 400.0, date(2025, 12, 16))
        cls.inv_91_120 = invoice(date(2025, 12, 16), 500.0, date(2025, 11, 16))
        cls.inv_over_120 = invoice(date(2025, 10, 1), 600.0, date(2025, 9, 1))
        cls.inv_paid = invoice(date(2026, 3, 10), 250.0, date(2026, 3, 1))
        cls.inv_later = invoice(date(2026, 5, 5), 999.0, date(2026, 4, 5))
        # Globex, company 1, salesperson Sally
        cls.inv_globex = invoice(
            date(2026, 3, 1),
            1000.0,
            date(2026, 2, 1),
            partner=cls.customer_2,
            user=cls.salesperson_2,
        )
        cls.refund_globex = invoice(
            date(2026, 3, 5),
            40.0,
            date(2026, 3, 5),
            partner=cls.customer_2,
            user=cls.salesperson_2,
            move_type="out_refund",
        )
        cls.inv_eur = invoice(
            date(2026, 2, 20),
            300.0,
            date(2026, 1, 20),
            partner=cls.customer_2,
            user=cls.salesperson_2,
            currency=cls.eur,
        )
        cls.payment_globex = cls.env["account.payment"].create(
            {
                "amount": 70.0,
                "date": date(2026, 3, 20),
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": cls.customer_2.id,
            }
        )
        cls.payment_globex.action_post()
        # Acme, company 2
        cls.inv_company_2 = invoice(
            date(2026, 3, 25),
            800.0,
            date(2026, 3, 1),
            company=cls.company_2,
            user=cls.admin,
        )
        # matched before / after the aging date, and fully paid before it
        cls._pay_class(cls.inv_61_90, 50.0, date(2026, 3, 10))
        cls._pay_class(cls.inv_91_120, 100.0, date(2026, 4, 10))
        cls._pay_class(cls.inv_paid, None, date(2026, 3, 15))
        # a draft invoice never counts
        draft = cls.inv_1_30.copy({"invoice_date": date(2026, 3, 1)})
        assert draft.state == "draft"

    @classmethod
    def _pay_class(cls, move, amount, pay_date):
        wizard = (
            cls.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create(
                {
                    "payment_date": pay_date,
                    **({"amount": amount} if amount is not None else {}),
                }
            )
        )
        return wizard._create_payments()

    def _aging(self, **kwargs):
        kwargs.setdefault("company_ids", self.company.ids)
        kwargs.setdefault("date_at", AS_OF)
        return (
            self.env["collection.aging.wizard"]
            .with_context(**self.allowed)
            ._collection_aging(**kwargs)
        )

    def _receivable_balance(self, companies, date_at=AS_OF):
        """Odoo's own figure: balance of the receivable accounts on ``date_at``."""
        [[balance]] = self.env["account.move.line"]._read_group(
            [
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("date", "<=", date_at),
                ("company_id", "in", companies.ids),
            ],
            aggregates=["balance:sum"],
        )
        return self.company.currency_id.round(balance)

    def _rows(self, result):
        return {row["name"]: row["amounts"] for row in result["rows"]}


@tagged("post_install", "-at_install")
class TestAgingComputation(AgingCommon):
    def test_hand_computed_rows_and_tie_out(self):
        result = self._aging()
        self.assertEqual(result["labels"], LABELS)
        self.assertEqual(
            self._rows(result),
            {
                "Acme Customer": [100.0, 200.0, 300.0, 350.0, 500.0, 600.0],
                "Globex Customer": [0.0, 890.0, 150.0, 0.0, 0.0, 0.0],
            },
        )
        self.assertEqual(
            [row["name"] for row in result["rows"]],
            ["Acme Customer", "Globex Customer"],
            "sorted by total, largest first",
        )
        self.assertEqual(result["totals"], [100.0, 1090.0, 450.0, 350.0, 500.0, 600.0])
        self.assertEqual(result["total"], 3090.0)
        self.assertEqual(result["total"], self._receivable_balance(self.company))
        for row in result["rows"]:
            self.assertEqual(row["total"], sum(row["amounts"]))

    def test_two_companies_and_grouping_by_salesperson(self):
        companies = self.company + self.company_2
        self.assertEqual(self.company_2.currency_id, self.company.currency_id)
        by_partner = self._aging(company_ids=companies.ids)
        self.assertEqual(
            self._rows(by_partner)["Acme Customer"],
            [100.0, 1000.0, 300.0, 350.0, 500.0, 600.0],
        )
        self.assertEqual(by_partner["total"], 3890.0)
        self.assertEqual(by_partner["total"], self._receivable_balance(companies))
        self.assertEqual(sum(by_partner["totals"]), by_partner["total"])

        by_user = self._aging(company_ids=companies.ids, group_by="user")
        self.assertEqual(by_user["total"], by_partner["total"])
        self.assertEqual(by_user["totals"], by_partner["totals"])
        self.assertEqual(
            {row["key"]: row["total"] for row in by_user["rows"]},
            {
                self.salesperson.id: 2050.0,
                self.salesperson_2.id: 1040.0,
                self.admin.id: 800.0,
            },
        )

    def test_past_date_ignores_later_matching(self):
        before = self._aging()
        detail_before = self.env["collection.aging.wizard"]._collection_aging_detail(
            self.company.ids, AS_OF
        )
        # after the aging date: full payment of the EUR invoice at another rate
        # (exchange difference), a payment, and the credit note matched
        self._pay(self.inv_eur, None, date(2026, 4, 20))
        self._pay(self.inv_1_30, 200.0, date(2026, 4, 2))
        inv_april = self._post_invoice(
            date(2026, 5, 5),
            40.0,
            self.customer_2,
            self.salesperson_2,
            invoice_date=date(2026, 4, 5),
        )
        (inv_april + self.refund_globex).line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        ).reconcile()
        self.assertEqual(self.refund_globex.payment_state, "paid")
        self.assertEqual(self.inv_eur.payment_state, "paid")
        self.assertTrue(
            self.inv_eur.line_ids.matched_credit_ids.exchange_move_id,
            "the fixture has an exchange difference",
        )
        self.assertEqual(self._aging(), before)
        self.assertEqual(
            self.env["collection.aging.wizard"]._collection_aging_detail(
                self.company.ids, AS_OF
            ),
            detail_before,
        )
        # today, the aging agrees with the residual amounts and the balance
        today = date(2026, 11, 22)
        now = self._aging(date_at=today)
        receivable = self.env["account.move.line"].search(
            [
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("company_id", "=", self.company.id),
            ]
        )
        self.assertEqual(
            now["total"], round(sum(receivable.mapped("amount_residual")), 2)
        )
        self.assertEqual(now["total"], self._receivable_balance(self.company, today))
        self.assertEqual(self._rows(now)["Globex Customer"][2], 0.0, "EUR invoice paid")

    def test_detail_per_journal_item(self):
        detail = self.env["collection.aging.wizard"]._collection_aging_detail(
            self.company.ids, AS_OF
        )
        by_move = {item["move_id"]: item for item in detail}
        self.assertNotIn(self.inv_paid.id, by_move)
        self.assertNotIn(self.inv_later.id, by_move)
        item = by_move[self.inv_61_90.id]
        self.assertEqual(item["amount"], 350.0)
        self.assertEqual(item["days"], 75)
        self.assertEqual(item["bucket"], 3)
        self.assertEqual(item["partner_id"], self.customer.id)
        self.assertEqual(item["user_id"], self.salesperson.id)
        self.assertEqual(item["move_name"], self.inv_61_90.name)
        self.assertEqual(by_move[self.inv_globex.id]["days"], 30)
        self.assertEqual(by_move[self.inv_globex.id]["bucket"], 1, "30 days is 1-30")
        self.assertEqual(by_move[self.inv_not_due.id]["bucket"], 0)
        self.assertEqual(by_move[self.inv_eur.id]["amount"], 150.0, "company currency")
        self.assertEqual(by_move[self.refund_globex.id]["amount"], -40.0)
        payment = by_move[self.payment_globex.move_id.id]
        self.assertEqual(payment["amount"], -70.0)
        self.assertEqual(
            payment["user_id"], self.salesperson_2.id, "customer's salesperson"
        )
        self.assertEqual(round(sum(item["amount"] for item in detail), 2), 3090.0)

    def test_aging_by_invoice_date_and_custom_buckets(self):
        result = self._aging(aging_by="invoice", limits=(0, 45, 100))
        self.assertEqual(result["labels"], ["Not due", "1-45", "46-100", "Over 100"])
        # invoice dates: 03-20 (11 days), 03-01 (30), 01-15 (75), 12-16 (105),
        # 11-16 (135), 09-01 (211); Globex 02-01 (58), 03-05 (26), 01-20 (70),
        # payment 03-20 (11)
        self.assertEqual(
            self._rows(result),
            {
                "Acme Customer": [0.0, 300.0, 300.0, 1450.0],
                "Globex Customer": [0.0, -110.0, 1150.0, 0.0],
            },
        )
        self.assertEqual(result["total"], 3090.0)

    def test_excluded_invoices(self):
        self.inv_over_120.collection_excluded = True
        self.assertEqual(self._aging()["total"], 3090.0)
        result = self._aging(include_excluded=False)
        self.assertEqual(self._rows(result)["Acme Customer"][5], 0.0)
        self.assertEqual(result["total"], 2490.0)

    def test_filters(self):
        result = self._aging(partner_ids=self.customer_2.ids)
        self.assertEqual(list(self._rows(result)), ["Globex Customer"])
        result = self._aging(user_ids=self.salesperson.ids, group_by="user")
        self.assertEqual([row["name"] for row in result["rows"]], ["Sam Seller"])
        self.assertEqual(result["total"], 2050.0)

    def test_set_based(self):
        """The number of queries does not grow with the number of open items."""
        wizard = self.env["collection.aging.wizard"].with_context(**self.allowed)
        wizard._collection_aging(self.company.ids, AS_OF)  # warm the caches
        counts = []
        for extra in (0, 5):
            for _index in range(extra):
                self._post_invoice(
                    date(2026, 3, 1), 10.0, invoice_date=date(2026, 2, 1)
                )
            self.env.flush_all()
            self.env.invalidate_all()
            start = self.cr.sql_log_count
            result = wizard._collection_aging(self.company.ids, AS_OF)
            counts.append(self.cr.sql_log_count - start)
        self.assertEqual(result["total"], 3140.0)
        self.assertEqual(counts[0], counts[1])

    def test_security(self):
        sam = self.env["collection.aging.wizard"].with_user(self.salesperson)
        result = sam._collection_aging(self.company.ids, AS_OF)
        self.assertEqual(list(self._rows(result)), ["Acme Customer"])
        self.assertEqual(result["total"], 2050.0, "only Sam's customers")
        with self.assertRaises(AccessError):
            sam._collection_aging(
                self.company.ids, AS_OF, user_ids=self.salesperson_2.ids
            )
        with self.assertRaises(AccessError):
            sam._collection_aging(self.company_2.ids, AS_OF)
        admin = self.env["collection.aging.wizard"].with_context(
            allowed_company_ids=self.company.ids
        )
        with self.assertRaisesRegex(AccessError, "company_2"):
            admin._collection_aging(self.company_2.ids, AS_OF)
