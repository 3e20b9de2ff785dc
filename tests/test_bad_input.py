from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.service.model import _as_validation_error
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from .common import AGING_REPORT, DUE, CollectionCommon, day
from .common_promises import PromiseCommon


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

    def test_errors_are_translated(self):
        """A Spanish-speaking manager reads the refusals in Spanish."""
        self._load_spanish()
        policy = self._policy(1)
        partner_type = self.env["mail.activity.type"].create(
            {"name": "Partner call", "res_model": "res.partner"}
        )
        spanish = policy.stage_ids.with_user(self.manager).with_context(lang="es_ES")
        with self.assertRaisesRegex(ValidationError, "es para otro modelo"):
            with self.env.cr.savepoint():
                spanish.write({"activity_type_id": partner_type.id})
        with self.assertRaisesRegex(ValidationError, "al menos una etapa"):
            with self.env.cr.savepoint():
                spanish.write({"active": False})

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


@tagged("post_install", "-at_install")
class TestPromiseContactBadInput(PromiseCommon):
    """What the API accepts beyond the wizards: a contact or a promise written
    directly (as a script, an import or a crafted request would)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls._post_invoice(DUE, amount=1000.0)
        cls.paid = cls._post_invoice(DUE)
        cls.draft = cls._post_invoice(DUE)
        cls.draft.button_draft()
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.invoice_b = cls._post_invoice(DUE, company=cls.company_b)
        cls.other_customer = cls._post_invoice(DUE, partner=cls.customer_2)

    def _no_new(self, model, func, exception, message):
        before = self.env[model].search_count([])
        with self.assertRaisesRegex(exception, message), self.env.cr.savepoint():
            func()
            self.env.flush_all()
        self.env.invalidate_all()
        self.assertEqual(self.env[model].search_count([]), before)

    def test_contact_created_directly_on_an_invoice_it_cannot_be_about(self):
        self._pay(self.paid, pay_date=day(1))
        Contact = self.env["collection.contact"].with_user(self.salesperson)
        for label, moves, partner, message in (
            ("paid invoice", self.paid, self.customer, "not one"),
            ("draft invoice", self.draft, self.customer, "not one"),
            ("another customer's", self.other_customer, self.customer, "Globex"),
            ("no invoice", self.env["account.move"], self.customer, "at least one"),
        ):
            with self.subTest(label):
                self._no_new(
                    "collection.contact",
                    lambda moves=moves, partner=partner: Contact.create(
                        {
                            "partner_id": partner.id,
                            "move_ids": [Command.set(moves.ids)],
                        }
                    ),
                    UserError,
                    message,
                )
        with self.subTest("another company's invoice"):
            self._no_new(
                "collection.contact",
                lambda: self.env["collection.contact"].create(
                    {
                        "partner_id": self.customer.id,
                        "move_ids": [Command.set(self.invoice_b.ids)],
                    }
                ),
                UserError,
                "company",
            )

    def test_contact_wizard_on_a_paid_or_draft_invoice(self):
        self._pay(self.paid, pay_date=day(1))
        Wizard = self.env["collection.contact.wizard"].with_user(self.salesperson)
        for moves in (self.paid, self.draft):
            with self.subTest(moves.name):
                self._no_new(
                    "collection.contact",
                    lambda moves=moves: Wizard.create(
                        {
                            "partner_id": self.customer.id,
                            "move_ids": [Command.set(moves.ids)],
                        }
                    ).action_log(),
                    UserError,
                    "not one",
                )

    def test_salesperson_cannot_set_the_outcome_of_a_promise(self):
        """Kept or broken is judged by the daily run against real payments: a
        salesperson cannot mark their own promise kept, nor reopen a broken one, nor
        rewrite what was promised once it is judged."""
        promise = self._promise(self.invoice, day(9), amount=500.0)
        mine = promise.with_user(self.salesperson)
        for vals in ({"state": "kept"}, {"state": "broken"}, {"date_closed": day(3)}):
            with self.subTest(vals), self.assertRaises(UserError):
                with self.env.cr.savepoint():
                    mine.write(vals)
        self.assertEqual(promise.state, "open")
        self._no_new(
            "collection.promise",
            lambda: (
                self.env["collection.promise"]
                .with_user(self.salesperson)
                .create(
                    {
                        "move_ids": [Command.set(self.other_customer.ids)],
                        "promised_date": day(9),
                        "amount": 10.0,
                        "state": "kept",
                    }
                )
            ),
            UserError,
            "set by the daily run",
        )
        self._run(day(10))
        self.assertEqual(promise.state, "broken")
        for vals in (
            {"state": "open"},
            {"amount": 1.0},
            {"promised_date": day(30)},
            {"move_ids": [Command.set(self.other_customer.ids)]},
        ):
            with self.subTest(vals), self.assertRaises(UserError):
                with self.env.cr.savepoint():
                    mine.write(vals)
                    self.env.flush_all()
        self.env.invalidate_all()
        self.assertEqual(promise.state, "broken")
        self.assertEqual(promise.amount, 500.0)
        self.assertEqual(self.customer.collection_promise_broken_count, 1)
        # what the salesperson may still do: add a note
        mine.note = "Customer apologised"


@tagged("post_install", "-at_install")
class TestReportBadInput(CollectionCommon):
    """The aging wizard and the weekly report facing invalid parameters."""

    def test_aging_buckets(self):
        Wizard = self.env["collection.aging.wizard"].with_user(self.salesperson)
        for value, message in (
            ("-30,60", "not a whole number"),
            ("60,30", "strictly increasing"),
            ("30,30", "strictly increasing"),
            ("0,30", "greater than zero"),
            ("30,abc", "not a whole number"),
            ("", "Enter the bucket boundaries"),
            ("10,20,30,40,50,60,70", "At most 6"),
        ):
            with self.subTest(value):
                count = Wizard.search_count([])
                with self.assertRaisesRegex(ValidationError, message):
                    with self.env.cr.savepoint():
                        Wizard.create({"bucket_limits": value})
                self.assertEqual(Wizard.search_count([]), count, "nothing written")
        wizard = Wizard.create({"bucket_limits": "15,45"})
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            wizard.write({"bucket_limits": "45,15"})
        self.assertEqual(wizard.bucket_limits, "15,45")
        # the computation's own API checks its buckets too
        for limits in ((30, 10), (0, -5), ()):
            with self.subTest(limits), self.assertRaises(UserError):
                self.env[AGING_REPORT]._collection_aging(
                    self.company.ids, DUE, limits=limits
                )

    def test_weekly_report_for_a_recipient_with_an_unknown_language(self):
        """A recipient whose language is no longer installed (e.g. a language
        removed after it was set) does not stop the weekly report: the others get
        it, and this recipient's delivery says why."""
        groups = ["base.group_user", "account.group_account_manager"]
        ok = self._create_collection_user("mgr_ok", "Olga Ok", groups)
        lost = self._create_collection_user("mgr_lost", "Lara Lost", groups)
        self.company.collection_report_user_ids = ok | lost
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET lang = 'xx_XX' WHERE id = %s", [lost.partner_id.id]
        )
        self.env.invalidate_all()
        Log = self.env["collection.report.log"]
        with (
            freeze_time("2026-03-30 06:00:00"),
            self.assertLogs(
                "odoo.addons.account_collections.report.collection_portfolio_delivery"
            ) as logs,
        ):
            self.env["collection.portfolio.delivery"]._cron_send_weekly_report()
        self.assertIn(
            "language xx_XX of the recipient is not installed", logs.output[0]
        )
        for user in (ok, lost):
            delivery = Log.search([("user_id", "=", user.id)])
            with self.subTest(user.login):
                self.assertEqual(delivery.state, "sent")
                self.assertEqual(delivery.lang, "en_US")
                self.assertIn("Portfolio status of", delivery.mail_id.subject)
        self.assertIn(
            "not installed: the report was sent in English",
            Log.search([("user_id", "=", lost.id)]).note,
        )
