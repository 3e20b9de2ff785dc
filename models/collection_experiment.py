"""Policy experiments: the customers of a segment are split at random, but
reproducibly (from the experiment's seed and the customer's id), between a
control policy and a variant policy; the results (collection_experiment_results)
say whether the variant collects faster."""

import hashlib
import logging
import random
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, format_date

_logger = logging.getLogger(__name__)

MANAGER_GROUP = "account_collections.group_collection_manager"
SYSTEM_FIELDS = {"state", "seed", "date_start", "date_end"}
SETUP_FIELDS = {
    "segment_id",
    "control_policy_id",
    "variant_policy_id",
    "variant_share",
    "company_id",
    "min_duration_days",
}
DEFAULT_MIN_DURATION_DAYS = 60
ARMS = [("control", "Control"), ("variant", "Variant")]


def experiment_arm(seed, partner_id, variant_share):
    """The arm of customer ``partner_id`` in an experiment of ``seed``: the
    same for the same pair, whoever computes it and whenever."""
    digest = hashlib.sha256(f"{seed}:{partner_id}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    return "variant" if fraction < variant_share else "control"


class CollectionExperiment(models.Model):
    _name = "collection.experiment"
    _description = "Collection Policy Experiment"
    _inherit = ["mail.thread", "collection.system.fields"]
    _collection_system_fields = frozenset(SYSTEM_FIELDS | {"assignment_ids"})
    _order = "date_start desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    segment_id = fields.Many2one(
        "collection.segment",
        check_company=True,
        ondelete="set null",
        tracking=True,
        help="The customers of this segment take part in the experiment.",
    )
    control_policy_id = fields.Many2one(
        "collection.policy",
        check_company=True,
        ondelete="set null",
        domain="[('company_id', 'in', (False, company_id))]",
        tracking=True,
    )
    variant_policy_id = fields.Many2one(
        "collection.policy",
        check_company=True,
        ondelete="set null",
        domain="[('company_id', 'in', (False, company_id))]",
        tracking=True,
    )
    variant_share = fields.Float(
        default=0.5,
        tracking=True,
        help="The share of the segment's customers that follow the variant policy.",
    )
    min_duration_days = fields.Integer(
        string="Minimum Duration (days)",
        default=DEFAULT_MIN_DURATION_DAYS,
        required=True,
        tracking=True,
        help="The experiment concludes nothing, and cannot be rolled out, before "
        "it has run this many days: invoices must have time to fall due and be "
        "paid (it can be stopped at any time).",
    )
    date_planned_end = fields.Date(
        string="Planned End",
        compute="_compute_date_planned_end",
        help="The start date plus the minimum duration: the first day the "
        "results can conclude and the variant be rolled out.",
    )
    date_start = fields.Date(readonly=True, copy=False, tracking=True)
    date_end = fields.Date(readonly=True, copy=False, tracking=True)
    seed = fields.Integer(
        readonly=True,
        copy=False,
        help="Set when the experiment starts: with the customer's id, it decides "
        "the customer's arm, the same on every run.",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("running", "Running"), ("done", "Done")],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
    )
    assignment_ids = fields.One2many(
        "collection.experiment.assignment", "experiment_id", readonly=True
    )
    control_count = fields.Integer(compute="_compute_counts")
    variant_count = fields.Integer(compute="_compute_counts")
    results_html = fields.Html(
        string="Results", compute="_compute_results_html", sanitize=False
    )

    @api.depends("assignment_ids.arm")
    def _compute_counts(self):
        groups = self.env["collection.experiment.assignment"]._read_group(
            [("experiment_id", "in", self.ids)], ["experiment_id", "arm"], ["__count"]
        )
        counts = {(exp.id, arm): count for exp, arm, count in groups}
        for experiment in self:
            experiment.control_count = counts.get((experiment.id, "control"), 0)
            experiment.variant_count = counts.get((experiment.id, "variant"), 0)

    @api.depends("date_start", "min_duration_days")
    def _compute_date_planned_end(self):
        for experiment in self:
            experiment.date_planned_end = experiment._collection_planned_end()

    def _collection_planned_end(self):
        """The first day the experiment has run its minimum duration (False
        before it starts)."""
        self.ensure_one()
        if not self.date_start:
            return False
        return self.date_start + timedelta(days=self.min_duration_days)

    def _compute_results_html(self):
        for experiment in self:
            if experiment.state == "draft" or not experiment.id:
                experiment.results_html = False
                continue
            experiment.results_html = self.env[
                "collection.experiment.results"
            ]._collection_render(experiment._collection_results())

    @api.constrains(
        "variant_share",
        "control_policy_id",
        "variant_policy_id",
        "segment_id",
        "min_duration_days",
    )
    def _check_setup(self):
        for experiment in self:
            if experiment.min_duration_days <= 0:
                raise ValidationError(
                    self.env._(
                        "The minimum duration of an experiment must be at least "
                        "one day."
                    )
                )
            if not 0 < experiment.variant_share < 1:
                raise ValidationError(
                    self.env._(
                        "The share of customers on the variant policy must be "
                        "between 0 and 100% (both excluded)."
                    )
                )
            if (
                experiment.control_policy_id
                and experiment.control_policy_id == experiment.variant_policy_id
            ):
                raise ValidationError(
                    self.env._(
                        "The control and the variant of an experiment must be two "
                        "different policies."
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        # (nor through a default: collection.system.fields)
        if not self.env.su and any(
            SYSTEM_FIELDS.intersection(vals) for vals in vals_list
        ):
            raise UserError(
                self.env._(
                    "The state, seed and dates of an experiment are set by its "
                    "buttons (Start, Roll Out, Stop)."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        # the state and the seed move only through the actions (which write as
        # superuser); the setup is frozen once started
        if not self.env.su:
            if SYSTEM_FIELDS.intersection(vals):
                raise UserError(
                    self.env._(
                        "The state, seed and dates of an experiment are set by "
                        "its buttons (Start, Roll Out, Stop)."
                    )
                )
            if SETUP_FIELDS.intersection(vals) and self.filtered(
                lambda e: e.state != "draft"
            ):
                raise UserError(
                    self.env._(
                        "A started experiment cannot change its segment, policies "
                        "or share: stop it and start a new one."
                    )
                )
        return super().write(vals)

    def _collection_check_manager(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only a collection manager can run experiments.")
            )

    # -------------------------------------------------------------------------
    # Actions
    # -------------------------------------------------------------------------

    def action_start(self):
        """Start the experiment: set its seed and start date and assign the
        segment's customers to an arm (collection managers)."""
        self._collection_check_manager()
        today = fields.Date.context_today(self)
        for experiment in self:
            if experiment.state != "draft":
                raise UserError(
                    self.env._(
                        "The experiment '%(name)s' has already been started.",
                        name=experiment.name,
                    )
                )
            if not (
                experiment.segment_id
                and experiment.control_policy_id
                and experiment.variant_policy_id
            ):
                raise UserError(
                    self.env._(
                        "Choose the segment, the control policy and the variant "
                        "policy of the experiment '%(name)s' before starting it.",
                        name=experiment.name,
                    )
                )
            if self.sudo().search_count(
                [
                    ("segment_id", "=", experiment.segment_id.id),
                    ("state", "=", "running"),
                ]
            ):
                raise UserError(
                    self.env._(
                        "Another experiment is already running on the segment "
                        "'%(segment)s': stop it first.",
                        segment=experiment.segment_id.display_name,
                    )
                )
            experiment.sudo().write(
                {
                    "state": "running",
                    "date_start": today,
                    "seed": experiment.seed
                    or random.SystemRandom().randrange(1, 2**31),
                }
            )
        self.sudo()._collection_assign(today)
        return True

    def action_roll_out(self):
        """Make the variant the policy of the segment and close the experiment;
        refused before the minimum duration has elapsed."""
        self._collection_check_manager()
        today = fields.Date.context_today(self)
        for experiment in self:
            experiment._collection_check_running()
            planned_end = experiment._collection_planned_end()
            if today < planned_end:
                raise UserError(
                    self.env._(
                        "The experiment '%(name)s' has not run its minimum duration "
                        "of %(days)s days: its results cannot be trusted yet. Keep "
                        "it running until %(date)s to roll it out (or stop it).",
                        name=experiment.name,
                        days=experiment.min_duration_days,
                        date=format_date(self.env, planned_end),
                    )
                )
            experiment.segment_id.sudo().policy_id = experiment.variant_policy_id
        self.sudo().write(
            {"state": "done", "date_end": fields.Date.context_today(self)}
        )
        return True

    def action_stop(self):
        """Close the experiment: every customer goes back to its usual policy."""
        self._collection_check_manager()
        for experiment in self:
            experiment._collection_check_running()
        self.sudo().write(
            {"state": "done", "date_end": fields.Date.context_today(self)}
        )
        return True

    def _collection_check_running(self):
        if self.state != "running":
            raise UserError(
                self.env._("The experiment '%(name)s' is not running.", name=self.name)
            )

    # -------------------------------------------------------------------------
    # Assignment (at the start, and by the daily run)
    # -------------------------------------------------------------------------

    @api.model
    def _collection_assign_due(self, today):
        """Assign the customers who joined the segment of a running experiment
        since it started (the daily run; nothing done twice)."""
        return self.sudo().search([("state", "=", "running")])._collection_assign(today)

    def _collection_assign(self, today):
        """Assign the eligible customers of each experiment that have no arm yet,
        set-based; return how many were assigned."""
        self.env["res.partner"].flush_model(["collection_segment_id"])
        self.env["collection.experiment.assignment"].flush_model()
        assigned = 0
        for experiment in self:
            rows = self.env.execute_query(
                SQL(
                    """
                    SELECT p.id FROM res_partner p
                     WHERE (p.collection_segment_id ->> %(key)s)::integer
                           = %(segment)s
                       AND NOT EXISTS (
                           SELECT 1 FROM collection_experiment_assignment a
                            WHERE a.experiment_id = %(experiment)s
                              AND a.partner_id = p.id)
                    """,
                    key=str(experiment.company_id.id),
                    segment=experiment.segment_id.id,
                    experiment=experiment.id,
                )
            )
            ids = [row[0] for row in rows]
            if not ids:
                continue
            arms = [
                experiment_arm(experiment.seed, pid, experiment.variant_share)
                for pid in ids
            ]
            self.env.cr.execute(
                SQL(
                    """
                    INSERT INTO collection_experiment_assignment
                           (experiment_id, company_id, partner_id, arm, date,
                            create_uid, write_uid, create_date, write_date)
                    SELECT %(experiment)s, %(company)s, v.partner_id, v.arm, %(today)s,
                           %(uid)s, %(uid)s, now() AT TIME ZONE 'UTC',
                           now() AT TIME ZONE 'UTC'
                      FROM unnest(%(ids)s::integer[], %(arms)s::varchar[])
                           AS v(partner_id, arm)
                    ON CONFLICT (experiment_id, partner_id) DO NOTHING
                    """,
                    experiment=experiment.id,
                    company=experiment.company_id.id,
                    today=today,
                    uid=self.env.uid,
                    ids=ids,
                    arms=arms,
                )
            )
            assigned += self.env.cr.rowcount
            _logger.info(
                "Collection experiment %s: %s customers assigned",
                experiment.id,
                self.env.cr.rowcount,
            )
        self.env["collection.experiment.assignment"].invalidate_model()
        self.invalidate_recordset(["assignment_ids"])
        return assigned

    def _collection_results(self):
        """The comparison of the arms (see collection.experiment.results)."""
        self.ensure_one()
        return self.env["collection.experiment.results"]._collection_compute(
            self.sudo()
        )


class CollectionExperimentAssignment(models.Model):
    _name = "collection.experiment.assignment"
    _description = "Collection Experiment Assignment"
    _inherit = ["collection.system.fields"]
    # written by the experiments' assignment (SQL) only
    _collection_system_fields = frozenset(
        {"experiment_id", "company_id", "partner_id", "arm", "date"}
    )
    _order = "experiment_id, partner_id"

    experiment_id = fields.Many2one(
        "collection.experiment", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True
    )
    partner_id = fields.Many2one(
        "res.partner", required=True, ondelete="cascade", index=True
    )
    arm = fields.Selection(ARMS, required=True)
    date = fields.Date(string="Assigned On", readonly=True)
    experiment_state = fields.Selection(related="experiment_id.state")

    _sql_constraints = [
        (
            "experiment_partner_uniq",
            "unique(experiment_id, partner_id)",
            "A customer has one arm in an experiment.",
        ),
    ]


class CollectionPolicy(models.Model):
    _inherit = "collection.policy"

    @api.ondelete(at_uninstall=False)
    def _unlink_except_in_experiment(self):
        """A policy tried by an experiment that is not over stays: the
        experiment's customers would fall back silently to their segment's."""
        experiments = (
            self.env["collection.experiment"]
            .sudo()
            .search(
                [
                    ("state", "!=", "done"),
                    "|",
                    ("control_policy_id", "in", self.ids),
                    ("variant_policy_id", "in", self.ids),
                ]
            )
        )
        if experiments:
            raise UserError(
                self.env._(
                    "These collection policies are tried by the experiments "
                    "%(experiments)s: stop them before deleting the policies.",
                    experiments=", ".join(experiments.mapped("name")),
                )
            )
