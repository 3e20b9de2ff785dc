import base64
import io
from datetime import date

import openpyxl

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import AGING_REPORT, CollectionCommon

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
            self.env[AGING_REPORT]
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
        detail_before = self.env[AGING_REPORT]._collection_aging_detail(
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
            self.env[AGING_REPORT]._collection_aging_detail(self.company.ids, AS_OF),
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
        detail = self.env[AGING_REPORT]._collection_aging_detail(
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
        self.inv_over_120.sudo().collection_excluded = True
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

    def test_companies_in_other_currencies_refused(self):
        company_eur = self.setup_other_company(
            name="company_eur", currency_id=self.eur.id
        )["company"]
        self.assertEqual(company_eur.currency_id, self.eur)
        companies = self.company + company_eur
        report = self.env[AGING_REPORT].with_context(allowed_company_ids=companies.ids)
        with self.assertRaisesRegex(UserError, "do not share a currency"):
            report._collection_aging(companies.ids, AS_OF)
        self.assertEqual(report._collection_aging(company_eur.ids, AS_OF)["total"], 0.0)

    def test_set_based(self):
        """The number of queries does not grow with the number of open items."""
        report = self.env[AGING_REPORT].with_context(**self.allowed)
        report._collection_aging(self.company.ids, AS_OF)  # warm the caches
        counts = []
        for extra in (0, 5):
            for _index in range(extra):
                self._post_invoice(
                    date(2026, 3, 1), 10.0, invoice_date=date(2026, 2, 1)
                )
            self.env.flush_all()
            self.env.invalidate_all()
            start = self.cr.sql_log_count
            result = report._collection_aging(self.company.ids, AS_OF)
            counts.append(self.cr.sql_log_count - start)
        self.assertEqual(result["total"], 3140.0)
        self.assertEqual(counts[0], counts[1])

    def test_security(self):
        sam = self.env[AGING_REPORT].with_user(self.salesperson)
        result = sam._collection_aging(self.company.ids, AS_OF)
        self.assertEqual(list(self._rows(result)), ["Acme Customer"])
        self.assertEqual(result["total"], 2050.0, "only Sam's customers")
        with self.assertRaises(AccessError):
            sam._collection_aging(
                self.company.ids, AS_OF, user_ids=self.salesperson_2.ids
            )
        with self.assertRaises(AccessError):
            sam._collection_aging(self.company_2.ids, AS_OF)
        admin = self.env[AGING_REPORT].with_context(
            allowed_company_ids=self.company.ids
        )
        with self.assertRaisesRegex(AccessError, "company_2"):
            admin._collection_aging(self.company_2.ids, AS_OF)


@tagged("post_install", "-at_install")
class TestAgingWizard(AgingCommon):
    def _wizard(self, **vals):
        return (
            self.env["collection.aging.wizard"]
            .with_context(**self.allowed)
            .create({"date_at": AS_OF, **vals})
        )

    def _xlsx(self, wizard):
        action = wizard.action_export_xlsx()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertIn(f"model=collection.aging.wizard&id={wizard.id}", action["url"])
        self.assertIn("field=xlsx_file&filename_field=xlsx_filename", action["url"])
        self.assertIn(
            "mimetype=application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            action["url"],
        )
        self.assertEqual(wizard.xlsx_filename, "aging_2026-03-31.xlsx")
        return openpyxl.load_workbook(io.BytesIO(base64.b64decode(wizard.xlsx_file)))

    def test_defaults(self):
        wizard = self.env["collection.aging.wizard"].create({})
        self.assertEqual(wizard.bucket_limits, "30,60,90,120")
        self.assertEqual(wizard._collection_parse_limits(), (0, 30, 60, 90, 120))
        self.assertEqual(wizard.aging_by, "due")
        self.assertEqual(wizard.group_by, "partner")
        self.assertEqual(wizard.company_ids, self.env.company)
        self.assertTrue(wizard.include_excluded)
        self.assertFalse(wizard.user_ids, "an accountant sees every salesperson")
        sam_wizard = (
            self.env["collection.aging.wizard"].with_user(self.salesperson).create({})
        )
        self.assertEqual(sam_wizard.user_ids, self.salesperson)
        self.assertTrue(sam_wizard.collection_restricted)

    def test_xlsx_ties_out(self):
        companies = self.company + self.company_2
        wizard = self._wizard(company_ids=[(6, 0, companies.ids)])
        book = self._xlsx(wizard)
        self.assertEqual(len(book.worksheets), 3)
        rows = list(book.worksheets[0].iter_rows(values_only=True))
        self.assertEqual(rows[0], ("Customer", *LABELS, "Total"))
        self.assertEqual(rows[-1][0], "Total")
        self.assertEqual(rows[-1][-1], self._receivable_balance(companies))
        self.assertEqual(rows[-1][-1], 3890.0)
        self.assertEqual(rows[-1][1:-1], (100.0, 1890.0, 450.0, 350.0, 500.0, 600.0))
        self.assertEqual(
            rows[1:-1],
            [
                ("Acme Customer", 100.0, 1000.0, 300.0, 350.0, 500.0, 600.0, 2850.0),
                ("Globex Customer", 0.0, 890.0, 150.0, 0.0, 0.0, 0.0, 1040.0),
            ],
        )
        for row in rows[1:]:
            self.assertAlmostEqual(sum(row[1:-1]), row[-1], places=2)
        sheet = book.worksheets[0]
        self.assertEqual(sheet.freeze_panes, "B2")
        self.assertEqual(sheet.auto_filter.ref, "A1:H3")
        self.assertIn("#,##0.00", sheet["B2"].number_format)
        self.assertGreater(sheet.column_dimensions["A"].width, 15)

        # the detail sheet: one row per open item, with its company (two here)
        detail = list(book.worksheets[1].iter_rows(values_only=True))
        self.assertEqual(
            detail[0],
            (
                "Company",
                "Customer",
                "Salesperson",
                "Journal Entry",
                "Date",
                "Due Date",
                "Bucket",
                "Excluded",
                "Open Amount",
            ),
        )
        items = self.env[AGING_REPORT]._collection_aging_detail(companies.ids, AS_OF)
        self.assertEqual(len(detail) - 1, len(items))
        self.assertAlmostEqual(sum(row[-1] for row in detail[1:]), 3890.0, places=2)
        self.assertEqual({row[0] for row in detail[1:]}, set(companies.mapped("name")))
        for row, item in zip(detail[1:], items, strict=True):
            self.assertEqual(row[3], item["move_name"])
            self.assertEqual(row[4].date(), item["date"])
            self.assertEqual(row[6], LABELS[item["bucket"]])
            self.assertEqual(row[7], "Yes" if item["excluded"] else None)

        detail = list(book.worksheets[1].iter_rows(values_only=True))
        self.assertEqual(detail[0][1], "Customer")
        self.assertEqual(detail[0][-1], "Open Amount")
        self.assertEqual(len(detail) - 1, 11, "one row per open journal item")
        self.assertAlmostEqual(sum(row[-1] for row in detail[1:]), 3890.0, places=2)
        self.assertEqual(book.worksheets[1].freeze_panes, "A2")

    def test_xlsx_by_salesperson(self):
        companies = self.company + self.company_2
        wizard = self._wizard(company_ids=[(6, 0, companies.ids)], group_by="user")
        rows = list(self._xlsx(wizard).worksheets[0].iter_rows(values_only=True))
        self.assertEqual(rows[0][0], "Salesperson")
        self.assertEqual(
            {row[0]: row[-1] for row in rows[1:-1]},
            {"Sam Seller": 2050.0, "Sally Seller": 1040.0, self.admin.name: 800.0},
        )
        self.assertEqual(rows[-1][0], "Total")
        self.assertEqual(rows[-1][-1], self._receivable_balance(companies))

    def test_bad_buckets_refused(self):
        for text, message in (
            ("30,20", "strictly increasing"),
            ("30,30", "strictly increasing"),
            ("abc", "whole number"),
            ("30,-60", "whole number"),
            ("0,30", "greater than zero"),
            ("10,20,30,40,50,60,70", "At most 6"),
            ("  ", "Enter the bucket boundaries"),
        ):
            with (
                self.subTest(text=text),
                self.assertRaisesRegex(ValidationError, message),
            ):
                self._wizard(bucket_limits=text)
        wizard = self._wizard(bucket_limits=" 15, 45 ,90")
        self.assertEqual(wizard._collection_parse_limits(), (0, 15, 45, 90))
        with self.assertRaisesRegex(ValidationError, "strictly increasing"):
            wizard.bucket_limits = "90,45"
        with self.assertRaisesRegex(UserError, "strictly increasing"):
            self._aging(limits=(0, 60, 30))

    def test_custom_buckets_xlsx(self):
        wizard = self._wizard(bucket_limits="15,45")
        rows = list(self._xlsx(wizard).worksheets[0].iter_rows(values_only=True))
        self.assertEqual(
            rows[0], ("Customer", "Not due", "1-15", "16-45", "Over 45", "Total")
        )
        self.assertEqual(rows[-1], ("Total", 100.0, 130.0, 1410.0, 1450.0, 3090.0))
        detail = list(self._xlsx(wizard).worksheets[1].iter_rows(values_only=True))
        self.assertEqual(detail[0][0], "Customer", "one company: no company column")
        self.assertEqual(
            {row[5] for row in detail[1:]} - {"Not due", "1-15", "16-45", "Over 45"},
            set(),
            "the custom buckets label the items",
        )
        self.assertAlmostEqual(sum(row[-1] for row in detail[1:]), 3090.0, places=2)

    def test_pdf(self):
        self.company.external_report_layout_id = self.env.ref(
            "web.external_layout_standard"
        )
        wizard = self._wizard()
        action = wizard.action_print_pdf()
        self.assertEqual(action["type"], "ir.actions.report")
        self.assertEqual(
            action["report_name"],
            "account_collections.collection_aging_report_document",
        )
        report = self.env.ref("account_collections.collection_aging_report_action")
        self.assertEqual(report.paperformat_id.orientation, "Landscape")
        html = self.env["ir.actions.report"]._render_qweb_html(report, wizard.ids)[0]
        html = html.decode()
        for text in (
            "Receivable Aging",
            "03/31/2026",
            "Acme Customer",
            "Globex Customer",
            "Over 120",
            "3,090.00",
            "1,090.00",
            "35.3",  # 1090 / 3090 in 1-30
            self.company.name,
        ):
            self.assertIn(text, html)

    def test_on_screen_drill_down(self):
        wizard = self._wizard(group_by="user")
        action = wizard.action_view_aging()
        self.assertEqual(action["res_model"], "collection.aging.line")
        self.assertEqual(action["context"]["pivot_row_groupby"], ["user_id"])
        self.assertEqual(action["context"]["pivot_column_groupby"], ["bucket_id"])
        Line = self.env["collection.aging.line"]
        lines = Line.search(action["domain"])
        self.assertEqual(len(lines), 8, "Sam: 6 buckets, Sally: 2")
        # the pivot's columns: the buckets in order, summing to the aging
        groups = Line._read_group(action["domain"], ["bucket_id"], ["amount:sum"])
        self.assertEqual(
            [(bucket.name, amount) for bucket, amount in groups],
            list(zip(LABELS, [100.0, 1090.0, 450.0, 350.0, 500.0, 600.0], strict=True)),
        )
        sally_1_30 = lines.filtered(
            lambda line: (
                line.user_id == self.salesperson_2 and line.bucket_id.name == "1-30"
            )
        )
        self.assertEqual(sally_1_30.amount, 890.0)
        self.assertEqual(sally_1_30.item_count, 3)
        drill = sally_1_30.action_open_move_lines()
        self.assertEqual(drill["res_model"], "account.move.line")
        items = self.env["account.move.line"].search(drill["domain"])
        self.assertEqual(
            items.move_id,
            self.inv_globex + self.refund_globex + self.payment_globex.move_id,
        )
        self.assertTrue(all(item.account_type == "asset_receivable" for item in items))
        sam_61_90 = lines.filtered(
            lambda line: (
                line.user_id == self.salesperson and line.bucket_id.name == "61-90"
            )
        )
        self.assertEqual(sam_61_90.amount, 350.0)
        items = self.env["account.move.line"].search(
            sam_61_90.action_open_move_lines()["domain"]
        )
        self.assertEqual(items.move_id, self.inv_61_90)
        # running again replaces the previous result
        wizard.write({"date_at": date(2026, 3, 9), "group_by": "partner"})
        wizard.action_view_aging()
        lines = Line.search(action["domain"])
        self.assertEqual(set(lines.user_id.ids), set())
        self.assertEqual(lines.partner_id, self.customer + self.customer_2)
        self.assertEqual(
            sum(lines.mapped("amount")),
            self._receivable_balance(self.company, date(2026, 3, 9)),
        )

    def test_salesperson_sees_only_own_result(self):
        self._wizard().action_view_aging()
        sam_lines = self.env["collection.aging.line"].with_user(self.salesperson)
        self.assertFalse(sam_lines.search([]), "another user's aging is private")
        wizard = (
            self.env["collection.aging.wizard"]
            .with_user(self.salesperson)
            .create({"date_at": AS_OF})
        )
        wizard.action_view_aging()
        lines = sam_lines.search([])
        self.assertEqual(lines.partner_id, self.customer)
        self.assertEqual(sum(lines.mapped("amount")), 2050.0)
        items = self.env["account.move.line"].search(
            lines.action_open_move_lines()["domain"]
        )
        self.assertEqual(len(items), 6)
        self.assertEqual(items.move_id.invoice_user_id, self.salesperson)
        rows = list(self._xlsx(wizard).worksheets[0].iter_rows(values_only=True))
        self.assertEqual([row[0] for row in rows[1:]], ["Acme Customer", "Total"])
        wizard.user_ids = self.salesperson_2
        with self.assertRaises(AccessError):
            wizard.action_export_xlsx()

    def test_other_company_refused(self):
        wizard = (
            self.env["collection.aging.wizard"]
            .with_context(allowed_company_ids=self.company.ids)
            .create({"date_at": AS_OF, "company_ids": [(6, 0, self.company_2.ids)]})
        )
        for action in ("action_view_aging", "action_export_xlsx", "action_print_pdf"):
            with self.subTest(action=action), self.assertRaises(AccessError):
                getattr(wizard, action)()
        self.assertFalse(wizard.xlsx_file)
