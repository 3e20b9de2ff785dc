from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, tagged

from .common import day
from .common_rpc import RpcCommon


@tagged("post_install", "-at_install")
class TestCollectionPhases(RpcCommon):
    """Each stage belongs to one of the four phases of collection; the invoice,
    the kanban and the weekly report show the phase an invoice is in."""

    def test_default_policy_stages_and_new_stages_get_their_phase(self):
        self.assertEqual(
            [(stage.day_offset, stage.phase) for stage in self.policy.stage_ids],
            [
                (-5, "preventive"),
                (1, "administrative"),
                (7, "administrative"),
                (30, "negotiation"),
            ],
        )
        stage = self.env["collection.stage"].create(
            {
                "policy_id": self.policy.id,
                "name": "Lawyer",
                "day_offset": 90,
                "activity_type_id": self.stage_final.activity_type_id.id,
            }
        )
        self.assertEqual(stage.phase, "negotiation", "from 30 days: negotiation")
        stage.phase = "legal"
        self.assertEqual(stage.phase, "legal", "legal is chosen by hand")
        stage.day_offset = 0
        self.assertEqual(stage.phase, "preventive", "moved to the due date")

    def test_invoice_phase_follows_its_stage(self):
        move = self._post_invoice(day(0))
        self.assertFalse(move.collection_phase, "no stage reached yet")
        self._run(day(-5))
        self.assertEqual(move.collection_phase, "preventive")
        self._run(day(7))
        self.assertEqual(move.collection_stage_id, self.stage_escalation)
        self.assertEqual(move.collection_phase, "administrative")
        # the invoices grouped by phase, as the search view's "Collection Phase" does
        groups = self.env["account.move"].read_group(
            [("id", "=", move.id)], ["amount_residual:sum"], ["collection_phase"]
        )
        self.assertEqual(
            [(group["collection_phase"], group["amount_residual"]) for group in groups],
            [("administrative", 1000.0)],
        )
        self._run(day(30))
        self.assertEqual(move.collection_phase, "negotiation")

    def test_weekly_kpis_and_report_break_the_open_invoices_down_by_phase(self):
        late = self._post_invoice(day(0), 1000.0)
        later = self._post_invoice(day(0), 500.0, partner=self.customer_2)
        paid = self._post_invoice(day(0), 200.0)
        self._post_invoice(day(60), 300.0, invoice_date=day(0))  # no stage yet
        self._run(day(30))
        self._pay(paid, pay_date=day(30))
        self.assertEqual((late | later).mapped("collection_phase"), ["negotiation"] * 2)

        kpis = self.env["collection.portfolio.report"]._collection_kpis(
            self.company.ids, day(30)
        )
        self.assertEqual(
            [(row["key"], row["amount"], row["count"]) for row in kpis["by_phase"]],
            [(False, 300.0, 1), ("negotiation", 1500.0, 2)],
            "the paid invoice is gone from its phase",
        )
        # as of the day before the payment, the paid invoice still counts where
        # it stands (its stage is today's: phases are not historical)
        kpis = self.env["collection.portfolio.report"]._collection_kpis(
            self.company.ids, day(29)
        )
        self.assertEqual(
            [(row["key"], row["amount"], row["count"]) for row in kpis["by_phase"]],
            [(False, 300.0, 1), ("negotiation", 1700.0, 3)],
        )
        with freeze_time(day(30)):
            html = (
                self.env["ir.actions.report"]
                ._render_qweb_html(
                    "account_collections.action_report_portfolio_status",
                    self.company.ids,
                    data={"date_to": str(day(30))},
                )[0]
                .decode()
            )
        self.assertIn("By phase", html)
        self.assertIn("Negotiation", html)
        self.assertIn("No stage yet", html)

    def test_rpc_salesperson_cannot_set_the_phase_of_an_invoice_or_a_stage(self):
        move = self._post_invoice(day(0))
        self._run(day(1))
        for values in ({"collection_phase": "legal"}, {"collection_phase": False}):
            with self._refused((AccessError, UserError)):
                self._rpc(
                    self.salesperson,
                    "account.move",
                    "write",
                    move.ids,
                    values,
                    context=self.ATTACKER_CONTEXT,
                )
        with self._refused(AccessError):
            self._rpc(
                self.salesperson,
                "collection.stage",
                "write",
                self.stage_overdue.ids,
                {"phase": "legal"},
            )
        self.assertEqual(move.collection_phase, "administrative")
        self.assertEqual(self.stage_overdue.phase, "administrative")
