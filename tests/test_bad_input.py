from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.service.model import _as_validation_error
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CollectionCommon


@tagged("post_install", "-at_install")
class TestCollectionBadInput(CollectionCommon):
    """Invalid values are refused with a clear error and nothing is written."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.type_overdue = cls.env.ref(
            "account_collections.mail_activity_type_collection_overdue"
        )
        cls.manager = cls._create_collection_user(
            "boss",
            "Bea Boss",
            groups=["base.group_user", "account_collections.group_collection_manager"],
        )

    def _stage_vals(self, **vals):
        return {
            "name": "Call",
            "day_offset": 3,
            "activity_type_id": self.type_overdue.id,
            **vals,
        }

    def _policy(self, *offsets):
        return self.env["collection.policy"].create(
            {
                "name": "Test policy",
                "stage_ids": [
                    Command.create(self._stage_vals(name=f"Day {o}", day_offset=o))
                    for o in offsets
                ],
            }
        )

    def _assert_refused(self, exception, message, func, *args, **kwargs):
        """``func`` raises ``exception`` matching ``message`` and leaves no trace."""
        counts = {
            model: self.env[model].with_context(active_test=False).search_count([])
            for model in ("collection.policy", "collection.stage")
        }
        with self.assertRaisesRegex(exception, message), self.env.cr.savepoint():
            func(*args, **kwargs)
            self.env.flush_all()
        self.env.invalidate_all()
        for model, count in counts.items():
            self.assertEqual(
                self.env[model].with_context(active_test=False).search_count([]),
                count,
                f"nothing written in {model}",
            )

    # -- stages -----------------------------------------------------------------

    def test_stage_offset_out_of_range(self):
        policy = self._policy(1)
        Stage = self.env["collection.stage"].with_user(self.manager)
        for offset in (-91, 731, 100000):
            self._assert_refused(
                ValidationError,
                "must be between -90 and 730 days",
                Stage.create,
                self._stage_vals(policy_id=policy.id, day_offset=offset),
            )
        stage = policy.stage_ids
        self._assert_refused(
            ValidationError,
            "must be between",
            stage.with_user(self.manager).write,
            {"day_offset": -400},
        )
        self.assertEqual(stage.day_offset, 1)

    def test_duplicate_offsets_in_a_policy(self):
        """Refused by a unique constraint; the user reads its message."""
        with (
            self.assertRaises(IntegrityError) as caught,
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self._policy(5, 5)
        error = _as_validation_error(self.env, caught.exception)
        self.assertIn(
            "Two stages of the same policy cannot have the same day offset",
            error.args[0],
        )
        self.assertFalse(
            self.env["collection.policy"].search([("name", "=", "Test policy")])
        )

        policy = self._policy(1, 7)
        with (
            self.assertRaises(IntegrityError),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            policy.stage_ids[1].day_offset = 1
            self.env.flush_all()
        self.env.invalidate_all()
        self.assertEqual(sorted(policy.stage_ids.mapped("day_offset")), [1, 7])

    def test_policy_without_stage(self):
        Policy = self.env["collection.policy"].with_user(self.manager)
        self._assert_refused(
            ValidationError,
            "must have at least one stage",
            Policy.create,
            {"name": "Empty"},
        )
        policy = self._policy(1, 7)
        self._assert_refused(
            UserError,
            "must keep at least one stage",
            policy.with_user(self.manager).write,
            {"stage_ids": [Command.clear()]},
        )
        self._assert_refused(
            UserError,
            "must keep at least one stage",
            policy.stage_ids.with_user(self.manager).unlink,
        )
        self.assertEqual(len(policy.stage_ids), 2)

    def test_policy_cannot_lose_its_last_stage_by_archiving_or_moving_it(self):
        """Archiving every stage, or moving the last stage to another policy, would
        silently stop the follow-up of every invoice under the policy."""
        policy = self._policy(1, 7)
        other = self._policy(30)
        self._assert_refused(
            ValidationError,
            "at least one stage",
            policy.stage_ids.with_user(self.manager).write,
            {"active": False},
        )
        self.assertEqual(len(policy.stage_ids), 2)
        policy.stage_ids[0].active = False  # one stage left: allowed
        self._assert_refused(
            ValidationError,
            "at least one stage",
            policy.stage_ids.with_user(self.manager).write,
            {"policy_id": other.id},
        )
        self.assertEqual(len(policy.stage_ids), 1)

    def test_stage_activity_type_and_template_of_another_model(self):
        """A stage only accepts activity types and emails made for invoices."""
        policy = self._policy(1)
        partner_type = self.env["mail.activity.type"].create(
            {"name": "Partner call", "res_model": "res.partner"}
        )
        partner_template = self.env["mail.template"].create(
            {
                "name": "Partner news",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
            }
        )
        Stage = self.env["collection.stage"].with_user(self.manager)
        self._assert_refused(
            ValidationError,
            "activity type",
            Stage.create,
            self._stage_vals(policy_id=policy.id, activity_type_id=partner_type.id),
        )
        self._assert_refused(
            ValidationError,
            "email template",
            Stage.create,
            self._stage_vals(policy_id=policy.id, mail_template_id=partner_template.id),
        )

    def test_activity_type_used_by_a_stage_cannot_be_deleted(self):
        """Deleting the activity type of a stage is refused, naming the stage; the
        type can be archived instead (the run goes on, see test_reliability)."""
        self._assert_refused(
            UserError,
            "Overdue follow-up",
            self.type_overdue.unlink,
        )
        self.assertTrue(self.type_overdue.exists())
        self.assertEqual(self.stage_overdue.activity_type_id, self.type_overdue)

    # -- companies --------------------------------------------------------------

    def test_company_default_policy_of_another_company(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        policy_b = self._policy(1)
        policy_b.company_id = company_b
        self._assert_refused(
            ValidationError,
            "another company",
            self.company.write,
            {"collection_policy_id": policy_b.id},
        )
        self.assertEqual(self.company.collection_policy_id, self.policy)
        self._assert_refused(
            ValidationError,
            "another company",
            self.customer.with_company(self.company).write,
            {"collection_policy_id": policy_b.id},
        )
        self.assertFalse(self.customer.with_company(self.company).collection_policy_id)
