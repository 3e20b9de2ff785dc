import subprocess
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import format_amount, format_date, mute_logger

from odoo.addons.base.models.ir_actions_report import IrActionsReport

from .test_aging import AS_OF, LABELS, AgingCommon

STATEMENT = "account_collections.action_report_customer_statement"
STATEMENT_MODEL = "report.account_collections.report_customer_statement"


@tagged("post_install", "-at_install")
class TestCustomerStatement(AgingCommon):
    def _statements(self, partners, user=None, date_at=AS_OF):
        report = self.env[STATEMENT_MODEL]
        if user:
            report = report.with_user(user)
        return report._collection_statement_values(partners, date_at, self.company)

    def test_totals_equal_the_customers_aging_row(self):
        aging = {row["key"]: row for row in self._aging()["rows"]}
        statements = self._statements(self.customer | self.customer_2)
        for customer in self.customer | self.customer_2:
            statement = statements[customer.id]
            self.assertEqual(statement["labels"], LABELS)
            self.assertEqual(statement["buckets"], aging[customer.id]["amounts"])
            self.assertEqual(statement["total"], aging[customer.id]["total"])
        acme = statements[self.customer.id]
        self.assertEqual(acme["buckets"], [100.0, 200.0, 300.0, 350.0, 500.0, 600.0])
        self.assertEqual(acme["total"], 2050.0)
        self.assertEqual(statements[self.customer_2.id]["total"], 1040.0)
        # the open items: the paid one and the one dated later are not listed; the
        # one paid after the date is still due in full then
        by_name = {item["name"]: item for item in acme["items"]}
        self.assertEqual(
            set(by_name),
            {
                move.name
                for move in (
                    self.inv_not_due,
                    self.inv_1_30,
                    self.inv_31_60,
                    self.inv_61_90,
                    self.inv_91_120,
                    self.inv_over_120,
                )
            },
        )
        self.assertAlmostEqual(sum(i["amount"] for i in acme["items"]), 2050.0)
        partly_paid = by_name[self.inv_61_90.name]
        self.assertEqual(
            (partly_paid["amount_original"], partly_paid["amount"]), (400.0, 350.0)
        )
        self.assertEqual(by_name[self.inv_91_120.name]["amount"], 500.0)
        self.assertEqual(by_name[self.inv_1_30.name]["days_overdue"], 15)
        self.assertEqual(by_name[self.inv_not_due.name]["days_overdue"], 0)
        # payments of the last 30 days: those of 03-10 and 03-15, not 04-10
        self.assertEqual(
            [(p["date"].isoformat(), p["amount"]) for p in acme["payments"]],
            [("2026-03-10", 50.0), ("2026-03-15", 250.0)],
        )
        self.assertEqual(acme["payments_total"], 300.0)
        self.assertTrue(acme["portal_url"].endswith("/my/collections"))

    def test_many_customers_in_one_pdf_each_in_their_language(self):
        self._load_spanish()
        self.customer_2.lang = "es_ES"
        customers = self.customer | self.customer_2
        report = self.env.ref(STATEMENT)
        html = report._render_qweb_html(STATEMENT, customers.ids, {"date_at": AS_OF})[
            0
        ].decode()
        self.assertIn("Statement of Account", html)
        self.assertIn("Estado de cuenta", html)
        self.assertIn(self.inv_over_120.name, html)
        self.assertIn(self.inv_globex.name, html)
        calls = []
        run = IrActionsReport._run_wkhtmltopdf

        def counted(*args, **kwargs):
            calls.append(args)
            return run(*args, **kwargs)

        with (
            patch.object(IrActionsReport, "_run_wkhtmltopdf", counted),
            mute_logger("odoo.addons.base.models.ir_actions_report"),
        ):
            files = (
                self.env[STATEMENT_MODEL]
                .with_context(force_report_rendering=True)
                ._collection_statement_files(customers, AS_OF, self.company)
            )
        self.assertEqual(len(calls), 1, "both customers in one wkhtmltopdf call")
        self.assertEqual(set(files), set(customers.ids), "one file per customer")
        for content, kind in files.values():
            self.assertEqual(kind, "pdf")
            self.assertTrue(content.startswith(b"%PDF"))
        texts = {
            customer_id: subprocess.run(
                ["pdftotext", "-", "-"], input=content, capture_output=True, check=True
            ).stdout.decode()
            for customer_id, (content, _kind) in files.items()
        }
        self.assertIn(self.inv_over_120.name, texts[self.customer.id])
        self.assertNotIn(self.inv_globex.name, texts[self.customer.id])
        self.assertIn(self.inv_globex.name, texts[self.customer_2.id])
        self.assertIn("Estado de cuenta", texts[self.customer_2.id])

    def test_lines_written_as_odoo_formats_dates_and_amounts(self):
        """The statement's lines are formatted once per call, not by a widget per
        cell: they read as Odoo's format_date and format_amount, per language
        (the amount formatter is the one the customer emails' tables use)."""
        self._load_spanish()
        euro = self.env.ref("base.EUR")
        report = self.env[STATEMENT_MODEL]
        for lang in ("en_US", "es_ES"):
            env = report.with_context(lang=lang).env
            for currency in (self.company.currency_id, euro):
                date_text, amount_text = report.with_context(
                    lang=lang
                )._collection_formatters(currency)
                for amount in (0.0, 5.0, -1234.5, 1234567.891, 0.004):
                    self.assertEqual(
                        amount_text(amount), format_amount(env, amount, currency)
                    )
            self.assertEqual(date_text(AS_OF), format_date(env, AS_OF))
            self.assertEqual(date_text(False), "")

    def test_printable_from_customers_by_collection_users(self):
        report = self.env.ref(STATEMENT)
        self.assertEqual(report.binding_model_id.model, "res.partner")
        bindings = (
            self.env["ir.actions.actions"]
            .with_user(self.salesperson)
            .get_bindings("res.partner")
        )
        self.assertIn(report.id, [action["id"] for action in bindings["report"]])

    def test_salesperson_only_sees_own_customers_items(self):
        sally = self.salesperson_2
        statements = self._statements(self.customer | self.customer_2, user=sally)
        self.assertFalse(statements[self.customer.id]["items"], "Sam's customer")
        self.assertEqual(statements[self.customer.id]["total"], 0.0)
        self.assertEqual(statements[self.customer_2.id]["total"], 1040.0)
        # a company she does not work in cannot be forged into the data
        with self.assertRaises(AccessError):
            self.env[STATEMENT_MODEL].with_user(sally)._get_report_values(
                self.customer_2.ids, {"date_at": AS_OF, "company_id": self.company_2.id}
            )
