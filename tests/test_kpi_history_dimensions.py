from datetime import date

from psycopg2 import IntegrityError

from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from .common_kpi import LAST_WEEK_END, NEXT_MONDAY, SNAPSHOT, TODAY, KpiHistoryCommon


@tagged("post_install", "-at_install")
class TestKpiHistoryDimensions(KpiHistoryCommon):
    """The KPI history per customer segment and per collection phase: rows
    with the amounts of the segment's customers and of the invoices at a stage
    of the phase, adding up to the company's total, never twice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.segment = cls.env["collection.segment"].create(
            {
                "name": "Key accounts",
                "sequence": 90,
                "company_id": cls.company.id,
                "policy_id": cls.policy.id,
                "partner_domain": f"[('id', '=', {cls.customer.id})]",
            }
        )
        # Acme (A, B, E) in the segment; Globex (C, D) in none
        cls.customer.sudo().with_company(
            cls.company
        ).collection_segment_id = cls.segment

    def _rows(self, dimension, week_end=LAST_WEEK_END):
        column = {"segment": "segment_id", "phase": "phase"}[dimension]
        rows = self._snapshots(date=week_end, dimension=dimension)
        return {
            (row[column].id if column == "segment_id" else row[column]): row
            for row in rows
        }

    def test_segment_rows_hold_the_segment_customers_amounts(self):
        self._backfill()
        # as of 2026-03-15: Acme owes A (1000); Globex C's remaining 2000 and D
        rows = self._rows("segment", date(2026, 3, 15))
        self.assertEqual(set(rows), {self.segment.id, False})
        self.assertAlmostEqual(rows[self.segment.id].receivable, 1000.0)
        self.assertAlmostEqual(rows[self.segment.id].overdue_ratio, 100.0)
        self.assertAlmostEqual(rows[False].receivable, 3500.0)
        self.assertAlmostEqual(rows[False].overdue, 2000.0)
        self.assertEqual(
            rows[self.segment.id].display_name, "2026-03-15 - Key accounts"
        )
        # the segment's rows add up to the company's total, week after week
        for total in self._snapshots(dimension="company"):
            segments = self._snapshots(date=total.date, dimension="segment")
            with self.subTest(week=total.date):
                self.assertAlmostEqual(
                    sum(segments.mapped("receivable")), total.receivable
                )
                self.assertAlmostEqual(
                    sum(segments.mapped("credit_sales")), total.credit_sales
                )

    def test_phase_rows_hold_the_invoices_at_a_stage_of_the_phase(self):
        # the daily run on 04-01: A (due 12-31) and C (due 02-19) at the final
        # notice (negotiation), D (due 04-01) at the reminder (preventive)
        self._run(TODAY)
        self.assertEqual(self.inv_a.collection_phase, "negotiation")
        self.assertEqual(self.inv_d.collection_phase, "preventive")
        self._backfill()
        rows = self._rows("phase")
        self.assertAlmostEqual(rows["negotiation"].receivable, 3000.0)
        self.assertAlmostEqual(rows["negotiation"].overdue, 3000.0)
        self.assertAlmostEqual(rows["preventive"].receivable, 1500.0)
        self.assertAlmostEqual(rows["preventive"].overdue, 0.0)
        # B and E, paid, have no stage: their sales (in the 90 days) and their
        # payment are counted without phase
        self.assertAlmostEqual(rows[False].receivable, 0.0)
        self.assertAlmostEqual(rows[False].credit_sales, 2800.0)
        total = self._snapshots(date=LAST_WEEK_END, dimension="company")
        self.assertAlmostEqual(
            sum(row.receivable for row in rows.values()), total.receivable
        )
        self.assertEqual(
            self.env[SNAPSHOT]
            .search([("dimension", "=", "phase"), ("phase", "=", "negotiation")])
            .mapped("display_name")[:1],
            [f"{LAST_WEEK_END} - Negotiation"],
        )

    def test_weekly_action_writes_segment_and_phase_rows_once(self):
        cron = self.env.ref("account_collections.ir_cron_collection_weekly_report")
        self._run(TODAY)
        with freeze_time(NEXT_MONDAY):
            cron.method_direct_trigger()
        week_end = date(2026, 4, 5)
        segments = self._rows("segment", week_end)
        phases = self._rows("phase", week_end)
        self.assertAlmostEqual(segments[self.segment.id].receivable, 1000.0)
        self.assertAlmostEqual(segments[False].receivable, 3500.0)
        self.assertAlmostEqual(phases["negotiation"].receivable, 3000.0)
        count = self.env[SNAPSHOT].search_count([])
        with freeze_time("2026-04-09 06:00:00"):
            cron.method_direct_trigger()
        self.assertEqual(self.env[SNAPSHOT].search_count([]), count)
        # the backfill on top adds the past weeks, not this one again
        self._backfill(on=date(2026, 4, 9))
        self.assertEqual(len(self._rows("segment", week_end)), 2)
        self.assertEqual(
            self.history._collection_write_weeks(self.company, [week_end]), 0
        )
        self.assertEqual(len(self._rows("phase", week_end)), len(phases))

    def test_one_row_per_week_segment_and_phase_in_the_database(self):
        self._run(TODAY)
        self._backfill()
        rows = (
            self._rows("segment")[self.segment.id] | self._rows("phase")["negotiation"]
        )
        self.env.flush_all()
        for row in rows:
            with (
                self.subTest(dimension=row.dimension),
                self.assertRaises(IntegrityError),
                mute_logger("odoo.sql_db"),
                self.env.cr.savepoint(),
            ):
                self.env.cr.execute(
                    """
                    INSERT INTO collection_kpi_snapshot
                           (date, company_id, currency_id, dimension, segment_id, phase)
                    SELECT date, company_id, currency_id, dimension, segment_id, phase
                      FROM collection_kpi_snapshot WHERE id = %s
                    """,
                    [row.id],
                )
        # a segment on a row of another breakdown is refused
        with (
            self.assertRaises(IntegrityError),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute(
                "UPDATE collection_kpi_snapshot SET phase = 'legal' WHERE id = %s",
                [self._rows("segment")[self.segment.id].id],
            )

    def test_dashboard_filters_by_segment_and_phase(self):
        self._run(TODAY)
        self._backfill()
        dashboard = self.env[SNAPSHOT].with_user(self.manager)
        with freeze_time(TODAY):
            values = dashboard.get_collection_dashboard(
                dimension="segment", key=self.segment.id, weeks=12
            )
        options = {dim["name"]: dim["options"] for dim in values["dimensions"]}
        self.assertEqual(
            {o["name"] for o in options["segment"]}, {"Key accounts", "No segment"}
        )
        self.assertTrue(
            {"Negotiation", "Preventive", "No stage yet"}
            <= {o["name"] for o in options["phase"]}
        )
        cards = {card["key"]: card for card in values["cards"]}
        self.assertAlmostEqual(cards["receivable"]["raw"]["value"], 1000.0)
        with freeze_time(TODAY):
            values = dashboard.get_collection_dashboard(
                dimension="phase", key="preventive", weeks=12
            )
        cards = {card["key"]: card for card in values["cards"]}
        self.assertAlmostEqual(cards["receivable"]["raw"]["value"], 1500.0)
