from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import format_date, formatLang

from .collection_portfolio_report import DEFAULT_PERIOD_DAYS

# bar colours of the aging chart: not due, then from mild to severe
AGING_COLORS = ("#3c9a5f", "#e6b422", "#f08c2e", "#e0612b", "#cc3a2f", "#8e1b1b")


class PortfolioFormatter:
    """Formats the report's figures in the rendering language; ``None`` (a figure
    that is not available) is shown as "n/a"."""

    def __init__(self, env, currency):
        self.env = env
        self.currency = currency
        self.not_available = env._("n/a")

    def amount(self, value):
        if value is None:
            return self.not_available
        return formatLang(self.env, value, currency_obj=self.currency)

    def number(self, value, digits=1):
        if value is None:
            return self.not_available
        return formatLang(self.env, value, digits=digits)

    def percent(self, value, digits=1):
        """``value`` is a percentage already (CEI)."""
        if value is None:
            return self.not_available
        return f"{formatLang(self.env, value, digits=digits)} %"

    def ratio(self, value, digits=1):
        """``value`` is a fraction (overdue ratio), shown as a percentage."""
        return self.percent(None if value is None else value * 100.0, digits)

    def date(self, value):
        return format_date(self.env, value)

    def _signed(self, value, text):
        return ("+" if value > 0 else "") + text

    def delta_amount(self, value):
        if value is None:
            return ""
        return self._signed(
            value, formatLang(self.env, value, currency_obj=self.currency)
        )

    def delta_number(self, value, digits=1):
        if value is None:
            return ""
        return self._signed(value, formatLang(self.env, value, digits=digits))

    def delta_points(self, value, factor=1.0):
        """Change of a percentage, in points (a ratio is multiplied by 100)."""
        if value is None:
            return ""
        points = self._signed(value, formatLang(self.env, value * factor, digits=1))
        return self.env._("%(points)s pt", points=points)

    def delta_count(self, value):
        if value is None:
            return ""
        return self._signed(value, str(int(value)))


class ReportPortfolioStatus(models.AbstractModel):
    """QWeb report "Portfolio status" (PDF, HTML and email body): one page per
    company, from collection.portfolio.report's KPIs."""

    _name = "report.account_collections.report_portfolio_status"
    _description = "Portfolio Status Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        data = data or {}
        companies = (
            self.env["res.company"].browse(docids) if docids else self.env.companies
        )
        date_to = fields.Date.to_date(data.get("date_to")) or fields.Date.context_today(
            self
        )
        period_days = int(data.get("period_days") or DEFAULT_PERIOD_DAYS)
        portfolio = self.env["collection.portfolio.report"]
        # the weekly delivery has computed the KPIs already (for the email body):
        # take them rather than compute them a second time
        given = data.get("collection_kpis")
        if not isinstance(given, dict):
            given = {}
        pages = {}
        for company in companies:
            kpis = given.get(company.id)
            if (
                isinstance(kpis, dict)
                and kpis.get("company_ids") == company.ids
                and kpis.get("date_to") == date_to
                and kpis.get("period_days") == period_days
            ):
                portfolio._collection_check_access(company)
            else:
                kpis = portfolio._collection_kpis(company.ids, date_to, period_days)
            pages[company.id] = self._collection_page_values(company, kpis)
        return {
            "doc_ids": companies.ids,
            "doc_model": "res.company",
            "docs": companies,
            "pages": pages,
        }

    @api.model
    def _collection_page_values(self, company, kpis):
        """Values of the ``report_portfolio_status_body`` template for one company:
        the KPIs, and the trend charts of the weekly history (``trend``, see
        collection.kpi.dashboard's ``_collection_report_trend()``)."""
        currency = self.env["res.currency"].browse(kpis["currency_id"])
        return {
            "company": company,
            "kpis": kpis,
            "currency": currency,
            "fmt": PortfolioFormatter(self.env, currency),
            "aging_bars": self._collection_aging_bars(kpis["aging"]),
            "trend": self.env["collection.kpi.dashboard"]._collection_report_trend(
                company, kpis
            ),
            "dispute_reasons": self._collection_dispute_reasons(company, kpis),
        }

    @api.model
    def _collection_dispute_reasons(self, company, kpis):
        """``[(reason label, opened, accepted, rejected)]``: the disputes the
        customers opened on the portal in the period, by reason and outcome."""
        Dispute = self.env["collection.dispute"].sudo()
        groups = Dispute._read_group(
            [
                ("company_id", "=", company.id),
                ("create_date", ">=", kpis["date_from"]),
                ("create_date", "<", kpis["date_to"] + timedelta(days=1)),
            ],
            ["reason", "state"],
            ["__count"],
        )
        counts = {}
        for reason, state, count in groups:
            counts.setdefault(reason, {})[state] = count
        labels = dict(Dispute._fields["reason"]._description_selection(self.env))
        return [
            (
                labels[reason],
                sum(by_state.values()),
                by_state.get("accepted", 0),
                by_state.get("rejected", 0),
            )
            for reason, by_state in sorted(counts.items())
        ]

    @api.model
    def _collection_aging_bars(self, aging):
        """Bars of the aging chart: label, amount and width in percent of the
        largest bucket (negative buckets, from unapplied credits, get no bar)."""
        totals = aging["totals"]
        largest = max([abs(total) for total in totals] + [0.0])
        return [
            {
                "label": label,
                "amount": total,
                "width": round(max(total, 0.0) / largest * 100.0, 1)
                if largest
                else 0.0,
                "color": AGING_COLORS[min(index, len(AGING_COLORS) - 1)],
            }
            for index, (label, total) in enumerate(
                zip(aging["labels"], totals, strict=True)
            )
        ]
