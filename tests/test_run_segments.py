from odoo.exceptions import ValidationError
from odoo.tests import freeze_time, tagged
from odoo.tools import SQL, mute_logger

from odoo.addons.account_collections.models.collection_segment import (
    EVALUATED_ON_PARAM,
)

from .common import day
from .common_rpc import RpcCommon

MODELS_LOGGER = "odoo.addons.account_collections.models"
# parses, and builds its query, but PostgreSQL refuses the date
VALID_DOMAIN = "[('invoice_ids.invoice_date', '<', '2026-12-01')]"
FAILING_DOMAIN = "[('invoice_ids.invoice_date', '<', '2026-13-01')]"


@tagged("post_install", "-at_install")
class TestRunSegments(RpcCommon):
    """A segment whose domain fails in the database is refused when saved; one
    that fails in the daily run (saved before, or its author's rights changed)
    is logged on the segment and skipped, and the run goes on."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Segment = cls.env["collection.segment"]
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.manager_b = cls._create_collection_user(
            "collmanager_b",
            "Max Manager",
            groups=[
                "base.group_user",
                "account.group_account_invoice",
                "account_collections.group_collection_manager",
            ],
            company=cls.company_b,
        )
        cls.seller_b = cls._create_collection_user(
            "seller_b", "Bea Seller", company=cls.company_b
        )

    def _segment_b(self, sequence, domain="[]"):
        return self.Segment.create(
            {
                "name": f"B segment {sequence}",
                "sequence": sequence,
                "company_id": self.company_b.id,
                "policy_id": self.policy.id,
                "partner_domain": domain,
            }
        )

    @mute_logger("odoo.sql_db")
    def test_rpc_domain_failing_in_the_database_is_refused_when_saved(self):
        vals = {
            "name": "Month 13",
            "sequence": 30,
            "company_id": self.company_b.id,
            "policy_id": self.policy.id,
            "partner_domain": FAILING_DOMAIN,
        }
        with self._refused(ValidationError, "not valid"):
            self._rpc(self.manager_b, "collection.segment", "create", vals)
        segment_id = self._rpc(
            self.manager_b,
            "collection.segment",
            "create",
            {**vals, "partner_domain": VALID_DOMAIN},
        )
        with self._refused(ValidationError, "not valid"):
            self._rpc(
                self.manager_b,
                "collection.segment",
                "write",
                [segment_id],
                {"partner_domain": FAILING_DOMAIN},
            )
        self.assertEqual(
            self.Segment.browse(segment_id).partner_domain,
            VALID_DOMAIN,
        )

    @mute_logger(MODELS_LOGGER, "odoo.sql_db")
    def test_failing_segment_is_logged_and_skipped_and_the_run_goes_on(self):
        move_a = self._post_invoice(day(0))
        self._post_invoice(
            day(0),
            500.0,
            partner=self.customer,
            user=self.seller_b,
            company=self.company_b,
        )
        self._post_invoice(
            day(0),
            700.0,
            partner=self.customer_2,
            user=self.seller_b,
            company=self.company_b,
        )
        broken = self._segment_b(10, f"[('id', '=', {self.customer.id})]")
        catch_all = self._segment_b(20)
        with freeze_time(day(-1)):
            self.Segment._collection_evaluate(self.company_b, day(-1))
        self.assertEqual(
            self.customer.with_company(self.company_b).collection_segment_id, broken
        )
        # saved before domains were run when saved: the database refuses it
        self.env.cr.execute(
            SQL(
                "UPDATE collection_segment SET partner_domain = %s WHERE id = %s",
                FAILING_DOMAIN,
                broken.id,
            )
        )
        broken.invalidate_recordset(["partner_domain"])
        # the day's evaluation not done yet (a committed test may have left its
        # mark for that day)
        self.env.cr.execute(
            SQL("DELETE FROM ir_config_parameter WHERE key = %s", EVALUATED_ON_PARAM)
        )
        self._run(day(1))
        # company A's run is not stopped by company B's segment
        self.assertEqual(move_a.collection_stage_id, self.stage_overdue)
        # the other segments are evaluated; the broken one's customers stay in it
        self.assertEqual(
            self.customer_2.with_company(self.company_b).collection_segment_id,
            catch_all,
        )
        self.assertEqual(
            self.customer.with_company(self.company_b).collection_segment_id, broken
        )
        # the failure is written on the segment, for its managers to fix
        log = broken.message_ids.filtered(
            lambda m: "could not be evaluated" in (m.body or "")
        )
        self.assertTrue(log, "the failure is in the segment's chatter")
        self.assertIn("2026-13-01", log[0].body)
        # Evaluate Now says so too
        with freeze_time(day(1)):
            result = self._rpc(
                self.manager_b, "collection.segment", "action_evaluate", []
            )
        self.assertEqual(result["params"]["type"], "warning")
        self.assertIn("B segment 10", result["params"]["message"])
