import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL, split_every

from ..models.collection_kpi_snapshot import SNAPSHOT_DIMENSIONS, SNAPSHOT_FIGURES
from .collection_portfolio_report import DEFAULT_PERIOD_DAYS

_logger = logging.getLogger(__name__)

# weeks of history the backfill computes
BACKFILL_WEEKS = 52
# week ends computed by one KPI query: the receivable is read once for all of
# them (13 weeks in one query cost about what 3 or 4 queries of one week cost)
WEEKS_PER_QUERY = 13
BACKFILL_CRON = "account_collections.ir_cron_collection_kpi_backfill"


class CollectionKpiHistory(models.AbstractModel):
    """Writes the weekly KPI history (collection.kpi.snapshot): the snapshot of
    the week that just ended, from the weekly report's scheduled action, and
    the backfill of the last 52 weeks (on install and update, by a one-shot
    scheduled action, and on demand from the settings).

    A week is computed from the ledger as of its last day (Sunday), with the
    KPI query of the weekly report, several weeks per query. A stored week is
    never written again: the weeks to compute are those without a row, and the
    rows are inserted with ``ON CONFLICT DO NOTHING`` against the unique index,
    so that a second run, or two runs at once, add nothing. All the rows of a
    week go in with one statement: a run that stops half-way leaves whole
    weeks.
    """

    _name = "collection.kpi.history"
    _description = "Collection KPI History"

    # -------------------------------------------------------------------------
    # Weeks
    # -------------------------------------------------------------------------

    @api.model
    def _collection_week_end(self, day):
        """The last day (Sunday) of the last complete week before ``day``."""
        return day - timedelta(days=day.isoweekday())

    @api.model
    def _collection_week_ends(self, day, weeks=BACKFILL_WEEKS):
        """The last days of the ``weeks`` complete weeks before ``day``, oldest
        first."""
        last = self._collection_week_end(day)
        return [last - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]

    @api.model
    def _collection_missing_weeks(self, companies, week_ends):
        """``{company: [week end]}`` (oldest first): the weeks of ``week_ends``
        without a snapshot, for each of ``companies`` that has any. The weeks
        before a company's first receivable item have nothing to measure and are
        not missing (a history imported later is measured then)."""
        if not companies or not week_ends:
            return {}
        self.env.flush_all()  # the query below names no field to flush
        receivable = self.env["collection.receivable"]
        first_dates = dict(
            self.env.execute_query(
                SQL(
                    """
                    SELECT l.company_id, MIN(l.date)
                      FROM account_move_line l
                     WHERE %s
                  GROUP BY l.company_id
                    """,
                    receivable._collection_receivable_item_sql(
                        "l", companies.ids, date_to=max(week_ends)
                    ),
                )
            )
        )
        stored = {
            (company.id, date)
            for company, date in self.env["collection.kpi.snapshot"]
            .sudo()
            ._read_group(
                [
                    ("company_id", "in", companies.ids),
                    ("dimension", "=", "company"),
                    ("date", "in", week_ends),
                ],
                ["company_id", "date:day"],
            )
        }
        missing = {}
        for company in companies.sorted("id"):
            first = first_dates.get(company.id)
            weeks = [
                week_end
                for week_end in sorted(week_ends)
                if first and week_end >= first and (company.id, week_end) not in stored
            ]
            if weeks:
                missing[company] = weeks
        return missing

    # -------------------------------------------------------------------------
    # Writing
    # -------------------------------------------------------------------------

    @api.model
    def _collection_write_weeks(self, company, week_ends):
        """Compute the snapshots of ``company`` as of each of ``week_ends`` and
        store those not stored yet; return the number of weeks stored.

        Runs with superuser rights: the callers check who asks."""
        self = self.sudo()  # noqa: PLW0642 - the history is written by the system
        query = self.env["collection.portfolio.query"]
        written = 0
        for chunk in split_every(WEEKS_PER_QUERY, sorted(week_ends), list):
            results = query._collection_portfolio_sums(
                company, chunk, DEFAULT_PERIOD_DAYS, aging=False
            )
            rows = []
            for week_end, result in zip(chunk, results, strict=True):
                rows += self._collection_snapshot_rows(company, week_end, result)
            inserted = self._collection_insert(rows)
            written += sum(1 for row in inserted if row[1] == "company")
        return written

    @api.model
    def _collection_snapshot_rows(self, company, week_end, result):
        """The rows of one week: the company's total, and one row per key of each
        dimension with something in the period (see the report's breakdowns)."""
        report = self.env["collection.portfolio.report"]
        base = {
            "date": week_end,
            "company_id": company.id,
            "currency_id": company.currency_id.id,
            "period_days": DEFAULT_PERIOD_DAYS,
        }
        rows = [
            {
                **base,
                "dimension": "company",
                **self._collection_row_figures(result["total"]),
            }
        ]
        for dimension, column in SNAPSHOT_DIMENSIONS.items():
            for key, sums in result[dimension].items():
                if report._collection_is_empty(sums):
                    continue
                rows.append(
                    {
                        **base,
                        "dimension": dimension,
                        column: key or None,
                        **self._collection_row_figures(sums),
                    }
                )
        return rows

    @api.model
    def _collection_row_figures(self, sums):
        figures = self.env["collection.portfolio.report"]._collection_figures(
            sums, DEFAULT_PERIOD_DAYS
        )
        values = {name: figures[name] for name in SNAPSHOT_FIGURES}
        if values["overdue_ratio"] is not None:
            values["overdue_ratio"] *= 100.0
        return values

    @api.model
    def _collection_insert(self, rows):
        """Insert ``rows``, those of a week, dimension and key already stored
        left out (the unique index); return ``[(id, dimension)]`` of the rows
        inserted."""
        columns = [
            "date",
            "company_id",
            "currency_id",
            "dimension",
            *SNAPSHOT_DIMENSIONS.values(),
            "period_days",
            *SNAPSHOT_FIGURES,
        ]
        inserted = []
        now = fields.Datetime.now()
        for batch in split_every(500, rows, list):
            values = SQL(", ").join(
                SQL(
                    "(%s, %s, %s, %s, %s)",
                    SQL(", ").join(row.get(column) for column in columns),
                    self.env.uid,
                    now,
                    self.env.uid,
                    now,
                )
                for row in batch
            )
            inserted += self.env.execute_query(
                SQL(
                    """
                    INSERT INTO collection_kpi_snapshot
                           (%s, create_uid, create_date, write_uid, write_date)
                    VALUES %s
                    ON CONFLICT DO NOTHING
                 RETURNING id, dimension
                    """,
                    SQL(", ").join(SQL.identifier(column) for column in columns),
                    values,
                )
            )
        return inserted

    # -------------------------------------------------------------------------
    # The weekly snapshot
    # -------------------------------------------------------------------------

    @api.model
    def _collection_snapshot_week(self, day):
        """Store the snapshot of the week that ended before ``day`` for every
        company that has none yet (the weekly report's scheduled action). One
        company's failure is logged and leaves the others' snapshots written."""
        companies = self.env["res.company"].sudo().search([])
        week_end = self._collection_week_end(day)
        written = 0
        for company, weeks in self._collection_missing_weeks(
            companies, [week_end]
        ).items():
            try:
                with self.env.cr.savepoint():
                    written += self._collection_write_weeks(company, weeks)
            except Exception:  # noqa: BLE001 - logged, the report goes on
                _logger.exception(
                    "KPI snapshot of %s for the week ending %s failed",
                    company.name,
                    week_end,
                )
        if written:
            _logger.info(
                "KPI history: week ending %s stored for %s companies",
                week_end,
                written,
            )
        return written

    # -------------------------------------------------------------------------
    # Backfill
    # -------------------------------------------------------------------------

    @api.model
    def _collection_backfill(self, companies, day=None):
        """Compute and store the weeks of the last 52 missing for ``companies``
        (as of ``day``, by default today); return the number of weeks stored."""
        day = day or fields.Date.context_today(self)
        missing = self._collection_missing_weeks(
            companies, self._collection_week_ends(day)
        )
        return sum(
            self._collection_write_weeks(company, weeks)
            for company, weeks in missing.items()
        )

    @api.model
    def _cron_backfill(self, batch_size=WEEKS_PER_QUERY):
        """One-shot scheduled action: the KPI history of the last 52 weeks of
        every company, ``batch_size`` weeks of one company per call (one query);
        the scheduler commits between calls, and the action deactivates itself
        when no week is missing (the install and the update queue it)."""
        today = fields.Date.context_today(self)
        companies = self.env["res.company"].sudo().search([])
        missing = self._collection_missing_weeks(
            companies, self._collection_week_ends(today)
        )
        todo = sum(len(weeks) for weeks in missing.values())
        done = 0
        if missing:
            company, weeks = next(iter(missing.items()))
            done = self._collection_write_weeks(company, weeks[:batch_size])
            _logger.info(
                "KPI history of %s: %s weeks stored, %s weeks to go",
                company.name,
                done,
                todo - done,
            )
        remaining = todo - done
        self.env["ir.cron"]._notify_progress(
            done=done, remaining=remaining, deactivate=not remaining
        )
        return done

    @api.model
    def _collection_queue_backfill(self):
        """Have the backfill run in the background soon (install, update): a
        large ledger takes seconds per week, which an install or an update
        should not wait for."""
        cron = self.env.ref(BACKFILL_CRON, raise_if_not_found=False)
        if cron:
            cron.sudo().active = True
            cron.sudo()._trigger()

    @api.model
    def _collection_backfill_now(self, company):
        """The settings' button: the missing weeks of the last 52 of ``company``,
        now; only for a collection manager allowed in the company."""
        self.env["collection.portfolio.report"]._collection_check_access(company)
        return self._collection_backfill(company)
