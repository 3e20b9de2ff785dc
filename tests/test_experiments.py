import random
from datetime import date, timedelta

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import freeze_time, tagged
from odoo.tools import SQL

from ..models.collection_experiment import experiment_arm
from .common_rpc import RpcCommon

START = date(2026, 3, 2)


@tagged("post_install", "-at_install")
class TestCollectionExperiments(RpcCommon):
    """An experiment splits a segment's customers between two policies at random
    but reproducibly, applies the arm's policy and says, with a confidence
    interval, whether the variant collects faster."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.strict = cls.env.ref("account_collections.collection_policy_strict")
        cls.light = cls.env.ref("account_collections.collection_policy_light")
        cls.segment = cls.env["collection.segment"].create(
            {
                "name": "Pilot customers",
                "sequence": 99,
                "company_id": cls.company.id,
                "policy_id": cls.policy.id,
            }
        )
        cls.Experiment = cls.env["collection.experiment"]

    def _experiment(self, seed=None, **values):
        experiment = self.Experiment.create(
            {
                "name": "Stricter reminders",
                "company_id": self.company.id,
                "segment_id": self.segment.id,
                "control_policy_id": self.light.id,
                "variant_policy_id": self.strict.id,
                **values,
            }
        )
        if seed:
            # the seed is the system's (a user cannot give it): written here
            # as the system would, to replay a known split
            experiment.sudo().seed = seed
        return experiment

    def _put_in_segment(self, partners, segment=None):
        """What the segments' evaluation writes: the customers' segment in the
        company."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE res_partner SET collection_segment_id = "
                "COALESCE(collection_segment_id, '{}'::jsonb) "
                "|| jsonb_build_object(%s, %s) WHERE id = ANY(%s)",
                str(self.company.id),
                (segment or self.segment).id,
                partners.ids,
            )
        )
        self.env["res.partner"].invalidate_model(["collection_segment_id"])

    def _customers(self, count, name="Customer"):
        return self.env["res.partner"].create(
            [{"name": f"{name} {i}", "is_company": True} for i in range(count)]
        )

    def _start(self, experiment, on=START):
        with freeze_time(on):
            experiment.with_user(self.manager).action_start()

    def _arms(self, experiment):
        return {a.partner_id.id: a.arm for a in experiment.assignment_ids}

    # -------------------------------------------------------------------------
    # Assignment
    # -------------------------------------------------------------------------

    def test_assignment_is_balanced_and_reproducible(self):
        ids = range(100000, 101000)
        for share in (0.5, 0.2):
            variant = sum(experiment_arm(4242, pid, share) == "variant" for pid in ids)
            self.assertAlmostEqual(variant / 1000, share, delta=0.04)
        # another seed gives another split, the same seed the same one
        first = [experiment_arm(4242, pid, 0.5) for pid in ids]
        self.assertEqual(first, [experiment_arm(4242, pid, 0.5) for pid in ids])
        self.assertNotEqual(first, [experiment_arm(7, pid, 0.5) for pid in ids])

        # 1,000 customers of the segment, started: each has one stored arm
        customers = self._customers(1000)
        self._put_in_segment(customers)
        experiment = self._experiment(variant_share=0.3)
        self._start(experiment)
        self.assertEqual(experiment.state, "running")
        self.assertEqual(experiment.date_start, START)
        self.assertTrue(experiment.seed)
        arms = self._arms(experiment)
        self.assertEqual(set(arms), set(customers.ids))
        self.assertAlmostEqual(experiment.variant_count / 1000, 0.3, delta=0.04)
        self.assertEqual(experiment.control_count + experiment.variant_count, 1000)
        # the daily assignment (twice) changes nothing: nobody assigned twice
        for offset in (1, 2):
            self.assertEqual(
                self.Experiment._collection_assign_due(START + timedelta(days=offset)),
                0,
            )
        experiment.invalidate_recordset()
        self.assertEqual(self._arms(experiment), arms)
        # a second experiment started with the same seed splits them the same way
        experiment.with_user(self.manager).action_stop()
        again = self._experiment(variant_share=0.3, seed=experiment.seed)
        self._start(again, on=START + timedelta(days=3))
        self.assertEqual(self._arms(again), arms)

    def test_arm_policy_applies_hand_set_wins_and_late_customer_assigned(self):
        control, variant = self._pair_of_arms()
        self._put_in_segment(control | variant)
        experiment = self._experiment(seed=self.seed)
        before = self._post_invoice(START + timedelta(days=10), partner=variant)
        # before the start, the segment's policy
        self.assertEqual(self._policy(before), self.policy)
        self._start(experiment)
        self.assertEqual(self._arms(experiment)[variant.id], "variant")
        self.assertEqual(self._arms(experiment)[control.id], "control")
        moves = self._post_invoice(
            START + timedelta(days=10), partner=control
        ) | self._post_invoice(START + timedelta(days=10), partner=variant)
        sql = self._sql_policy(moves)
        self.assertEqual(self._policy(moves[0]), self.light)
        self.assertEqual(sql[moves[0].id], self.light.id)
        self.assertEqual(self._policy(moves[1]), self.strict)
        self.assertEqual(sql[moves[1].id], self.strict.id)
        # a policy set by hand on the customer still wins
        variant.with_company(self.company).collection_policy_id = self.policy
        self.assertEqual(self._policy(moves[1]), self.policy)
        self.assertEqual(self._sql_policy(moves[1])[moves[1].id], self.policy.id)

        # a customer who joins the segment later (invoiced: the segment takes
        # every invoiced customer) is assigned by the daily run
        late = self._customers(1, name="Late")
        self._post_invoice(START + timedelta(days=20), partner=late)
        self.assertFalse(late.collection_experiment_assignment_ids)
        self._run(START + timedelta(days=5))
        self.assertEqual(
            late.with_company(self.company).collection_segment_id, self.segment
        )
        assignment = late.collection_experiment_assignment_ids
        self.assertEqual(len(assignment), 1)
        self.assertEqual(
            assignment.arm, experiment_arm(self.seed, late.id, experiment.variant_share)
        )
        self.assertEqual(assignment.date, START + timedelta(days=5))

        # stopped: everybody back to the segment's policy, in both forms
        experiment.with_user(self.manager).action_stop()
        self.assertEqual(experiment.state, "done")
        self.assertEqual(self._policy(moves[0]), self.policy)
        self.assertEqual(self._sql_policy(moves[0])[moves[0].id], self.policy.id)

    seed = 12345

    def _pair_of_arms(self):
        """A customer that the seed puts in the control, one in the variant."""
        customers = self._customers(20, name="Pair")
        arms = {c: experiment_arm(self.seed, c.id, 0.5) for c in customers}
        control = next(c for c, arm in arms.items() if arm == "control")
        variant = next(c for c, arm in arms.items() if arm == "variant")
        return control, variant

    def test_roll_out_sets_the_variant_on_the_segment(self):
        self._put_in_segment(self._customers(4))
        experiment = self._experiment()
        self._start(experiment)
        with freeze_time(START + timedelta(days=60)):
            experiment.with_user(self.manager).action_roll_out()
        self.assertEqual(experiment.state, "done")
        self.assertEqual(self.segment.policy_id, self.strict)
        with self._refused(UserError, "not running"):
            experiment.with_user(self.manager).action_stop()

    def test_roll_out_refused_before_the_minimum_duration(self):
        self._put_in_segment(self._customers(4))
        experiment = self._experiment(min_duration_days=30)
        self._start(experiment)
        self.assertEqual(experiment.date_planned_end, START + timedelta(days=30))
        # the day before the planned end: refused, nothing changed
        with (
            freeze_time(START + timedelta(days=29)),
            self._refused(UserError, "minimum duration of 30 days"),
        ):
            self._rpc(
                self.manager, "collection.experiment", "action_roll_out", experiment.ids
            )
        self.assertEqual(experiment.state, "running")
        self.assertEqual(self.segment.policy_id, self.policy)
        with freeze_time(START + timedelta(days=29)):
            verdict = experiment._collection_results()["verdict"]
        self.assertEqual(
            verdict, "too early to conclude: keep it running until 04/01/2026"
        )
        # on the planned end: allowed
        with freeze_time(START + timedelta(days=30)):
            self._rpc(
                self.manager, "collection.experiment", "action_roll_out", experiment.ids
            )
        self.assertEqual(experiment.state, "done")
        self.assertEqual(self.segment.policy_id, self.strict)

    def test_stop_is_possible_at_any_time(self):
        experiment = self._experiment()
        self._start(experiment)
        with freeze_time(START + timedelta(days=1)):
            self._rpc(
                self.manager, "collection.experiment", "action_stop", experiment.ids
            )
        self.assertEqual(experiment.state, "done")
        self.assertEqual(self.segment.policy_id, self.policy, "nothing rolled out")
        self.assertEqual(
            experiment._collection_results()["verdict"],
            "stopped before its minimum duration (until 05/01/2026): too early to "
            "conclude",
        )

    def test_bad_input_is_refused_and_nothing_written(self):
        with self._refused(ValidationError, "between 0 and 100"):
            self._experiment(variant_share=1.0)
        with self._refused(ValidationError, "between 0 and 100"):
            self._experiment(variant_share=0.0)
        with self._refused(ValidationError, "two different policies"):
            self._experiment(variant_policy_id=self.light.id)
        for days in (0, -5):
            with self._refused(ValidationError, "at least one day"):
                self._experiment(min_duration_days=days)
        no_segment = self._experiment(segment_id=False)
        with self._refused(UserError, "Choose the segment"):
            self._start(no_segment)
        self.assertEqual(no_segment.state, "draft")
        self.assertFalse(no_segment.seed)
        experiment = self._experiment()
        self._start(experiment)
        seed = experiment.seed
        with self._refused(UserError, "already been started"):
            self._start(experiment, on=START + timedelta(days=1))
        self.assertEqual((experiment.seed, experiment.date_start), (seed, START))
        # neither the state nor the setup of a started experiment is written
        with self._refused(UserError, "set by its buttons"):
            self._rpc(
                self.manager,
                "collection.experiment",
                "write",
                experiment.ids,
                {"state": "done"},
            )
        with self._refused(UserError, "cannot change its segment"):
            self._rpc(
                self.manager,
                "collection.experiment",
                "write",
                experiment.ids,
                {"variant_share": 0.9},
            )
        # a policy tried by an experiment not over is not deleted
        spare = self.strict.copy({"name": "Spare"})
        other = self._experiment(name="Other", variant_policy_id=spare.id)
        with self._refused(UserError, "stop them before deleting"):
            spare.unlink()
        # a second experiment on the same segment while one runs
        with self._refused(UserError, "already running"):
            self._start(other)

    # -------------------------------------------------------------------------
    # Honesty of the figures
    # -------------------------------------------------------------------------

    def _build_arms(self, variant_sooner, per_arm=30, on=START + timedelta(days=120)):
        """Invoices due after the start in each arm, paid after a noisy delay:
        20 days on average in the control, ``variant_sooner`` days less in the
        variant."""
        noise = random.Random(19)
        customers = self._customers(80, name="Payer")
        self._put_in_segment(customers)
        experiment = self._experiment()
        self._start(experiment)
        arms = self._arms(experiment)
        by_arm = {"control": [], "variant": []}
        for partner in customers:
            by_arm[arms[partner.id]].append(partner)
        for arm, partners in by_arm.items():
            delay = 20 - (variant_sooner if arm == "variant" else 0)
            for i in range(per_arm):
                due = START + timedelta(days=1 + i)
                move = self._post_invoice(
                    due, 100.0, partner=partners[i % len(partners)]
                )
                days = max(round(noise.gauss(delay, 3)), 0)
                self._pay(move, pay_date=due + timedelta(days=days))
        with freeze_time(on):
            return experiment._collection_results()

    def test_results_find_a_known_difference_of_five_days(self):
        results = self._build_arms(variant_sooner=5)
        low, high = results["days_faster_ci"]
        self.assertLess(low, 5)
        self.assertGreater(high, 5)
        self.assertGreater(low, 0)
        self.assertEqual(results["control"]["invoices"], 30)
        self.assertEqual(results["variant"]["paid"], 30)
        self.assertAlmostEqual(results["variant"]["paid_30_share"], 1.0)
        self.assertEqual(results["control"]["overdue_ratio"], 0.0)
        self.assertIn("the variant is faster by", results["verdict"])
        self.assertIn("roll it out", results["verdict"])

    def test_results_too_early_even_with_a_difference(self):
        """The five days are found, but before the minimum duration (60 days
        by default) the verdict says to wait."""
        results = self._build_arms(variant_sooner=5, on=START + timedelta(days=59))
        self.assertGreater(results["days_faster_ci"][0], 0)
        self.assertEqual(results["planned_end"], START + timedelta(days=60))
        self.assertEqual(
            results["verdict"],
            "too early to conclude: keep it running until 05/01/2026",
        )

    def test_results_cei_and_emails_per_arm(self):
        """CEI: the control's customers pay all their invoices, half of the
        variant's pay; emails: two to each variant customer, one to each
        control customer (internal notes, and emails before the start, do not
        count)."""
        customers = self._customers(20, name="Cei")
        self._put_in_segment(customers)
        experiment = self._experiment()
        # an email before the start does not count
        before = self._post_invoice(
            START - timedelta(days=5), 100.0, partner=customers[0]
        )
        self._pay(before, pay_date=START - timedelta(days=5))
        with freeze_time(START - timedelta(days=1)):
            before.message_post(
                body="Old reminder",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                partner_ids=customers[0].ids,
            )
        self._start(experiment)
        arms = self._arms(experiment)
        by_arm = {"control": [], "variant": []}
        for partner in customers:
            by_arm[arms[partner.id]].append(partner)
        for arm, partners in by_arm.items():
            for i, partner in enumerate(partners):
                move = self._post_invoice(
                    START + timedelta(days=10),
                    100.0,
                    partner=partner,
                    invoice_date=START + timedelta(days=1),
                )
                if arm == "control" or i % 2 == 0:
                    self._pay(move, pay_date=START + timedelta(days=15))
                with freeze_time(START + timedelta(days=11)):
                    for _email in range(2 if arm == "variant" else 1):
                        move.message_post(
                            body="Your invoice is overdue",
                            message_type="comment",
                            subtype_xmlid="mail.mt_comment",
                            partner_ids=partner.ids,
                        )
                    move.message_post(body="Called, no answer")  # a note
        with freeze_time(START + timedelta(days=70)):
            results = experiment._collection_results()
            html = experiment.results_html
        control, variant = results["control"], results["variant"]
        paid = len(by_arm["variant"][::2])
        self.assertAlmostEqual(control["cei"], 100.0)
        self.assertAlmostEqual(variant["cei"], 100.0 * paid / len(by_arm["variant"]))
        diff, low, high = results["differences"]["cei"]
        self.assertAlmostEqual(diff, variant["cei"] - 100.0)
        self.assertLess(low, diff)
        self.assertGreater(high, diff)
        self.assertLess(high, 0, "the variant collects less of what it is owed")
        self.assertEqual(control["emails"], len(by_arm["control"]))
        self.assertEqual(variant["emails"], 2 * len(by_arm["variant"]))
        self.assertAlmostEqual(variant["emails_per_customer"], 2.0)
        diff, low, high = results["differences"]["emails_per_customer"]
        self.assertAlmostEqual(diff, 1.0)
        self.assertIn("CEI (collection effectiveness index)", html)
        self.assertIn("Emails sent (per customer)", html)
        self.assertIn(f"{len(by_arm['control'])} (1.00)", html)
        self.assertIn("+1.00 (+1.00 to +1.00)", html)

    def test_results_find_no_difference_when_there_is_none(self):
        results = self._build_arms(variant_sooner=0)
        low, high = results["days_faster_ci"]
        self.assertLess(low, 0)
        self.assertGreater(high, 0)
        self.assertEqual(
            results["verdict"], "no difference detected yet: keep it running"
        )

    # -------------------------------------------------------------------------
    # Access
    # -------------------------------------------------------------------------

    def test_salesperson_cannot_read_or_start_and_other_company_hidden(self):
        experiment = self._experiment()
        with self._refused(AccessError):
            self._rpc(self.salesperson, "collection.experiment", "read", experiment.ids)
        with self._refused(AccessError):
            self._rpc(
                self.salesperson,
                "collection.experiment",
                "action_start",
                experiment.ids,
            )
        self.assertEqual(experiment.state, "draft")
        # a manager starts it through RPC
        self._put_in_segment(self._customers(3))
        self._rpc(self.manager, "collection.experiment", "action_start", experiment.ids)
        self.assertEqual(experiment.state, "running")
        with self._refused(AccessError):
            self._rpc(
                self.salesperson,
                "collection.experiment.assignment",
                "search_read",
                [],
            )
        # another company's experiment is not readable by this company's manager
        other = self.setup_other_company(name="Company B")["company"]
        foreign = self.Experiment.create(
            {
                "name": "Elsewhere",
                "company_id": other.id,
                "variant_share": 0.5,
            }
        )
        found = self._rpc(
            self.manager, "collection.experiment", "search", [("id", "=", foreign.id)]
        )
        self.assertEqual(found, [])
        with self._refused(AccessError):
            self._rpc(self.manager, "collection.experiment", "read", foreign.ids)
