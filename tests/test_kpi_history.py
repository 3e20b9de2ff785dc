from datetime import date, timedelta

from psycopg2 import IntegrityError

from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from .common_kpi import (
    FIRST_WEEK_END,
    LAST_WEEK_END,
    NEXT_MONDAY,
    SNAPSHOT,
    TODAY,
    WEEKS,
    KpiHistoryCommon,
)

# the figures of a snapshot and of _collection_kpis() that must agree (the
# snapshot keeps the overdue ratio in percent)
FIGURES = (
    "receivable",
    "not_due",
    "overdue",
    "opening_receivable",
    "credit_sales",
    "dso",
    "best_dso",
    "add",
    "cei",
    "weighted_days_late",
    "collection_period",
    "average_age",
    "promises_made",
    "contacts",
    "escalations",
)


@tagged("post_install", "-at_install")
class TestKpiHistory(KpiHistoryCommon):
    """The weekly KPI history: written by the weekly report's scheduled action
    and by the backfill, equal to the KPIs as of each week's end, never twice."""

    def assertSnapshotEqualsKpis(self, snapshot, figures):
        """``snapshot`` holds ``figures`` (a row of _collection_kpis())."""
        for figure in FIGURES:
            with self.subTest(date=snapshot.date, figure=figure):
                expected = figures[figure]
                self.assertAlmostEqual(snapshot[figure], expected or 0.0, places=4)
        ratio = figures["overdue_ratio"]
        self.assertAlmostEqual(
            snapshot.overdue_ratio, ratio * 100 if ratio is not None else 0.0, places=4
        )

    # -------------------------------------------------------------------------
    # Backfill
    # -------------------------------------------------------------------------

    def test_backfill_equals_the_kpis_as_of_each_week_end(self):
        self.assertEqual(self._backfill(), WEEKS)
        totals = self._snapshots(dimension="company")
        self.assertEqual(len(totals), WEEKS, "one row per week")
        self.assertEqual(min(totals.mapped("date")), FIRST_WEEK_END)
        self.assertEqual(max(totals.mapped("date")), LAST_WEEK_END)
        self.assertTrue(all(d.isoweekday() == 7 for d in totals.mapped("date")))
        # weeks before the first invoice have nothing to measure
        self.assertFalse(self._snapshots(date=FIRST_WEEK_END - timedelta(weeks=1)))
        for week_end in (
            FIRST_WEEK_END,
            date(2026, 2, 22),  # B paid, C overdue
            date(2026, 3, 15),  # C partly paid, D not due
            LAST_WEEK_END,
        ):
            kpis = self._kpis(week_end)
            self.assertSnapshotEqualsKpis(
                self._snapshots(date=week_end, dimension="company"), kpis
            )
            # per salesperson and per policy: the report's breakdowns
            for dimension, rows, column in (
                ("salesperson", kpis["by_salesperson"], "user_id"),
                ("policy", kpis["by_policy"], "policy_id"),
            ):
                snapshots = self._snapshots(date=week_end, dimension=dimension)
                self.assertEqual(
                    sorted(snapshots.mapped(f"{column}.id")),
                    sorted(row["key"] for row in rows),
                    f"{dimension} rows of {week_end}",
                )
                for row in rows:
                    self.assertSnapshotEqualsKpis(
                        snapshots.filtered(
                            lambda s, r=row, c=column: s[c].id == r["key"]
                        ),
                        row,
                    )
        # as of 2026-03-15: Sam owes A (1000), Sally C's remaining 2000 and D
        sam = self._snapshots(
            date=date(2026, 3, 15), dimension="salesperson", user_id=self.salesperson.id
        )
        self.assertAlmostEqual(sam.receivable, 1000.0)
        self.assertAlmostEqual(sam.overdue_ratio, 100.0)
        self.assertEqual(sam.currency_id, self.company.currency_id)
        self.assertEqual(sam.period_days, 90)

    def test_a_figure_that_cannot_be_computed_is_empty(self):
        """Nothing paid yet in the first week's period: no collection period.
        The history keeps it empty (NULL), not 0, and the charts and cards
        read it so."""
        self._backfill()
        week_end = FIRST_WEEK_END
        self.assertIsNone(self._kpis(week_end)["collection_period"])
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT collection_period, dso FROM collection_kpi_snapshot "
            "WHERE date = %s AND dimension = 'company'",
            [week_end],
        )
        collection_period, dso = self.env.cr.fetchone()
        self.assertIsNone(collection_period)
        self.assertIsNotNone(dso)
        series = self.env["collection.kpi.dashboard"]._collection_series(
            self.company, [week_end]
        )
        self.assertIsNone(series[week_end]["collection_period"])
        self.assertEqual(series[week_end]["receivable"], 1000.0)

    def test_backfill_twice_adds_nothing(self):
        self.assertEqual(self._backfill(), WEEKS)
        count = self.env[SNAPSHOT].search_count([])
        self.assertEqual(self._backfill(), 0)
        self.assertEqual(self.env[SNAPSHOT].search_count([]), count)
        # a week later, only the new week
        self.assertEqual(self._backfill(TODAY + timedelta(days=7)), 1)

    def test_backfill_after_an_interruption_completes_the_missing_weeks(self):
        """A run stopped half-way leaves whole weeks; the next one adds the
        others, without duplicates, with the same figures as one run."""
        week_ends = self.history._collection_week_ends(TODAY)
        self.history._collection_write_weeks(self.company, week_ends[-6:-2])
        written = self._snapshots().read(["date", "dimension", "receivable"])
        self.assertEqual(len(self._snapshots(dimension="company")), 4)
        self.assertEqual(self._backfill(), WEEKS - 4)
        self.assertEqual(len(self._snapshots(dimension="company")), WEEKS)
        again = self.env[SNAPSHOT].browse([row["id"] for row in written])
        self.assertEqual(again.read(["date", "dimension", "receivable"]), written)

    def test_one_snapshot_per_week_and_dimension_in_the_database(self):
        self._backfill()
        total = self._snapshots(date=LAST_WEEK_END, dimension="company")
        sam = self._snapshots(
            date=LAST_WEEK_END, dimension="salesperson", user_id=self.salesperson.id
        )
        self.env.flush_all()
        for snapshot in (total, sam):
            with (
                self.subTest(dimension=snapshot.dimension),
                self.assertRaises(IntegrityError),
                mute_logger("odoo.sql_db"),
                self.env.cr.savepoint(),
            ):
                self.env.cr.execute(
                    """
                    INSERT INTO collection_kpi_snapshot
                           (date, company_id, currency_id, dimension, user_id)
                    SELECT date, company_id, currency_id, dimension, user_id
                      FROM collection_kpi_snapshot WHERE id = %s
                    """,
                    [snapshot.id],
                )
        # the writer leaves a stored week as it is, without error
        self.assertEqual(
            self.history._collection_write_weeks(self.company, [LAST_WEEK_END]), 0
        )
        # a snapshot is dated on the last day of its week
        with (
            self.assertRaises(IntegrityError),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute(
                "UPDATE collection_kpi_snapshot SET date = %s WHERE id = %s",
                [TODAY, total.id],
            )

    def test_one_shot_scheduled_action(self):
        """The install queues the backfill; the action computes the weeks in
        batches and asks to be deactivated when none is missing."""
        cron = self.env.ref("account_collections.ir_cron_collection_kpi_backfill")
        self.history._collection_queue_backfill()
        self.assertTrue(cron.active)
        self.assertTrue(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        )
        progress_seen = []
        with freeze_time(TODAY):
            for _call in range(5):
                job, progress = cron._add_progress()
                self.history.with_context(
                    ir_cron_progress_id=progress.id
                )._cron_backfill(batch_size=10)
                progress_seen.append(
                    (progress.done, progress.remaining, progress.deactivate)
                )
                if not progress.remaining:
                    break
        self.assertEqual(progress_seen, [(10, 7, False), (7, 0, True)])
        self.assertEqual(len(self._snapshots(dimension="company")), WEEKS)

    # -------------------------------------------------------------------------
    # The weekly report's scheduled action
    # -------------------------------------------------------------------------

    def test_weekly_action_writes_the_week_once(self):
        cron = self.env.ref("account_collections.ir_cron_collection_weekly_report")
        with freeze_time(NEXT_MONDAY):
            cron.method_direct_trigger()
        week_end = date(2026, 4, 5)
        total = self._snapshots(dimension="company")
        self.assertEqual(total.date, week_end, "the week that ended on Sunday")
        self.assertSnapshotEqualsKpis(total, self._kpis(week_end))
        self.assertEqual(
            set(self._snapshots(dimension="salesperson").mapped("user_id")),
            {self.salesperson, self.salesperson_2},
        )
        count = self.env[SNAPSHOT].search_count([])
        # again in the same week (Thursday): nothing more
        with freeze_time("2026-04-09 06:00:00"):
            cron.method_direct_trigger()
        self.assertEqual(self.env[SNAPSHOT].search_count([]), count)
        # next Monday: next week
        with freeze_time("2026-04-13 06:00:00"):
            cron.method_direct_trigger()
        self.assertEqual(
            sorted(self._snapshots(dimension="company").mapped("date")),
            [week_end, date(2026, 4, 12)],
        )

    def test_weekly_action_snapshots_every_company(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        self._post_invoice(
            date(2026, 3, 3), 777, company=company_b, invoice_date=date(2026, 2, 1)
        )
        company_c = self.setup_other_company(name="Company C")["company"]
        with freeze_time(NEXT_MONDAY):
            self.env["collection.portfolio.delivery"]._cron_send_weekly_report()
        totals = self._snapshots(dimension="company")
        self.assertEqual(totals.company_id, self.company | company_b)
        self.assertNotIn(company_c, totals.company_id, "nothing to measure in C")
        self.assertAlmostEqual(
            totals.filtered(lambda s: s.company_id == company_b).receivable, 777.0
        )
        self.assertEqual(
            totals.filtered(lambda s: s.company_id == company_b).currency_id,
            company_b.currency_id,
        )
