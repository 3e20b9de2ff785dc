from datetime import timedelta

from odoo import api, models
from odoo.tools import SQL

from ..models.collection_receivable import COLLECTION_AGING_LIMITS

# Sums computed by the portfolio query for the whole portfolio and for each group;
# the KPIs are derived from them (collection.portfolio.report).
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
    "portal_promises",  # promises made by the customers on the portal
    "disputes_opened",
    "disputes_accepted",
    "disputes_rejected",
)
COUNT_COLUMNS = (
    "escalations",
    "promises_made",
    "promises_kept",
    "promises_broken",
    "contacts",
    "portal_promises",
    "disputes_opened",
    "disputes_accepted",
    "disputes_rejected",
)
# The breakdowns of the query: result key -> the column of the facts holding its
# key. A source that cannot tell a column (the phase of a promise, which covers
# several invoices) gives NULL: its work counts under "none" in that breakdown.
GROUP_COLUMNS = {
    "salesperson": "salesperson_id",
    "policy": "policy_id",
    "segment": "segment_id",
    "phase": "phase",
}
GROUP_TYPES = {
    "salesperson_id": "integer",
    "policy_id": "integer",
    "segment_id": "integer",
    "phase": "varchar",
}


class CollectionPortfolioQuery(models.AbstractModel):
    """The query behind the portfolio KPIs: the receivable and the collection
    work summed per salesperson, policy, customer segment and collection phase
    (of the invoice's stage), as of some dates, in one pass.

    Amounts are in company currency and computed as of a date: receivable lines
    dated on or before it, minus the reconciliations dated on or before it (a
    reconciliation made later does not change a past figure); the receivable
    rules (open items, salesperson, policy, buckets) are collection.receivable's.
    """

    _name = "collection.portfolio.query"
    _description = "Collection Portfolio KPI Query"

    @api.model
    def _collection_portfolio_sums(
        self,
        companies,
        dates,
        period_days,
        aging=True,
        breakdowns=tuple(GROUP_COLUMNS),
        open_by_phase=False,
    ):
        """Sum the figures of the portfolio, per salesperson, policy, segment and
        phase (the breakdowns of GROUP_COLUMNS; only those of ``breakdowns``),
        as of each of ``dates`` (each with the period of ``period_days`` days
        ending on it).

        One query, in which the receivable is read once for all the dates: the
        open items of every period are summed in one pass over the lines
        (``open_sums``), the invoices fully paid in a period in one pass over
        the lines of the invoices reconciled in the periods (``paid_moves``);
        then the facts of every source (those two, escalations, promises,
        contacts) are added up per salesperson, policy, segment and phase, and
        with grouping sets. Return a list with, for each date, ``{'total': sums,
        'salesperson': {user_id: sums}, 'policy': {policy_id: sums},
        'segment': {segment_id: sums}, 'phase': {phase: sums}}`` (the keys of
        ``breakdowns`` only: each breakdown costs a grouping of every source,
        the weekly report shows two of them, the KPI history keeps all).

        The first date's also has ``'aging'`` (unless ``aging`` is false, as
        for the KPI history, which keeps no aging): the open amounts on that
        date per customer and default bucket, aged by due date, ``[(partner_id,
        name, bucket, amount)]``, as the aging report sums them (see its
        ``_collection_aging_result_from()``); and with ``open_by_phase``,
        ``'open_by_phase'``: the customer invoices open on that date by the
        phase of their stage, ``{phase or None: (amount, invoices)}`` (their
        items' positive open amounts), read from the same lines.

        ``companies`` share their currency (the report checked it).
        """
        self.env.flush_all()
        # the breakdowns asked for, in the order of GROUP_COLUMNS
        names = [name for name in GROUP_COLUMNS if name in breakdowns]
        columns = [GROUP_COLUMNS[name] for name in names]
        periods = [
            {
                "index": index,
                "company_ids": companies.ids,
                "date_to": date_to,
                "date_from": date_to - timedelta(days=period_days - 1),
                "rounding": companies.currency_id.rounding,
            }
            for index, date_to in enumerate(dates)
        ]
        facts = SQL(" UNION ALL ").join(
            self._collection_facts_select(
                params["index"], source_from, expressions, columns
            )
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
        group_columns = SQL(", ").join(SQL.identifier(column) for column in columns)
        not_grouped = SQL(" AND ").join(
            SQL("GROUPING(%s) = 1", SQL.identifier(column)) for column in columns
        )
        # what the first date has besides its sums, each a JSON array on its
        # total row: name -> (CTE, the CTE's columns)
        extras = {}
        if aging:
            extras["aging"] = (
                self._collection_aging_cte(periods[0]),
                ("partner_id", "name", "bucket", "amount"),
            )
        if open_by_phase:
            extras["open_by_phase"] = (
                self._collection_open_by_phase_cte(periods[0]),
                ("phase", "amount", "invoices"),
            )
        extra_ctes = SQL("").join(SQL("%s,", cte) for cte, _columns in extras.values())
        extra_columns = SQL(", ").join(
            SQL(
                """
                CASE WHEN period = 0 AND %s
                     THEN (SELECT json_agg(json_build_array(%s)) FROM %s)
                END
                """,
                not_grouped,
                SQL(", ").join(SQL.identifier(column) for column in cte_columns),
                SQL.identifier(name),
            )
            for name, (_cte, cte_columns) in extras.items()
        )
        query = SQL(
            """
            WITH %(lines)s,
            %(open_sums)s,
            %(paid_moves)s,
            %(extra_ctes)s
            grouped AS (
                SELECT period, %(group_columns)s, %(sums)s
                  FROM (%(facts)s) facts
              GROUP BY period, %(group_columns)s
            )
            SELECT period, %(groupings)s, %(group_columns)s, %(extra_columns)s
                   %(sums)s
              FROM grouped
          GROUP BY GROUPING SETS ((period), %(grouping_sets)s)
            """,
            lines=self._collection_lines_cte(
                periods,
                segment="segment" in names,
                phase="phase" in names or open_by_phase,
            ),
            open_sums=self._collection_open_sums_cte(periods, columns),
            paid_moves=self._collection_paid_moves_cte(periods, columns),
            extra_ctes=extra_ctes,
            extra_columns=SQL("%s,", extra_columns) if extras else SQL(),
            group_columns=group_columns,
            groupings=SQL(", ").join(
                SQL("GROUPING(%s)", SQL.identifier(column)) for column in columns
            ),
            grouping_sets=SQL(", ").join(
                SQL("(period, %s)", SQL.identifier(column)) for column in columns
            ),
            sums=sums,
            facts=facts,
        )
        results = [
            {"total": None, **{name: {} for name in names}} for _params in periods
        ]
        if aging:
            results[0]["aging"] = []
        if open_by_phase:
            results[0]["open_by_phase"] = {}
        width = len(columns)
        for row in self._collection_execute_without_jit(query):
            period, groupings = row[0], row[1 : 1 + width]
            keys = row[1 + width : 1 + 2 * width]
            extra_values = row[1 + 2 * width : 1 + 2 * width + len(extras)]
            values = dict(
                zip(
                    SUM_COLUMNS,
                    map(float, row[1 + 2 * width + len(extras) :]),
                    strict=True,
                )
            )
            result = results[period]
            for name, value in zip(extras, extra_values, strict=True):
                if value is None:
                    continue
                if name == "open_by_phase":
                    value = {
                        phase: (float(amount), int(invoices))
                        for phase, amount, invoices in value
                    }
                result[name] = value
            if all(groupings):
                result["total"] = values
                continue
            for name, grouping, key in zip(names, groupings, keys, strict=True):
                if not grouping:
                    result[name][key] = values
        return results

    @api.model
    def _collection_execute_without_jit(self, query):
        """Run ``query`` with PostgreSQL's JIT compilation off and return its rows;
        the setting is put back as it was for the rest of the transaction.

        The KPI query has hundreds of expressions (every fact of every source,
        for every date): from some tens of thousands of receivable items its
        estimated cost passes ``jit_above_cost`` (100,000 by default), and
        PostgreSQL then spends longer compiling it than running it (measured
        on 70,000 invoices: the backfill of 52 weeks, 13 dates per query, took
        three times as long with the compilation)."""
        jit = self.env.execute_query(SQL("SELECT current_setting('jit', true)"))[0][0]
        if jit is None:  # a server built without the setting
            return self.env.execute_query(query)
        self.env.execute_query(SQL("SELECT set_config('jit', 'off', true)"))
        rows = self.env.execute_query(query)
        self.env.execute_query(SQL("SELECT set_config('jit', %s, true)", jit))
        return rows

    @api.model
    def _collection_facts_select(self, period, source_from, expressions, columns):
        """One source's sums per key of the breakdowns of ``columns`` (of
        GROUP_COLUMNS' values) for the date of index ``period``: summed where
        the rows are read, so that only a few rows per source reach the union.
        A breakdown's column the source does not give is NULL."""
        sums = [
            SQL("SUM(%s) AS %s", expressions[column], SQL.identifier(column))
            if column in expressions
            else SQL("0 AS %s", SQL.identifier(column))
            for column in SUM_COLUMNS
        ]
        keys = [
            SQL(
                "(%s)::%s AS %s",
                expressions.get(column, SQL("NULL")),
                SQL(GROUP_TYPES[column]),
                SQL.identifier(column),
            )
            for column in columns
        ]
        return SQL(
            "SELECT %s AS period, %s, %s %s GROUP BY %s",
            period,
            SQL(", ").join(keys),
            SQL(", ").join(sums),
            source_from,
            SQL(", ").join(SQL(str(n)) for n in range(2, 2 + len(keys))),
        )

    @api.model
    def _collection_period_column(self, name, index):
        """Identifier of the column ``name`` of the period of index ``index``
        (the queries' columns of each period are named ``<name>_<index>``)."""
        return SQL.identifier(f"{name}_{index}")

    @api.model
    def _collection_lines_cte(self, periods, segment=True, phase=True):
        """CTEs ``later`` and ``lines``: the posted receivable lines of
        ``periods`` (dicts with ``index``, ``company_ids``, ``date_to`` and
        ``date_from``), with their salesperson and collection policy, whether a
        reconciliation on their debit side is dated in one of the periods
        (``paid``) and, for the period of index ``i``, their open amount at its
        end (``residual_i``) and the day before it (``opening_residual_i``), the
        last reconciliation of the period on their debit side (``paid_date_i``)
        and whether they count in it (``in_period_i``: dated on or before its
        end, and not settled before it began); with ``segment`` and ``phase``,
        their customer's segment (``segment_id``) and their invoice's phase
        (``phase``).

        ``lines`` is materialised: its readers (``open_sums``, ``paid_moves``,
        ``aging``) each scan it once.

        The open amount as of a date is the balance minus the reconciliations
        dated on or before it (as in the aging), computed as today's residual
        plus the reconciliations dated after it: only those need summing, and
        ``later`` sums them, with the payment dates, in one pass over the
        reconciliations dated in or after the periods.
        """
        receivable = self.env["collection.receivable"]
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
                    %(residual_at_end)s AS %(residual)s,
                    %(residual_at_start)s AS %(opening_residual)s,
                    la.%(paid_date)s AS %(paid_date)s,
                    -- dated on or before the period's end, and not settled
                    -- before it began
                    (l.date <= %(date_to)s
                     AND (l.date >= %(date_from)s
                          OR l.reconciled IS NOT TRUE
                          OR la.%(after_start)s IS NOT NULL)) AS %(in_period)s
                    """,
                    residual_at_end=receivable._collection_amount_at_sql(
                        "l", SQL("la.%s", names["after_end"])
                    ),
                    residual_at_start=receivable._collection_amount_at_sql(
                        "l", SQL("la.%s", names["after_start"])
                    ),
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
                  FROM (%(matchings)s) p
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
                       %(salesperson)s AS salesperson_id,
                       COALESCE(p.commercial_partner_id, p.id) AS partner_id,
                       %(policy)s AS policy_id
                       %(segment)s
                       %(phase)s
                  FROM account_move_line l
                  JOIN account_move m ON m.id = l.move_id
             LEFT JOIN res_partner p ON p.id = l.partner_id
                  %(stage_join)s
                  %(invoice_joins)s
             LEFT JOIN later la ON la.line_id = l.id
                 WHERE %(receivable)s
                   -- an item dated and settled before the periods counts for
                   -- nothing in them: leave the history out
                   AND (l.date >= %(first)s
                        OR l.reconciled IS NOT TRUE
                        OR la.line_id IS NOT NULL)
            )
            """,
            later_sums=SQL(", ").join(later_sums),
            matchings=receivable._collection_matchings_sql(first, company_ids),
            columns=SQL(", ").join(columns),
            salesperson=receivable._collection_salesperson_sql("rcv"),
            policy=receivable._collection_policy_sql("rcv"),
            segment=(
                SQL(", %s AS segment_id", receivable._collection_segment_sql("rcv"))
                if segment
                else SQL()
            ),
            phase=SQL(", stage.phase AS phase") if phase else SQL(),
            stage_join=(
                SQL(
                    "LEFT JOIN collection_stage stage "
                    "ON stage.id = m.collection_stage_id"
                )
                if phase
                else SQL()
            ),
            # an entry without partner (an opening balance) is its items' customer's
            invoice_joins=receivable._collection_invoice_joins(
                "m", SQL("COALESCE(m.partner_id, l.partner_id)"), "rcv"
            ),
            receivable=receivable._collection_receivable_item_sql(
                "l", company_ids, date_to=last
            ),
            first=first,
            last=last,
        )

    @api.model
    def _collection_aging_cte(self, params):
        """CTE ``aging``: the open amounts of ``lines`` at the end of the period
        of ``params`` per customer (commercial partner, with its name) and
        default bucket, aged by due date: the aging report's sums (its items
        are the lines open on that date, in all receivable accounts, excluded
        invoices included)."""
        receivable = self.env["collection.receivable"]
        bucket = receivable._collection_bucket_sql(
            receivable._collection_days_sql(params["date_to"], SQL("date_maturity")),
            COLLECTION_AGING_LIMITS,
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
    def _collection_open_by_phase_cte(self, params):
        """CTE ``open_by_phase``: the customer invoices open at the end of the
        period of ``params``, by the phase of their collection stage (NULL: no
        stage reached yet): ``amount``, the sum of their items' positive open
        amounts then, and ``invoices``, their number."""
        residual = self._collection_period_column("residual", params["index"])
        return SQL(
            """
            open_by_phase AS (
                SELECT phase, SUM(%(residual)s) AS amount,
                       COUNT(DISTINCT move_id) AS invoices
                  FROM lines
                 WHERE date <= %(date_to)s AND %(residual)s > 0
                   AND move_type = 'out_invoice'
              GROUP BY phase
            )
            """,
            residual=residual,
            date_to=params["date_to"],
        )

    @api.model
    def _collection_open_item_expressions(self, params):
        """``{column: SQL}``: the facts of one receivable line (a row of
        ``lines``) that counts in the period of ``params``."""
        receivable = self.env["collection.receivable"]
        date_to, date_from = params["date_to"], params["date_from"]
        residual = self._collection_period_column("residual", params["index"])
        days_late = receivable._collection_days_sql(date_to, SQL("date_maturity"))
        overdue = SQL("%s > 0", days_late)
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
                "CASE WHEN %s AND %s > 0 THEN %s * %s ELSE 0 END",
                overdue,
                residual,
                residual,
                days_late,
            ),
            "open_debit": SQL("GREATEST(%s, 0)", residual),
            "age_days_amount": SQL(
                "GREATEST(%s, 0) * %s",
                residual,
                receivable._collection_days_sql(date_to, SQL("invoice_date")),
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
    def _collection_open_sums_cte(self, periods, columns):
        """CTE ``open_sums``: the receivable lines' facts summed per key of the
        breakdowns of ``columns`` (salesperson, policy, segment, phase), for
        every period in one pass over ``lines`` (column ``<fact>_<index>``, and
        ``lines_<index>`` the number of lines that count in the period)."""

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
                SELECT %(groups)s, %(aggregates)s
                  FROM lines
              GROUP BY %(groups)s
            )
            """,
            groups=SQL(", ").join(SQL.identifier(column) for column in columns),
            aggregates=self._collection_period_aggregates(periods, aggregates),
        )

    @api.model
    def _collection_paid_moves_cte(self, periods, columns):
        """CTE ``paid_moves``: the customer invoices with a reconciliation in one
        of the periods, with, per period, the sum of their lines that count in
        it (``amount_<index>``), their open amount at its end
        (``residual_<index>``) and their last reconciliation in it
        (``paid_date_<index>``), with the keys of the breakdowns of ``columns``."""

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
                SELECT move_id, %(groups)s, invoice_date, %(aggregates)s
                  FROM lines
                 WHERE move_type = 'out_invoice'
                   AND payment_state != 'reversed'
                   -- only the invoices reconciled in the periods
                   AND move_id IN (SELECT move_id FROM lines WHERE paid)
              GROUP BY move_id, %(groups)s, invoice_date
            )
            """,
            groups=SQL(", ").join(SQL.identifier(column) for column in columns),
            aggregates=self._collection_period_aggregates(periods, aggregates),
        )

    @api.model
    def _collection_fact_sources(self, params):
        """``[(FROM clause, {column: expression})]`` of every fact source for the
        period of ``params`` (``index``, ``company_ids``, ``date_from``,
        ``date_to`` and the currency's ``rounding``); columns not given are 0.
        Each source has the columns of GROUP_COLUMNS it can tell (at least
        ``salesperson_id`` and ``policy_id``)."""
        index = params["index"]
        work = self.env["collection.portfolio.work"]
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
                {**self._collection_group_keys(), **open_columns},
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
                    **self._collection_group_keys(),
                    "paid_amount": amount,
                    "paid_days_amount": SQL(
                        "%s * %s",
                        amount,
                        self.env["collection.receivable"]._collection_days_sql(
                            paid_date, SQL("invoice_date")
                        ),
                    ),
                },
            ),
            work._collection_escalation_source(params),
            work._collection_promise_source(params),
            work._collection_dispute_source(params),
            work._collection_contact_source(params),
        ]
        return sources

    @api.model
    def _collection_group_keys(self):
        """``{column: SQL}``: the breakdowns' columns of ``open_sums`` and
        ``paid_moves``, read as they are."""
        return {column: SQL.identifier(column) for column in GROUP_COLUMNS.values()}
