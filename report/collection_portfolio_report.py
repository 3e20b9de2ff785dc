from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..models.collection_receivable import COLLECTION_AGING_LIMITS
from ..models.collection_stage import COLLECTION_PHASES
from .collection_portfolio_query import COUNT_COLUMNS, SUM_COLUMNS

DEFAULT_PERIOD_DAYS = 90
TOP_DEBTORS = 10
# figures compared with the previous week
DELTA_KEYS = (
    "receivable",
    "overdue",
    "overdue_ratio",
    "dso",
    "best_dso",
    "add",
    "cei",
    "weighted_days_late",
    "collection_period",
    "average_age",
    "credit_sales",
    "promises_made",
    "promises_kept",
    "promises_broken",
    "contacts",
    "escalations",
)


class CollectionPortfolioReport(models.AbstractModel):
    """Portfolio KPIs of the receivable and of the collection work, derived
    from the sums of collection.portfolio.query (see there how they are
    computed as of a date), for the weekly report and the dashboard.
    """

    _name = "collection.portfolio.report"
    _description = "Collection Portfolio KPIs"

    # -------------------------------------------------------------------------
    # Public API
    # -------------------------------------------------------------------------

    @api.model
    def _collection_kpis(self, company_ids, date_to, period_days=DEFAULT_PERIOD_DAYS):
        """Return every portfolio figure for ``company_ids`` as of ``date_to``.

        The period is the ``period_days`` days ending on ``date_to`` (included).
        A figure that cannot be computed (no sales, empty portfolio) is ``None``.
        Keys:

        - meta: ``company_ids``, ``currency_id``, ``date_from``, ``date_to``,
          ``period_days``, ``previous_date_to``;
        - headline figures (see _collection_figures()): ``receivable``,
          ``overdue``, ``overdue_ratio`` (0..1), ``dso``, ``best_dso``, ``add``,
          ``cei`` (percent), ``weighted_days_late``, ``collection_period``,
          ``average_age``, promises, ``contacts``, ``escalations``...;
        - ``previous``: the headline figures one week earlier, ``delta``: the
          change since then (``None`` when either side is not available);
        - ``by_salesperson`` / ``by_policy``: rows ``{key, name, **figures,
          previous, delta}`` sorted by receivable;
        - ``by_phase``: rows ``{key, name, amount, count}``, the open customer
          invoices by the phase of their current collection stage (key ``False``:
          no stage reached yet), in the order of the phases;
        - ``aging``: the aging report's result by customer, ``top_debtors``: its
          ten largest rows with their overdue amount.
        """
        companies = self._collection_companies(company_ids)
        date_to = fields.Date.to_date(date_to)
        period_days = int(period_days or DEFAULT_PERIOD_DAYS)
        if period_days < 1:
            raise UserError(self.env._("The report period must be at least one day."))
        previous_date_to = date_to - timedelta(days=7)

        # both weeks, the aging and the open invoices by phase in one query:
        # they share the reading of the receivable; the report breaks the
        # figures down by salesperson and policy only
        current, previous = self.env[
            "collection.portfolio.query"
        ]._collection_portfolio_sums(
            companies,
            [date_to, previous_date_to],
            period_days,
            breakdowns=("salesperson", "policy"),
            open_by_phase=True,
        )

        kpis = {
            "company_ids": companies.ids,
            "currency_id": companies[:1].currency_id.id,
            "date_from": date_to - timedelta(days=period_days - 1),
            "date_to": date_to,
            "period_days": period_days,
            "previous_date_to": previous_date_to,
        }
        headline = self._collection_figures(current["total"], period_days)
        previous_headline = self._collection_figures(previous["total"], period_days)
        kpis.update(headline)
        kpis["previous"] = previous_headline
        kpis["delta"] = self._collection_deltas(headline, previous_headline)
        kpis["by_salesperson"] = self._collection_breakdown(
            current["salesperson"], previous["salesperson"], period_days, "res.users"
        )
        kpis["by_policy"] = self._collection_breakdown(
            current["policy"], previous["policy"], period_days, "collection.policy"
        )
        kpis["by_phase"] = self._collection_phase_breakdown(current["open_by_phase"])
        # the aging report's result (by customer, aged by due date, excluded
        # invoices included), from the amounts summed in the query
        aging_report = self.env[
            "report.account_collections.collection_aging_report_document"
        ]
        kpis["aging"] = aging_report._collection_aging_result_from(
            current["aging"], companies.currency_id, COLLECTION_AGING_LIMITS, "partner"
        )
        kpis["top_debtors"] = self._collection_top_debtors(kpis["aging"])
        return kpis

    @api.model
    def _collection_check_access(self, companies):
        """Raise unless the current user may see the portfolio of ``companies``:
        a collection manager allowed in all of them (the superuser always may)."""
        if self.env.su:
            return
        user = self.env.user
        if not user.has_group("account_collections.group_collection_manager"):
            raise AccessError(
                self.env._("Only collection managers can see the portfolio report.")
            )
        forbidden = companies - user.company_ids
        if forbidden:
            raise AccessError(
                self.env._(
                    "You are not allowed in %(companies)s: their portfolio report is "
                    "not available to you.",
                    companies=", ".join(forbidden.mapped("name")),
                )
            )

    # -------------------------------------------------------------------------
    # Figures
    # -------------------------------------------------------------------------

    @api.model
    def _collection_figures(self, sums, period_days):
        """Derive the KPIs (see the report's footnote) from the summed amounts."""
        sums = sums or dict.fromkeys(SUM_COLUMNS, 0.0)

        def ratio(numerator, denominator, factor=1.0):
            # not available rather than a division by zero or a meaningless sign
            if denominator is None or round(denominator, 6) <= 0:
                return None
            return numerator / denominator * factor

        receivable = sums["receivable"]
        credit_sales = sums["credit_sales"]
        opening = sums["opening_receivable"]
        dso = ratio(receivable, credit_sales, period_days)
        best_dso = ratio(sums["not_due"], credit_sales, period_days)
        figures = {column: sums[column] for column in SUM_COLUMNS}
        figures.update(
            {
                "overdue_ratio": ratio(sums["overdue"], receivable),
                "dso": dso,
                "best_dso": best_dso,
                "add": None if dso is None else dso - best_dso,
                "cei": ratio(
                    opening + credit_sales - receivable,
                    opening + credit_sales - sums["not_due"],
                    100.0,
                ),
                "weighted_days_late": ratio(
                    sums["late_days_amount"], sums["late_amount"]
                ),
                "collection_period": ratio(
                    sums["paid_days_amount"], sums["paid_amount"]
                ),
                "average_age": ratio(sums["age_days_amount"], sums["open_debit"]),
            }
        )
        for column in COUNT_COLUMNS:
            figures[column] = int(figures[column])
        return figures

    @api.model
    def _collection_deltas(self, current, previous):
        previous = previous or {}
        deltas = {}
        for key in DELTA_KEYS:
            now, before = current.get(key), previous.get(key)
            deltas[key] = None if now is None or before is None else now - before
        return deltas

    @api.model
    def _collection_breakdown(self, current, previous, period_days, model):
        """Rows of one breakdown (per salesperson or per policy), largest first."""
        # the names of all the rows in one read, not one query per row
        records = (
            self.env[model]
            .sudo()
            .with_context(active_test=False)
            .browse([key for key in current if key])
        )
        names = {record.id: record.display_name for record in records}
        rows = []
        for key, sums in current.items():
            if self._collection_is_empty(sums):
                continue  # e.g. payments matched to invoices, nothing open now
            figures = self._collection_figures(sums, period_days)
            previous_figures = (
                self._collection_figures(previous[key], period_days)
                if key in previous
                else None
            )
            if key:
                name = names[key]
            elif model == "res.users":
                name = self.env._("No salesperson")
            else:
                name = self.env._("No policy")
            rows.append(
                {
                    "key": key or False,
                    "name": name,
                    **figures,
                    "previous": previous_figures,
                    "delta": self._collection_deltas(figures, previous_figures),
                }
            )
        rows.sort(key=lambda row: (-row["receivable"], row["name"]))
        return rows

    @api.model
    def _collection_phase_breakdown(self, open_by_phase):
        """Rows of the customer invoices open at the end of the period (amount
        open then, in company currency, and their number) by the phase of the
        collection stage they are at, in the order of the phases; those no
        stage has reached yet first. ``open_by_phase`` is the KPI query's
        ``{phase or None: (amount, invoices)}``."""
        sums = {phase or False: values for phase, values in open_by_phase.items()}
        labels = dict(
            self.env["collection.stage"]
            ._fields["phase"]
            ._description_selection(self.env)
        )
        rows = []
        for key in [False] + [phase for phase, _label in COLLECTION_PHASES]:
            if key not in sums:
                continue
            amount, count = sums[key]
            name = labels[key] if key else self.env._("No stage yet")
            rows.append({"key": key, "name": name, "amount": amount, "count": count})
        return rows

    def _collection_is_empty(self, sums):
        """Whether a group's sums show nothing in the period: no receivable at
        its end, no sales, payments or collection work in it (what was open
        before it does not count)."""
        return all(
            round(value, 6) == 0
            for column, value in sums.items()
            if column != "opening_receivable"
        )

    # -------------------------------------------------------------------------
    # Aging
    # -------------------------------------------------------------------------

    @api.model
    def _collection_top_debtors(self, aging):
        rows = sorted(aging["rows"], key=lambda row: -row["total"])[:TOP_DEBTORS]
        return [
            {
                "key": row["key"],
                "name": row["name"],
                "total": row["total"],
                # the first bucket holds what is not due yet
                "overdue": row["total"]
                - (row["amounts"][0] if row["amounts"] else 0.0),
                "amounts": row["amounts"],
            }
            for row in rows
            if row["total"] > 0
        ]

    # -------------------------------------------------------------------------
    # Companies
    # -------------------------------------------------------------------------

    @api.model
    def _collection_companies(self, company_ids):
        companies = self.env["res.company"].browse(company_ids).exists()
        if not companies:
            raise UserError(self.env._("Choose at least one company for the report."))
        self._collection_check_access(companies)
        if len(companies.currency_id) > 1:
            raise UserError(
                self.env._(
                    "The companies %(companies)s do not share the same currency: "
                    "report on them one at a time.",
                    companies=", ".join(companies.mapped("name")),
                )
            )
        return companies
