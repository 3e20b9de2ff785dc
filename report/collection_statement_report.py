import io
import logging
import re
from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.tools import SQL
from odoo.tools.pdf import PdfFileReader, PdfFileWriter

from ..models.collection_format import amount_formatter
from ..models.collection_receivable import COLLECTION_AGING_LIMITS

_logger = logging.getLogger(__name__)

STATEMENT_REPORT = "account_collections.action_report_customer_statement"
# the invisible link that starts each customer's statement in a PDF
STATEMENT_MARKER = re.compile(r"#statement-(\d+)$")
# the statement lists the payments received in this many days up to its date
STATEMENT_PAYMENT_DAYS = 30


class CollectionStatementReport(models.AbstractModel):
    """The customer statement: a customer's open receivable items as of a date,
    their aging in the aging report's buckets, the payments of the last days and
    the total due.

    The open items and the buckets are the aging report's own (its detail query,
    its rounding, its rights), so that a statement's totals are the customer's
    row of the aging as of the same date. Many customers render in one
    wkhtmltopdf call: one page per customer.
    """

    _name = "report.account_collections.report_customer_statement"
    _description = "Customer Statement"

    @api.model
    def _collection_statement_values(self, partners, date_at, company=None):
        """The statements of ``partners`` (their commercial entities) as of
        ``date_at`` in ``company`` (default the current one), in three queries
        whatever their number.

        :return: ``{commercial partner id: {'partner', 'company', 'currency',
            'date_at', 'items': [{'name', 'date', 'date_maturity',
            'amount_original', 'amount', 'days_overdue', and the dates and
            amounts as text: 'date_text', 'date_maturity_text',
            'amount_original_text', 'amount_text'}], 'labels',
            'buckets': [per bucket], 'total', 'payments': [{'name', 'date',
            'amount'}], 'payments_total', 'portal_url'}}``; a customer with
            nothing open has no items and zero totals.
        """
        company = company or self.env.company
        customers = partners.commercial_partner_id
        aging = self.env["report.account_collections.collection_aging_report_document"]
        detail = (
            aging._collection_aging_detail(
                [company.id], date_at, partner_ids=customers.ids
            )
            if customers
            else []
        )
        currency = company.currency_id
        grouped = aging._collection_aging_result_from(
            (
                (
                    item["partner_id"],
                    item["partner_name"],
                    item["bucket"],
                    item["amount"],
                )
                for item in detail
            ),
            currency,
            COLLECTION_AGING_LIMITS,
            "partner",
        )
        rows = {row["key"]: row for row in grouped["rows"]}
        # the items' original amounts (the aging checked the rights to them)
        originals = dict(
            self.env.execute_query(
                SQL(
                    "SELECT id, balance FROM account_move_line WHERE id = ANY(%s)",
                    [item["move_line_id"] for item in detail],
                )
            )
        )
        date_text, amount_text = self._collection_formatters(currency)
        items_of = {}
        for item in detail:
            date = item["invoice_date"] or item["date"]
            original = originals.get(item["move_line_id"], 0.0)
            items_of.setdefault(item["partner_id"], []).append(
                {
                    "name": item["move_name"],
                    "date": date,
                    "date_maturity": item["date_maturity"],
                    "amount_original": original,
                    "amount": item["amount"],
                    "days_overdue": max(item["days"] or 0, 0),
                    # as the report's date and monetary widgets write them, in
                    # the language of the context
                    "date_text": date_text(date),
                    "date_maturity_text": date_text(item["date_maturity"]),
                    "amount_original_text": amount_text(original),
                    "amount_text": amount_text(item["amount"]),
                }
            )
        payments_of = self._collection_statement_payments(customers, date_at, company)
        base_url = company.get_base_url()
        labels = grouped["labels"]
        statements = {}
        for customer in customers:
            row = rows.get(customer.id)
            payments = payments_of.get(customer.id, [])
            statements[customer.id] = {
                "partner": customer,
                "company": company,
                "currency": currency,
                "date_at": date_at,
                "items": items_of.get(customer.id, []),
                "labels": labels,
                "buckets": row["amounts"] if row else [0.0] * len(labels),
                "total": row["total"] if row else 0.0,
                "payments": payments,
                "payments_total": currency.round(sum(p["amount"] for p in payments)),
                "portal_url": f"{base_url}/my/collections",
            }
        return statements

    @api.model
    def _collection_formatters(self, currency):
        """``(date_text, amount_text)``: functions that write a date and an
        amount in ``currency`` as ``format_date`` and ``format_amount`` do in the
        context's language, with the language read once (those read it at each
        call, the better part of a statement's rendering)."""
        lang = tools.get_lang(self.env)
        dates = {}

        def date_text(value):
            if value not in dates:
                dates[value] = tools.format_date(self.env, value, lang_code=lang.code)
            return dates[value]

        return date_text, amount_formatter(self.env, currency, lang.code)

    @api.model
    def _collection_statement_payments(self, customers, date_at, company):
        """The posted incoming payments of ``customers`` (commercial partners) in
        the ``STATEMENT_PAYMENT_DAYS`` days up to ``date_at``, per customer, in
        company currency; one query."""
        if not customers:
            return {}
        payments = self.env["account.payment"].search(
            [
                ("partner_id", "child_of", customers.ids),
                ("company_id", "=", company.id),
                ("partner_type", "=", "customer"),
                ("payment_type", "=", "inbound"),
                ("state", "in", ("in_process", "paid")),
                ("date", ">", date_at - timedelta(days=STATEMENT_PAYMENT_DAYS)),
                ("date", "<=", date_at),
            ],
            order="date, id",
        )
        result = {}
        for payment in payments:
            result.setdefault(payment.partner_id.commercial_partner_id.id, []).append(
                {
                    "name": payment.name,
                    "date": payment.date,
                    "amount": payment.amount_company_currency_signed,
                }
            )
        return result

    @api.model
    def _get_report_values(self, docids, data=None):
        """One statement per commercial customer of ``docids``, as of
        ``data['date_at']`` (default today), in the customer's language."""
        data = data or {}
        date_at = fields.Date.to_date(data.get("date_at")) or fields.Date.context_today(
            self
        )
        company = (
            self.env["res.company"].browse(data["company_id"])
            if data.get("company_id")
            else self.env.company
        )
        customers = self.env["res.partner"].browse(docids).commercial_partner_id
        statements = {}
        # the bucket labels in each customer's language
        for lang, group in customers.grouped("lang").items():
            statements.update(
                self.with_context(
                    lang=lang or self.env.lang
                )._collection_statement_values(group, date_at, company)
            )
        return {
            "doc_ids": customers.ids,
            "doc_model": "res.partner",
            "docs": customers,
            "statements": statements,
            "company": company,
        }

    # -------------------------------------------------------------------------
    # Files per customer
    # -------------------------------------------------------------------------

    @api.model
    def _collection_statement_files(self, customers, date_at, company):
        """``{customer id: (content, extension)}``: the statements of
        ``customers`` (commercial partners) as of ``date_at`` in ``company``, one
        file each, rendered in one wkhtmltopdf call and split at each customer's
        marker. Tests get HTML, as Odoo's reports in tests, unless they force the
        PDF."""
        report = self.env["ir.actions.report"].with_company(company)
        data = {"date_at": fields.Date.to_string(date_at), "company_id": company.id}
        if (
            tools.config["test_enable"] or tools.config["test_file"]
        ) and not self.env.context.get("force_report_rendering"):
            return {
                customer.id: (
                    report._render_qweb_html(STATEMENT_REPORT, customer.ids, data)[0],
                    "html",
                )
                for customer in customers
            }
        pdf = report._render_qweb_pdf(STATEMENT_REPORT, customers.ids, data)[0]
        files = self._collection_split_statements(pdf) if len(customers) > 1 else {}
        if set(files) != set(customers.ids):
            if len(customers) > 1:
                _logger.info(
                    "Customer statements: could not split the PDF of %s customers, "
                    "rendering them one by one",
                    len(customers),
                )
                return {
                    customer.id: (
                        report._render_qweb_pdf(STATEMENT_REPORT, customer.ids, data)[
                            0
                        ],
                        "pdf",
                    )
                    for customer in customers
                }
            return {customers.id: (pdf, "pdf")}
        return {customer_id: (content, "pdf") for customer_id, content in files.items()}

    @api.model
    def _collection_split_statements(self, pdf):
        """``{customer id: PDF}``: a PDF of several statements cut at the page
        where each customer's marker is, found among the pages' links (the
        marker is a link whose address ends with ``#statement-<id>``): the
        pages' content is not parsed."""
        reader = PdfFileReader(io.BytesIO(pdf))
        starts = []
        pages = reader.pages
        for number, page in enumerate(pages):
            for annotation in page.get("/Annots") or []:
                action = annotation.get_object().get("/A") or {}
                found = STATEMENT_MARKER.search(str(action.get("/URI") or ""))
                if found:
                    starts.append((number, int(found.group(1))))
        files = {}
        for index, (first, customer_id) in enumerate(starts):
            last = starts[index + 1][0] if index + 1 < len(starts) else len(pages)
            writer = PdfFileWriter()
            for number in range(first, last):
                writer.add_page(pages[number])
            stream = io.BytesIO()
            writer.write(stream)
            files[customer_id] = stream.getvalue()
        return files
