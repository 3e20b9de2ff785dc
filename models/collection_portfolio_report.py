from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

DEFAULT_PERIOD_DAYS = 90
TOP_DEBTORS = 10
# the aging wizard's default buckets: not due, 1-30, 31-60, 61-90, 91-120, over 120
AGING_LIMITS = (0, 30, 60, 90, 120)

# Sums computed by the portfolio query for the whole portfolio and for each group;
# the KPIs are derived from them in _collection_figures().
SUM_COLUMNS = (
    "receivable",  # receivable balance at the end of the period
    "not_due",  # open amount not yet due at the end of the period
    "overdue",  # open amount past its due date at the end of the period
    "late_amount",  # open overdue debit amounts (weights of the days late)
    "late_days_amount",  # sum(open overdue debit amount x days late)
    "open_debit",  # open debit amounts (weights of the age)
    "age_days_amount",  # sum(open debit amount x days since the invoice date)
    "opening_receivable",  # receivable balance the day before the period starts
    "credit_sales",  # invoices minus credit notes dated in the period
    "paid_amount",  # invoices fully paid in the period
    "paid_days_amount",  # sum(amount x days from invoice date to full payment)
    "escalations",
    "promises_made",
    "promises_made_amount",
    "promises_kept",
    "promises_kept_amount",
    "promises_broken",
    "promises_broken_amount",
    "contacts",
)
COUNT_COLUMNS = (
    "escalations",
    "promises_made",
    "promises_kept",
    "promises_broken",
    "contacts",
)
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
    """Portfolio KPIs of the receivable and of the collection work.

    All amounts are in company currency and computed as of a date: receivable
    lines dated on or before it, minus the reconciliations dated on or before it
    (a reconciliation made later does not change a past figure).
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
        - ``aging``: the aging wizard's result by customer, ``top_debtors``: its
          ten largest rows with their overdue amount.
        """
        companies = self._collection_companies(company_ids)
        date_to = fields.Date.to_date(date_to)
        period_days = int(period_days or DEFAULT_PERIOD_DAYS)
        if period_days < 1:
            raise UserError(self.env._("The report period must be at least one day."))
        previous_date_to = date_to - timedelta(days=7)

        # both weeks and the aging in one query: they share the reading of the
        # receivable
        current, previous = self._collection_portfolio_sums(
            companies, [date_to, previous_date_to], period_days
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
        # the aging wizard's result (by customer, aged by due date, excluded
        # invoices included), from the amounts summed in the query
        aging_wizard = self.env["collection.aging.wizard"]
        kpis["aging"] = aging_wizard._collection_aging_result_from(
            current["aging"], companies.currency_id, AGING_LIMITS, "partner"
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
            if all(
                round(value, 6) == 0
                for column, value in sums.items()
                if column != "opening_receivable"
            ):
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
    # SQL
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

    @api.model
    def _collection_portfolio_sums(self, companies, dates, period_days):
        """Sum the figures of the portfolio, per salesperson and per policy, as of
        each of ``dates`` (each with the period of ``period_days`` days ending
        on it).

        One query, in which the receivable is read once for all the dates: the
        open items of every period are summed in one pass over the lines
        (``open_sums``), the invoices fully paid in a period in one pass over
        the lines of the invoices reconciled in the periods (``paid_moves``);
        then the facts of every source (those two, escalations, promises,
        contacts) are added up per salesperson and policy, and with grouping
        sets. Return a list with, for each date, ``{'total': sums,
        'salesperson': {user_id: sums}, 'policy': {policy_id: sums}}``.

        The first date's also has ``'aging'``: the open amounts on that date per
        customer and bucket of the report's aging (``AGING_LIMITS``, aged by due
        date), ``[(partner_id, name, bucket, amount)]``, as the aging wizard
        sums them (see ``_collection_aging_result_from()``).
        """
        self.env.flush_all()
        periods = [
            {
                "index": index,
                "company_ids": companies.ids,
                "date_to": date_to,
                "date_from": date_to - timedelta(days=period_days - 1),
                # the companies share their currency (_collection_companies)
                "rounding": companies.currency_id.rounding,
            }
            for index, date_to in enumerate(dates)
        ]
        facts = SQL(" UNION ALL ").join(
            self._collection_facts_select(params["index"], source_from, expressions)
            for params in periods
            for source_from, expressions in self._collection_fact_sources(params)
        )
        sums = SQL(", ").join(
            SQL(
                "COALESCE(SUM(%s), 0) AS %s",
                SQL.identifier(column),
                SQL.identifier(column),
            )
            for column in SUM_COLUMNS
        )
        query = SQL(
            """
            WITH %(lines)s,
            %(open_sums)s,
            %(paid_moves)s,
            %(aging)s,
            grouped AS (
                SELECT period, salesperson_id, policy_id, %(sums)s
                  FROM (%(facts)s) facts
              GROUP BY period, salesperson_id, policy_id
            )
            SELECT period, GROUPING(salesperson_id), GROUPING(policy_id),
                   salesperson_id, policy_id,
                   -- the aging, once, on the first date's total row
                   CASE WHEN period = 0 AND GROUPING(salesperson_id) = 1
                             AND GROUPING(policy_id) = 1
                        THEN (SELECT json_agg(json_build_array(
                                         partner_id, name, bucket, amount))
                                FROM aging)
                   END,
                   %(sums)s
              FROM grouped
          GROUP BY GROUPING SETS ((period), (period, salesperson_id),
                                  (period, policy_id))
            """,
            lines=self._collection_lines_cte(periods),
            open_sums=self._collection_open_sums_cte(periods),
            paid_moves=self._collection_paid_moves_cte(periods),
            aging=self._collection_aging_cte(periods[0]),
            sums=sums,
            facts=facts,
        )
        results = [
            {"total": None, "salesperson": {}, "policy": {}} for _params in periods
        ]
        results[0]["aging"] = []
        for row in self.env.execute_query(query):
            period, grouped_user, grouped_policy, user_id, policy_id, aging = row[:6]
            values = dict(zip(SUM_COLUMNS, map(float, row[6:]), strict=True))
            result = results[period]
            if aging:
                result["aging"] = aging
            if grouped_user and grouped_policy:
                result["total"] = values
            elif not grouped_user:
                result["salesperson"][user_id] = values
            else:
                result["policy"][policy_id] = values
        return results

    @api.model
    def _collection_facts_select(self, period, source_from, expressions):
        """One source's sums per (salesperson, policy) for the date of index
        ``period``: summed where the rows are read, so that only a few rows per
        source reach the union."""
        columns = [
            SQL("SUM(%s) AS %s", expressions[column], SQL.identifier(column))
            if column in expressions
            else SQL("0 AS %s", SQL.identifier(column))
            for column in SUM_COLUMNS
        ]
        return SQL(
            "SELECT %s AS period, %s AS salesperson_id, %s AS policy_id, %s %s "
            "GROUP BY 2, 3",
            period,
            expressions["salesperson_id"],
            expressions["policy_id"],
            SQL(", ").join(columns),
            source_from,
        )

    @api.model
    def _collection_period_column(self, name, index):
        """Identifier of the column ``name`` of the period of index ``index``
        (the queries' columns of each period are named ``<name>_<index>``)."""
        return SQL.identifier(f"{name}_{index}")

    @api.model
    def _collection_lines_cte(self, periods):
        """CTEs ``later`` and ``lines``: the posted receivable lines of
        ``periods`` (dicts with ``index``, ``company_ids``, ``date_to`` and
        ``date_from``), with their salesperson and collection policy, whether a
        reconciliation on their debit side is dated in one of the periods
        (``paid``) and, for the period of index ``i``, their open amount at its
        end (``residual_i``) and the day before it (``opening_residual_i``), the
        last reconciliation of the period on their debit side (``paid_date_i``)
        and whether they count in it (``in_period_i``: dated on or before its
        end, and not settled before it began).

        ``lines`` is materialised: its readers (``open_sums``, ``paid_moves``,
        ``aging``) each scan it once.

        The open amount as of a date is the balance minus the reconciliations
        dated on or before it (as in the aging wizard), computed as today's
        residual plus the reconciliations dated after it: only those need
        summing, and ``later`` sums them, with the payment dates, in one pass
        over the reconciliations dated in or after the periods.
        """
        first = min(params["date_from"] for params in periods)
        last = max(params["date_to"] for params in periods)
        company_ids = periods[0]["company_ids"]
        later_sums, columns = [], []
        for params in periods:
            names = {
                name: self._collection_period_column(name, params["index"])
                for name in (
                    "after_end",
                    "after_start",
                    "paid_date",
                    "residual",
                    "opening_residual",
                    "in_period",
                )
            }
            dates = {"date_to": params["date_to"], "date_from": params["date_from"]}
            later_sums.append(
                SQL(
                    """
                    SUM(amount) FILTER (WHERE max_date > %(date_to)s)
                        AS %(after_end)s,
                    SUM(amount) FILTER (WHERE max_date >= %(date_from)s)
                        AS %(after_start)s,
                    MAX(max_date) FILTER (
                        WHERE debit AND max_date BETWEEN %(date_from)s AND %(date_to)s
                    ) AS %(paid_date)s
                    """,
                    **dates,
                    **names,
                )
            )
            columns.append(
                SQL(
                    """
                    l.amount_residual + COALESCE(la.%(after_end)s, 0)
                        AS %(residual)s,
                    l.amount_residual + COALESCE(la.%(after_start)s, 0)
                        AS %(opening_residual)s,
                    la.%(paid_date)s AS %(paid_date)s,
                    -- dated on or before the period's end, and not settled
                    -- before it began
                    (l.date <= %(date_to)s
                     AND (l.date >= %(date_from)s
                          OR l.reconciled IS NOT TRUE
                          OR la.%(after_start)s IS NOT NULL)) AS %(in_period)s
                    """,
                    **dates,
                    **names,
                )
            )
        return SQL(
            """
            later AS (
                SELECT line_id,
                       BOOL_OR(debit AND max_date <= %(last)s) AS paid,
                       %(later_sums)s
                  FROM (
                        SELECT pr.debit_move_id AS line_id, pr.amount, pr.max_date,
                               TRUE AS debit
                          FROM account_partial_reconcile pr
                         WHERE pr.max_date >= %(first)s
                           AND pr.company_id = ANY(%(company_ids)s)
                         UNION ALL
                        SELECT pr.credit_move_id, -pr.amount, pr.max_date, FALSE
                          FROM account_partial_reconcile pr
                         WHERE pr.max_date >= %(first)s
                           AND pr.company_id = ANY(%(company_ids)s)
                       ) p
              GROUP BY line_id
            ),
            lines AS MATERIALIZED (
                SELECT l.move_id,
                       l.date,
                       l.balance,
                       l.reconciled,
                       COALESCE(la.paid, FALSE) AS paid,
                       %(columns)s,
                       COALESCE(l.date_maturity, l.date) AS date_maturity,
                       COALESCE(m.invoice_date, l.date) AS invoice_date,
                       m.invoice_date AS move_invoice_date,
                       m.move_type,
                       m.payment_state,
                       COALESCE(m.invoice_user_id, cp.user_id, p.user_id)
                           AS salesperson_id,
                       COALESCE(p.commercial_partner_id, p.id) AS partner_id,
                       COALESCE(
                           (cp.collection_policy_id ->> l.company_id::text)::integer,
                           c.collection_policy_id
                       ) AS policy_id
                  FROM account_move_line l
                  JOIN account_account a ON a.id = l.account_id
                  JOIN account_move m ON m.id = l.move_id
                  JOIN res_company c ON c.id = l.company_id
             LEFT JOIN res_partner p ON p.id = l.partner_id
             LEFT JOIN res_partner cp ON cp.id = p.commercial_partner_id
             LEFT JOIN later la ON la.line_id = l.id
                 WHERE a.account_type = 'asset_receivable'
                   AND l.parent_state = 'posted'
                   AND l.company_id = ANY(%(company_ids)s)
                   AND l.date <= %(last)s
                   -- an item dated and settled before the periods counts for
                   -- nothing in them: leave the history out
                   AND (l.date >= %(first)s
                        OR l.reconciled IS NOT TRUE
                        OR la.line_id IS NOT NULL)
            )
            """,
            later_sums=SQL(", ").join(later_sums),
            columns=SQL(", ").join(columns),
            first=first,
            last=last,
            company_ids=company_ids,
        )

    @api.model
    def _collection_aging_cte(self, params):
        """CTE ``aging``: the open amounts of ``lines`` at the end of the period
        of ``params`` per customer (commercial partner, with its name) and
        bucket of ``AGING_LIMITS``, aged by due date: the aging wizard's sums
        (its items are the lines open on that date, in all receivable accounts,
        excluded invoices included)."""
        bucket = self.env["collection.aging.wizard"]._collection_aging_bucket_sql(
            SQL("%s::date - date_maturity", params["date_to"]), AGING_LIMITS
        )
        residual = self._collection_period_column("residual", params["index"])
        return SQL(
            """
            aging AS (
                SELECT a.partner_id, rp.name, a.bucket, a.amount
                  FROM (
                        SELECT partner_id, %(bucket)s AS bucket,
                               SUM(%(residual)s) AS amount
                          FROM lines
                         WHERE date <= %(date_to)s AND %(residual)s != 0
                      GROUP BY 1, 2
                       ) a
             LEFT JOIN res_partner rp ON rp.id = a.partner_id
            )
            """,
            bucket=bucket,
            residual=residual,
            date_to=params["date_to"],
        )

    @api.model
    def _collection_open_item_expressions(self, params):
        """``{column: SQL}``: the facts of one receivable line (a row of
        ``lines``) that counts in the period of ``params``."""
        date_to, date_from = params["date_to"], params["date_from"]
        residual = self._collection_period_column("residual", params["index"])
        overdue = SQL("date_maturity < %s", date_to)
        return {
            "receivable": residual,
            "not_due": SQL("CASE WHEN %s THEN 0 ELSE %s END", overdue, residual),
            "overdue": SQL("CASE WHEN %s THEN %s ELSE 0 END", overdue, residual),
            "late_amount": SQL(
                "CASE WHEN %s AND %s > 0 THEN %s ELSE 0 END",
                overdue,
                residual,
                residual,
            ),
            "late_days_amount": SQL(
                "CASE WHEN %s AND %s > 0 THEN %s * (%s - date_maturity) ELSE 0 END",
                overdue,
                residual,
                residual,
                date_to,
            ),
            "open_debit": SQL("GREATEST(%s, 0)", residual),
            "age_days_amount": SQL(
                "GREATEST(%s, 0) * (%s - invoice_date)", residual, date_to
            ),
            # open the day before the period (the sum is the balance then; per
            # group, what was still to collect)
            "opening_receivable": SQL(
                "CASE WHEN date < %s THEN %s ELSE 0 END",
                date_from,
                self._collection_period_column("opening_residual", params["index"]),
            ),
            "credit_sales": SQL(
                "CASE WHEN move_type IN ('out_invoice', 'out_refund') "
                "AND move_invoice_date BETWEEN %s AND %s "
                "THEN balance ELSE 0 END",
                date_from,
                date_to,
            ),
        }

    @api.model
    def _collection_period_aggregates(self, periods, aggregates):
        """SQL: the columns ``<name>_<index>`` of every period, each aggregate
        taken over the lines that count in its period; ``aggregates(params)``
        gives the period's ``{name: (function, argument)}``."""
        return SQL(", ").join(
            SQL(
                f"{function}(%s) FILTER (WHERE %s) AS %s",
                argument,
                self._collection_period_column("in_period", params["index"]),
                self._collection_period_column(name, params["index"]),
            )
            for params in periods
            for name, (function, argument) in aggregates(params).items()
        )

    @api.model
    def _collection_open_sums_cte(self, periods):
        """CTE ``open_sums``: the receivable lines' facts summed per salesperson
        and policy, for every period in one pass over ``lines`` (column
        ``<fact>_<index>``, and ``lines_<index>`` the number of lines that count
        in the period)."""

        def aggregates(params):
            expressions = self._collection_open_item_expressions(params)
            return {
                "lines": ("COUNT", SQL("*")),
                **{
                    name: ("SUM", expression)
                    for name, expression in expressions.items()
                },
            }

        return SQL(
            """
            open_sums AS (
                SELECT salesperson_id, policy_id, %s
                  FROM lines
              GROUP BY salesperson_id, policy_id
            )
            """,
            self._collection_period_aggregates(periods, aggregates),
        )

    @api.model
    def _collection_paid_moves_cte(self, periods):
        """CTE ``paid_moves``: the customer invoices with a reconciliation in one
        of the periods, with, per period, the sum of their lines that count in
        it (``amount_<index>``), their open amount at its end
        (``residual_<index>``) and their last reconciliation in it
        (``paid_date_<index>``)."""

        def aggregates(params):
            index = params["index"]
            return {
                "amount": ("SUM", SQL("balance")),
                "residual": ("SUM", self._collection_period_column("residual", index)),
                "paid_date": (
                    "MAX",
                    self._collection_period_column("paid_date", index),
                ),
            }

        return SQL(
            """
            paid_moves AS (
                SELECT move_id, salesperson_id, policy_id, invoice_date, %s
                  FROM lines
                 WHERE move_type = 'out_invoice'
                   AND payment_state != 'reversed'
                   -- only the invoices reconciled in the periods
                   AND move_id IN (SELECT move_id FROM lines WHERE paid)
              GROUP BY move_id, salesperson_id, policy_id, invoice_date
            )
            """,
            self._collection_period_aggregates(periods, aggregates),
        )

    @api.model
    def _collection_fact_sources(self, params):
        """``[(FROM clause, {column: expression})]`` of every fact source for the
        period of ``params`` (``index``, ``company_ids``, ``date_from``,
        ``date_to`` and the currency's ``rounding``); columns not given are 0.
        Each source has ``salesperson_id`` and ``policy_id``."""
        index = params["index"]
        open_columns = {
            column: self._collection_period_column(column, index)
            for column in self._collection_open_item_expressions(params)
        }
        amount = self._collection_period_column("amount", index)
        paid_date = self._collection_period_column("paid_date", index)
        sources = [
            (
                # the receivable lines that count in the period
                SQL(
                    "FROM open_sums WHERE %s > 0",
                    self._collection_period_column("lines", index),
                ),
                {
                    "salesperson_id": SQL("salesperson_id"),
                    "policy_id": SQL("policy_id"),
                    **open_columns,
                },
            ),
            (
                # customer invoices whose receivable was fully settled in the period
                SQL(
                    """
                    FROM paid_moves
                    WHERE %s > 0
                      AND ABS(%s) < %s
                      AND %s IS NOT NULL
                    """,
                    amount,
                    self._collection_period_column("residual", index),
                    params["rounding"] / 2,
                    paid_date,
                ),
                {
                    "salesperson_id": SQL("salesperson_id"),
                    "policy_id": SQL("policy_id"),
                    "paid_amount": amount,
                    "paid_days_amount": SQL(
                        "%s * (%s - invoice_date)", amount, paid_date
                    ),
                },
            ),
            self._collection_escalation_source(params),
        ]
        if "collection.promise" in self.env:
            sources.append(self._collection_promise_source(params))
        if "collection.contact" in self.env:
            sources.append(self._collection_contact_source(params))
        return sources

    @api.model
    def _collection_escalation_source(self, params):
        """Invoices that reached a manager stage of their policy in the period.

        The day an invoice reached it is its collection due date plus the offset
        of the policy's first manager stage (what the daily run follows); done
        activities are not kept, so they cannot be counted instead.
        """
        return (
            SQL(
                """
                FROM account_move m
                JOIN collection_stage cur ON cur.id = m.collection_stage_id
                JOIN LATERAL (
                        SELECT MIN(s.day_offset) AS day_offset
                          FROM collection_stage s
                         WHERE s.policy_id = cur.policy_id
                           AND s.responsible = 'manager'
                     ) esc ON esc.day_offset <= cur.day_offset
           LEFT JOIN res_partner cp ON cp.id = m.commercial_partner_id
               WHERE m.move_type = 'out_invoice'
                 AND m.state = 'posted'
                 AND m.company_id = ANY(%s)
                 AND m.collection_date_due + esc.day_offset BETWEEN %s AND %s
                """,
                params["company_ids"],
                params["date_from"],
                params["date_to"],
            ),
            {
                "salesperson_id": SQL("COALESCE(m.invoice_user_id, cp.user_id)"),
                "policy_id": SQL("cur.policy_id"),
                "escalations": SQL("1"),
            },
        )

    @api.model
    def _collection_partner_policy(self, partner_alias, company_column):
        """SQL expression: the collection policy of a commercial partner alias in a
        company (the partner's own policy, else the company's default)."""
        return SQL(
            "COALESCE((%s.collection_policy_id ->> %s::text)::integer, "
            "(SELECT collection_policy_id FROM res_company WHERE id = %s))",
            SQL.identifier(partner_alias),
            company_column,
            company_column,
        )

    @api.model
    def _collection_promise_source(self, params):
        """Promises made (promised on a day) and judged kept or broken in the
        period; amounts in company currency at the rate of their invoices."""
        date_from, date_to = params["date_from"], params["date_to"]
        made = SQL("pr.date BETWEEN %s AND %s", date_from, date_to)
        closed = SQL("pr.date_closed BETWEEN %s AND %s", date_from, date_to)
        kept = SQL("pr.state = 'kept' AND %s", closed)
        broken = SQL("pr.state = 'broken' AND %s", closed)
        amount = SQL(
            "CASE WHEN pr.currency_id = c.currency_id THEN pr.amount "
            "ELSE pr.amount * COALESCE(rate.rate, 1) END"
        )
        return (
            SQL(
                """
                FROM collection_promise pr
                JOIN res_company c ON c.id = pr.company_id
           LEFT JOIN res_partner p ON p.id = pr.partner_id
           LEFT JOIN res_partner cp ON cp.id = p.commercial_partner_id
           LEFT JOIN LATERAL (
                    SELECT SUM(m.amount_total_signed) / NULLIF(SUM(m.amount_total), 0)
                           AS rate
                      FROM collection_promise_account_move_rel rel
                      JOIN account_move m ON m.id = rel.move_id
                     WHERE rel.promise_id = pr.id
                ) rate ON pr.currency_id != c.currency_id
               WHERE pr.company_id = ANY(%s) AND ((%s) OR (%s))
                """,
                params["company_ids"],
                made,
                closed,
            ),
            {
                "salesperson_id": SQL("pr.user_id"),
                "policy_id": self._collection_partner_policy(
                    "cp", SQL("pr.company_id")
                ),
                "promises_made": SQL("CASE WHEN %s THEN 1 ELSE 0 END", made),
                "promises_made_amount": SQL(
                    "CASE WHEN %s THEN %s ELSE 0 END", made, amount
                ),
                "promises_kept": SQL("CASE WHEN %s THEN 1 ELSE 0 END", kept),
                "promises_kept_amount": SQL(
                    "CASE WHEN %s THEN %s ELSE 0 END", kept, amount
                ),
                "promises_broken": SQL("CASE WHEN %s THEN 1 ELSE 0 END", broken),
                "promises_broken_amount": SQL(
                    "CASE WHEN %s THEN %s ELSE 0 END", broken, amount
                ),
            },
        )

    @api.model
    def _collection_contact_source(self, params):
        """Contacts logged in the period."""
        contact_fields = self.env["collection.contact"]._fields
        date_column = SQL.identifier(
            "co", "date" if "date" in contact_fields else "create_date"
        )
        has_partner = "partner_id" in contact_fields
        return (
            SQL(
                """
                FROM collection_contact co
                %s
               WHERE co.company_id = ANY(%s)
                 AND %s::date BETWEEN %s AND %s
                """,
                SQL(
                    "LEFT JOIN res_partner p ON p.id = co.partner_id "
                    "LEFT JOIN res_partner cp ON cp.id = p.commercial_partner_id"
                )
                if has_partner
                else SQL(""),
                params["company_ids"],
                date_column,
                params["date_from"],
                params["date_to"],
            ),
            {
                "salesperson_id": SQL("co.user_id"),
                "policy_id": self._collection_partner_policy("cp", SQL("co.company_id"))
                if has_partner
                else SQL("NULL::integer"),
                "contacts": SQL("1"),
            },
        )
