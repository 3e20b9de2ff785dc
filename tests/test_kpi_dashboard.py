from datetime import date, timedelta

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged

from .common_kpi import LAST_WEEK_END, SNAPSHOT, TODAY, KpiHistoryCommon
from .common_rpc import RpcCommon


@tagged("post_install", "-at_install")
class TestKpiDashboard(KpiHistoryCommon, RpcCommon):
    """The managers' dashboard over the KPI history, called as the web client
    calls it (RPC, the user's own environment and a context of their choosing)."""

    def _dashboard(self, user=None, context=None, **kwargs):
        with freeze_time(TODAY):
            return self._rpc(
                user or self.manager,
                SNAPSHOT,
                "get_collection_dashboard",
                context=context,
                **kwargs,
            )

    def _cards(self, values):
        return {card["key"]: card for card in values["cards"]}

    def test_cards_change_over_4_and_12_weeks(self):
        self._backfill()
        values = self._dashboard()
        self.assertFalse(values["empty"])
        self.assertEqual(values["company"]["id"], self.company.id)
        cards = self._cards(values)
        now = self._kpis(LAST_WEEK_END)
        four = self._kpis(LAST_WEEK_END - timedelta(weeks=4))
        twelve = self._kpis(LAST_WEEK_END - timedelta(weeks=12))
        for figure, factor in (
            ("receivable", 1),
            ("overdue", 1),
            ("overdue_ratio", 100),
            ("dso", 1),
            ("cei", 1),
            ("weighted_days_late", 1),
        ):
            raw = cards[figure]["raw"]
            with self.subTest(figure=figure):
                self.assertAlmostEqual(raw["value"], now[figure] * factor, places=4)
                self.assertAlmostEqual(
                    raw["change_4"], (now[figure] - four[figure]) * factor, places=4
                )
                self.assertAlmostEqual(
                    raw["change_12"], (now[figure] - twelve[figure]) * factor, places=4
                )
        # 2026-01-04 to 2026-03-29: the overdue amount grew from 1000 (A) to
        # 3000 (A and C's remainder): a change for the worse
        overdue = cards["overdue"]
        self.assertAlmostEqual(overdue["raw"]["change_12"], 2000.0)
        self.assertEqual(
            [change["tone"] for change in overdue["changes"]], ["good", "bad"]
        )
        self.assertEqual(overdue["changes"][1]["value"], "+$\xa02,000.00")
        # the line charts of the last 52 weeks (17 of them stored)
        self.assertEqual(
            [chart["key"] for chart in values["charts"]],
            ["overdue_ratio", "dso", "cei", "overdue"],
        )
        self.assertEqual(values["charts"][3]["svg"].count("<circle"), 17)
        twelve_weeks = self._dashboard(weeks=12)
        self.assertEqual(twelve_weeks["charts"][3]["svg"].count("<circle"), 12)

    def test_by_salesperson_and_by_policy(self):
        self._backfill()
        values = self._dashboard()
        options = {dim["name"]: dim["options"] for dim in values["dimensions"]}
        self.assertEqual(
            [option["name"] for option in options["salesperson"]],
            ["Sally Seller", "Sam Seller"],
            "largest receivable first",
        )
        self.assertEqual(
            [option["key"] for option in options["policy"]], [self.policy.id]
        )
        sally = self._dashboard(dimension="salesperson", key=self.salesperson_2.id)
        row = next(
            row
            for row in self._kpis(LAST_WEEK_END)["by_salesperson"]
            if row["key"] == self.salesperson_2.id
        )
        cards = self._cards(sally)
        self.assertAlmostEqual(cards["receivable"]["raw"]["value"], row["receivable"])
        self.assertAlmostEqual(cards["receivable"]["raw"]["value"], 3500.0)
        self.assertTrue(
            next(
                option
                for dim in sally["dimensions"]
                for option in dim["options"]
                if option["key"] == self.salesperson_2.id
            )["selected"]
        )
        self.assertEqual(
            sally["history_action"]["domain"],
            [
                ("company_id", "=", self.company.id),
                ("dimension", "=", "salesperson"),
                ("user_id", "=", self.salesperson_2.id),
            ],
        )
        policy = self._cards(self._dashboard(dimension="policy", key=self.policy.id))
        self.assertAlmostEqual(
            policy["receivable"]["raw"]["value"],
            self._kpis(LAST_WEEK_END)["receivable"],
        )

    def test_empty_until_the_history_is_computed(self):
        self.assertTrue(self._dashboard()["empty"])
        with freeze_time(TODAY):
            action = self._rpc(self.manager, SNAPSHOT, "action_collection_backfill")
        self.assertIn("17 weeks computed", action["params"]["message"])
        self.assertFalse(self._dashboard()["empty"])
        with freeze_time(TODAY):
            action = self._rpc(self.manager, SNAPSHOT, "action_collection_backfill")
        self.assertIn("nothing to add", action["params"]["message"])

    def test_managers_only(self):
        self._backfill()
        for user in (self.salesperson, self.billing, self.portal):
            with self.subTest(user=user.login):
                with self._refused(AccessError):
                    self._dashboard(user)
                with self._refused(AccessError):
                    self._rpc(user, SNAPSHOT, "search_read", [], ["receivable"])
                with self._refused(AccessError):
                    self._rpc(user, SNAPSHOT, "action_collection_backfill")
        # nobody writes the history, not even a manager
        snapshot = self._snapshots(dimension="company", date=LAST_WEEK_END)
        with self._refused(AccessError):
            self._rpc(self.manager, SNAPSHOT, "write", snapshot.ids, {"receivable": 1})
        with self._refused(AccessError):
            self._rpc(self.manager, SNAPSHOT, "unlink", snapshot.ids)
        # the settings' button, for a collection manager only
        settings = self.env["res.config.settings"].create({})
        with self._refused(AccessError):
            settings.with_user(self.salesperson).action_collection_kpi_backfill()

    def test_a_manager_sees_the_history_of_their_companies_only(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        self._post_invoice(
            date(2026, 3, 3), 777, company=company_b, invoice_date=date(2026, 2, 1)
        )
        self._backfill(companies=self.company | company_b)
        snapshots_b = self._snapshots(company_id=company_b.id)
        self.assertTrue(snapshots_b)
        # manager of A: nothing of B, whatever the arguments and the context
        seen = self._rpc(self.manager, SNAPSHOT, "search_read", [], ["company_id"])
        self.assertEqual({row["company_id"][0] for row in seen}, {self.company.id})
        with self._refused(AccessError):
            self._rpc(self.manager, SNAPSHOT, "read", snapshots_b[:1].ids, ["date"])
        values = self._dashboard(company_id=company_b.id)
        self.assertEqual(values["company"]["id"], self.company.id)
        with self._refused(AccessError):
            self._dashboard(
                company_id=company_b.id, context={"allowed_company_ids": company_b.ids}
            )
        with self._refused(AccessError):
            self._rpc(
                self.manager,
                SNAPSHOT,
                "action_collection_backfill",
                context={"allowed_company_ids": company_b.ids},
            )
        settings = self.env["res.config.settings"].create({"company_id": company_b.id})
        with self._refused(AccessError):
            settings.with_user(self.manager).action_collection_kpi_backfill()
        # a manager of both companies switches to B
        self.manager.company_ids = [Command.link(company_b.id)]
        values = self._dashboard(
            company_id=company_b.id,
            context={"allowed_company_ids": (self.company | company_b).ids},
        )
        self.assertEqual(values["company"]["id"], company_b.id)
        self.assertAlmostEqual(self._cards(values)["receivable"]["raw"]["value"], 777.0)
