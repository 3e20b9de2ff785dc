from datetime import date, timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, tagged

from .common import AGING_REPORT, CollectionCommon
from .common_promises import PromiseCommon

REPORT_DATE = date(2026, 3, 31)  # 90-day period: 2026-01-01 .. 2026-03-31
PREVIOUS_DATE = date(2026, 3, 24)  # previous week: 2025-12-25 .. 2026-03-24


@tagged("post_install", "-at_install")
class TestPortfolioKpis(CollectionCommon):
    """Portfolio KPIs against a small portfolio computed by hand.

    ===  ===========  ===========  ======  ===========  ===========================
    inv  invoice      due          amount  salesperson  as of 2026-03-31
    ===  ===========  ===========  ======  ===========  ===========================
    A    2025-12-01   2025-12-31   1000    Sam          open, 90 days late
    B    2026-01-10   2026-02-09   2000    Sam          paid 2026-02-19 (40 days)
    C    2026-02-01   2026-03-03   3000    Sally        1000 paid 03-10, 28 days late
    D    2026-03-15   2026-04-14   4000    Sally        not due
    E    2026-03-20   2026-03-20   -500    Sam          credit note, unapplied
    F    2026-03-01   2026-03-31   600     Sam          not due (paid 04-05, later)
    G    2026-03-27   2026-04-26   700     Sam          not due (after the prev. week)
    ===  ===========  ===========  ======  ===========  ===========================
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        post = cls._post_invoice
        cls.inv_a = post(date(2025, 12, 31), 1000, invoice_date=date(2025, 12, 1))
        cls.inv_b = post(date(2026, 2, 9), 2000, invoice_date=date(2026, 1, 10))
        cls.inv_c = post(
            date(2026, 3, 3),
            3000,
            partner=cls.customer_2,
            user=cls.salesperson_2,
            invoice_date=date(2026, 2, 1),
        )
        cls.inv_d = post(
            date(2026, 4, 14),
            4000,
            partner=cls.customer_2,
            user=cls.salesperson_2,
            invoice_date=date(2026, 3, 15),
        )
        cls.refund_e = post(
            date(2026, 3, 20),
            500,
            move_type="out_refund",
            invoice_date=date(2026, 3, 20),
        )
        cls.inv_f = post(date(2026, 3, 31), 600, invoice_date=date(2026, 3, 1))
        cls.inv_g = post(date(2026, 4, 26), 700, invoice_date=date(2026, 3, 27))
        CollectionCommon._pay(cls, cls.inv_b, pay_date=date(2026, 2, 19))
        CollectionCommon._pay(cls, cls.inv_c, 1000, pay_date=date(2026, 3, 10))
        # the daily run escalates A and C to manager stages
        CollectionCommon._run(cls, REPORT_DATE)
        CollectionCommon._pay(cls, cls.inv_f, pay_date=date(2026, 4, 5))
        cls.portfolio = cls.env["collection.portfolio.report"]

    def _kpis(self, date_to=REPORT_DATE, period_days=90, company=None):
        return self.portfolio._collection_kpis(
            (company or self.company).ids, date_to, period_days
        )

    def assertFigures(self, figures, expected):
        for key, value in expected.items():
            with self.subTest(figure=key):
                if value is None:
                    self.assertIsNone(figures[key])
                else:
                    self.assertAlmostEqual(figures[key], value, places=3)

    def test_headline_kpis(self):
        kpis = self._kpis()
        self.assertEqual(kpis["date_from"], date(2026, 1, 1))
        self.assertEqual(kpis["previous_date_to"], PREVIOUS_DATE)
        self.assertFigures(
            kpis,
            {
                "receivable": 7800.0,
                "not_due": 5300.0,
                "overdue": 2500.0,
                "overdue_ratio": 2500 / 7800,
                "opening_receivable": 1000.0,
                "credit_sales": 9800.0,
                "dso": 7800 / 9800 * 90,
                "best_dso": 5300 / 9800 * 90,
                "add": (7800 - 5300) / 9800 * 90,
                "cei": (1000 + 9800 - 7800) / (1000 + 9800 - 5300) * 100,
                "weighted_days_late": (1000 * 90 + 2000 * 28) / 3000,
                "collection_period": 40.0,
                "average_age": (1000 * 120 + 2000 * 58 + 4000 * 16 + 600 * 30 + 700 * 4)
                / 8300,
                "escalations": 2,
            },
        )

    def test_previous_week_and_changes(self):
        kpis = self._kpis()
        self.assertFigures(
            kpis["previous"],
            {
                "receivable": 7100.0,
                "not_due": 4600.0,
                "credit_sales": 9100.0,
                "dso": 7100 / 9100 * 90,
                "weighted_days_late": (1000 * 83 + 2000 * 21) / 3000,
            },
        )
        self.assertFigures(
            kpis["delta"],
            {
                "receivable": 700.0,
                "overdue": 0.0,
                "overdue_ratio": 2500 / 7800 - 2500 / 7100,
                "dso": 7800 / 9800 * 90 - 7100 / 9100 * 90,
                "weighted_days_late": 7.0,
                "escalations": 0,
            },
        )
        # the same figures, computed for the previous week directly
        self.assertFigures(self._kpis(PREVIOUS_DATE), kpis["previous"])

    def test_later_payment_is_ignored_in_the_past(self):
        """F was paid on 04-05: open as of 03-31, settled as of 04-05."""
        self.assertAlmostEqual(self._kpis()["receivable"], 7800.0)
        later = self._kpis(date(2026, 4, 5))
        self.assertAlmostEqual(later["receivable"], 7200.0)
        # F (600 in 35 days) and B (2000 in 40 days) fully paid in the period
        self.assertAlmostEqual(
            later["collection_period"], (2000 * 40 + 600 * 35) / 2600
        )

    def test_breakdown_per_salesperson_and_policy(self):
        kpis = self._kpis()
        rows = {row["key"]: row for row in kpis["by_salesperson"]}
        self.assertEqual(set(rows), {self.salesperson.id, self.salesperson_2.id})
        self.assertEqual(
            [row["key"] for row in kpis["by_salesperson"]],
            [self.salesperson_2.id, self.salesperson.id],
            "largest receivable first",
        )
        self.assertEqual(rows[self.salesperson.id]["name"], "Sam Seller")
        self.assertFigures(
            rows[self.salesperson.id],
            {
                "receivable": 1800.0,
                "overdue": 500.0,
                "overdue_ratio": 500 / 1800,
                "credit_sales": 2800.0,
                "dso": 1800 / 2800 * 90,
                "weighted_days_late": 90.0,
                "escalations": 1,
                "opening_receivable": 1000.0,
                # (1000 + 2800 - 1800) / (1000 + 2800 - F 600 - G 700)
                "cei": 2000 / 2500 * 100,
            },
        )
        self.assertFigures(
            rows[self.salesperson_2.id],
            {
                "receivable": 6000.0,
                "overdue": 2000.0,
                "weighted_days_late": 28.0,
                "escalations": 1,
                "opening_receivable": 0.0,
                "cei": (7000 - 6000) / (7000 - 4000) * 100,
            },
        )
        self.assertAlmostEqual(rows[self.salesperson.id]["delta"]["receivable"], 700.0)
        self.assertAlmostEqual(
            sum(row["receivable"] for row in kpis["by_salesperson"]), kpis["receivable"]
        )
        (policy_row,) = kpis["by_policy"]
        self.assertEqual(policy_row["key"], self.policy.id)
        self.assertFigures(policy_row, {"receivable": 7800.0, "cei": kpis["cei"]})

    def test_query_sums_only_the_breakdowns_asked_for(self):
        """The report asks for two breakdowns and the open invoices by phase:
        the same sums as the full query (the KPI history's), in one query that
        leaves PostgreSQL's JIT setting as it found it."""
        query = self.env["collection.portfolio.query"]
        dates = [REPORT_DATE, PREVIOUS_DATE]
        self.env.cr.execute("SET LOCAL jit = on")
        full = query._collection_portfolio_sums(self.company, dates, 90)
        report = query._collection_portfolio_sums(
            self.company,
            dates,
            90,
            breakdowns=("salesperson", "policy"),
            open_by_phase=True,
        )
        self.env.cr.execute("SHOW jit")
        self.assertEqual(self.env.cr.fetchone()[0], "on")
        for full_sums, report_sums in zip(full, report, strict=True):
            self.assertEqual(
                set(report_sums) - {"aging", "open_by_phase"},
                {"total", "salesperson", "policy"},
            )
            for key in ("total", "salesperson", "policy"):
                self.assertEqual(report_sums[key], full_sums[key])
        self.assertEqual(report[0]["aging"], full[0]["aging"])
        # open on 03-31: A 1000, C 2000, D 4000, F 600, G 700 (E is a credit note)
        self.assertAlmostEqual(
            sum(values[0] for values in report[0]["open_by_phase"].values()), 8300.0
        )
        self.assertEqual(
            sum(values[1] for values in report[0]["open_by_phase"].values()), 5
        )

    def test_aging_and_top_debtors_are_the_aging_wizards(self):
        # B and C were paid (C in part) on 02-19 and 03-10, late: their amounts
        # and their payments' fall in different buckets that day. F, paid on
        # 04-05, is open on all three days.
        for day in (REPORT_DATE, date(2026, 2, 19), date(2026, 3, 10)):
            with self.subTest(day=day):
                aging = self.env[AGING_REPORT]._collection_aging(self.company.ids, day)
                self.assertEqual(self._kpis(day)["aging"], aging)
        kpis = self._kpis()
        aging = self.env[AGING_REPORT]._collection_aging(self.company.ids, REPORT_DATE)
        self.assertEqual(kpis["aging"]["labels"], aging["labels"])
        self.assertEqual(kpis["aging"]["totals"], aging["totals"])
        self.assertAlmostEqual(kpis["aging"]["total"], kpis["receivable"])
        self.assertAlmostEqual(kpis["aging"]["totals"][0], kpis["not_due"])
        top = [
            (row["name"], row["total"], row["overdue"]) for row in kpis["top_debtors"]
        ]
        self.assertEqual(
            top, [("Globex Customer", 6000.0, 2000.0), ("Acme Customer", 1800.0, 500.0)]
        )

    def test_period_without_sales_is_not_available(self):
        kpis = self._kpis(date(2027, 6, 30))
        self.assertAlmostEqual(kpis["receivable"], 7200.0)
        self.assertFigures(
            kpis,
            {
                "credit_sales": 0.0,
                "dso": None,
                "best_dso": None,
                "add": None,
                "collection_period": None,
                # opening 7200 + no sales - closing 7200, nothing collectable left
                "cei": 0.0,
            },
        )
        html = self._render_html(date(2027, 6, 30))
        self.assertIn("n/a", html)

    def test_empty_portfolio(self):
        company_b = self.setup_other_company(name="Empty Company")["company"]
        kpis = self._kpis(company=company_b)
        self.assertFigures(
            kpis,
            {
                "receivable": 0.0,
                "overdue": 0.0,
                "overdue_ratio": None,
                "dso": None,
                "best_dso": None,
                "add": None,
                "cei": None,
                "weighted_days_late": None,
                "collection_period": None,
                "average_age": None,
                "escalations": 0,
            },
        )
        self.assertEqual(kpis["by_salesperson"], [])
        self.assertEqual(kpis["top_debtors"], [])
        self.assertEqual(kpis["delta"]["dso"], None)
        html = self._render_html(company=company_b)
        self.assertIn("Nothing is owed.", html)

    def test_bad_input(self):
        with self.assertRaises(UserError):
            self._kpis(period_days=-3)
        with self.assertRaises(UserError):
            self.portfolio._collection_kpis([], REPORT_DATE)

    # -------------------------------------------------------------------------
    # QWeb report
    # -------------------------------------------------------------------------

    def _render_html(self, date_to=REPORT_DATE, company=None, env=None, kpis=None):
        company = company or self.company
        data = {"date_to": str(date_to)}
        if kpis:
            data["collection_kpis"] = {company.id: kpis}
        html, report_type = (env or self.env)["ir.actions.report"]._render_qweb_html(
            "account_collections.action_report_portfolio_status", company.ids, data=data
        )
        self.assertEqual(report_type, "html")
        return html.decode()

    def test_report_renders_figures_chart_and_definitions(self):
        html = self._render_html()
        for text in (
            "Portfolio status: " + self.company.name,
            "7,800.00",  # total receivable
            "32.1 %",  # overdue ratio
            "71.6",  # DSO
            "54.5 %",  # CEI
            "+$\N{NO-BREAK SPACE}700.00",  # receivable change since the previous week
            "Globex Customer",
            "Sally Seller",
            "Standard collection",  # the policy
            "Best Possible DSO = receivable not yet due",  # definitions footnote
        ):
            with self.subTest(text=text):
                self.assertIn(text, html)
        # aging chart: one bar per non-empty bucket, the largest at full width
        self.assertIn("width: 100.0%", html)

    def test_report_takes_the_kpis_it_is_given(self):
        """The weekly delivery computes the KPIs once, for the email body, and hands
        them to the PDF; KPIs of another date are not taken."""
        kpis = self._kpis()
        kpis["receivable"] = 123456.78
        self.assertIn("123,456.78", self._render_html(kpis=kpis))
        other_day = REPORT_DATE - timedelta(days=1)
        self.assertNotIn("123,456.78", self._render_html(other_day, kpis=kpis))

    # -------------------------------------------------------------------------
    # Access
    # -------------------------------------------------------------------------

    def test_access(self):
        manager = self._create_collection_user(
            "portfolio_manager",
            "Paula Manager",
            groups=["base.group_user", "account.group_account_manager"],
        )
        company_b = self.setup_other_company(name="Other Company")["company"]
        # a manager sees their company's report, not another company's
        kpis = self.portfolio.with_user(manager)._collection_kpis(
            self.company.ids, REPORT_DATE
        )
        self.assertAlmostEqual(kpis["receivable"], 7800.0)
        self.assertIn("7,800.00", self._render_html(env=self.env(user=manager)))
        # the dashboard's "Portfolio Status" menu opens the report on screen
        action = (
            self.env.ref("account_collections.collection_portfolio_status_action")
            .with_user(manager)
            .run()
        )
        self.assertEqual(action["type"], "ir.actions.report")
        self.assertEqual(action["report_type"], "qweb-html")
        self.assertEqual(action["context"]["active_ids"], self.company.ids)
        with self.assertRaises(AccessError):
            self.portfolio.with_user(manager)._collection_kpis(
                company_b.ids, REPORT_DATE
            )
        # a salesperson sees no portfolio report, dashboard or delivery log
        with self.assertRaises(AccessError):
            self.portfolio.with_user(self.salesperson)._collection_kpis(
                self.company.ids, REPORT_DATE
            )
        for model in ("collection.portfolio.line", "collection.report.log"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.salesperson).search([])

    def test_dashboard_lines(self):
        manager = self._create_collection_user(
            "dashboard_manager",
            "Dana Manager",
            groups=["base.group_user", "account.group_account_manager"],
        )
        lines = self.env["collection.portfolio.line"].with_user(manager)
        groups = lines._read_group([], ["user_id"], ["amount:sum"])
        amounts = dict(groups)
        # open items today: F is paid, the rest is still open
        self.assertAlmostEqual(amounts[self.salesperson], 1000 - 500 + 700)
        self.assertAlmostEqual(amounts[self.salesperson_2], 6000.0)
        line_c = lines.search([("move_id", "=", self.inv_c.id)])
        self.assertEqual(line_c.stage_id, self.stage_escalation)
        self.assertEqual(line_c.partner_id, self.customer_2)
        self.assertEqual(line_c.policy_id, self.policy)
        # another company's receivable is not visible
        company_b = self.setup_other_company(name="Company B")["company"]
        self._post_invoice(date(2026, 3, 3), 999, company=company_b)
        self.assertNotIn(
            999.0, lines.search([]).mapped("amount"), "record rule on the company"
        )


@tagged("post_install", "-at_install")
class TestPortfolioCollectionWork(PromiseCommon):
    """Promises and contacts of the period, per salesperson, and their change."""

    def test_promises_and_contacts(self):
        sam_invoice = self._post_invoice(
            date(2026, 3, 1), 1000, invoice_date=date(2026, 2, 1)
        )
        sally_invoice = self._post_invoice(
            date(2026, 3, 1),
            2000,
            partner=self.customer_2,
            user=self.salesperson_2,
            invoice_date=date(2026, 2, 1),
        )
        # kept: paid before its date
        self._log_contact(sam_invoice, on=date(2026, 3, 5))
        self._promise(sam_invoice, date(2026, 3, 10), 1000, on=date(2026, 3, 5))
        with freeze_time("2026-03-09"):
            self._pay(sam_invoice, pay_date=date(2026, 3, 9))
        # broken: nothing paid by its date, judged by the daily run
        broken = self._promise(
            sally_invoice,
            date(2026, 3, 12),
            1500,
            on=date(2026, 3, 5),
            user=self.salesperson_2,
        )
        self._run(date(2026, 3, 13))
        self.assertEqual(broken.state, "broken")
        # still open, made after the previous week
        self._promise(
            sally_invoice,
            date(2026, 4, 15),
            500,
            on=date(2026, 3, 27),
            user=self.salesperson_2,
        )
        self._log_contact(sally_invoice, on=date(2025, 12, 20), user=self.salesperson_2)
        self._log_contact(sally_invoice, on=date(2026, 3, 6), user=self.salesperson_2)
        self._log_contact(sally_invoice, on=date(2026, 3, 28), user=self.salesperson_2)

        kpis = self.env["collection.portfolio.report"]._collection_kpis(
            self.company.ids, REPORT_DATE
        )
        self.assertEqual(
            {
                key: kpis[key]
                for key in (
                    "promises_made",
                    "promises_made_amount",
                    "promises_kept",
                    "promises_kept_amount",
                    "promises_broken",
                    "promises_broken_amount",
                    "contacts",
                )
            },
            {
                "promises_made": 3,
                "promises_made_amount": 3000.0,
                "promises_kept": 1,
                "promises_kept_amount": 1000.0,
                "promises_broken": 1,
                "promises_broken_amount": 1500.0,
                "contacts": 3,  # the December contact is before the period
            },
        )
        self.assertEqual(kpis["delta"]["promises_made"], 1)
        self.assertEqual(kpis["delta"]["contacts"], 1)
        rows = {row["key"]: row for row in kpis["by_salesperson"]}
        sam, sally = rows[self.salesperson.id], rows[self.salesperson_2.id]
        self.assertEqual(
            (sam["promises_made"], sam["promises_kept"], sam["promises_broken"]),
            (1, 1, 0),
        )
        self.assertEqual(
            (sally["promises_made"], sally["promises_kept"], sally["promises_broken"]),
            (2, 0, 1),
        )
        self.assertEqual((sam["contacts"], sally["contacts"]), (1, 2))
        (policy_row,) = kpis["by_policy"]
        self.assertEqual(policy_row["promises_made"], 3)
        self.assertEqual(policy_row["contacts"], 3)
