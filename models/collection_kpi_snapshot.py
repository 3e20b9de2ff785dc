import re

from odoo import api, fields, models
from odoo.tools import SQL

from .collection_stage import COLLECTION_PHASES

# The breakdowns kept in the history: dimension -> the column holding its key.
# Each is a breakdown of the KPI query of the same name
# (collection.portfolio.query returns {'total', 'salesperson', 'policy',
# 'segment', 'phase'}, see its GROUP_COLUMNS).
# Adding one is: its column below, its value in `dimension`, its check
# constraint, an entry here, and its breakdown in the query; the unique index,
# the writer (collection.kpi.history) and the dashboard follow this mapping.
# The segment of a past week is the customer's segment today (no history of
# segments is kept); the phase is that of the invoice's current stage.
SNAPSHOT_DIMENSIONS = {
    "salesperson": "user_id",
    "policy": "policy_id",
    "segment": "segment_id",
    "phase": "phase",
}
# the figures of collection.portfolio.report._collection_figures() kept in the
# history (the overdue ratio is stored in percent)
SNAPSHOT_FIGURES = (
    "receivable",
    "not_due",
    "overdue",
    "overdue_ratio",
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
    "promises_made_amount",
    "promises_kept",
    "promises_kept_amount",
    "promises_broken",
    "promises_broken_amount",
    "contacts",
    "escalations",
)
UNIQUE_INDEX = "collection_kpi_snapshot_week_uniq"


class CollectionKpiSnapshot(models.Model):
    """The portfolio KPIs of one company at the end of one week (Sunday): for
    the whole company, and per salesperson, policy, customer segment and
    collection phase (``dimension``).

    Written only by the system (collection.kpi.history: the weekly report's
    scheduled action, and the backfill of the last 52 weeks), never twice for
    the same week and dimension: a unique index says so, and the writer leaves
    a stored week as it is. A figure that cannot be computed (no sales in the
    period, nothing owed) is empty (NULL), not zero.
    """

    _name = "collection.kpi.snapshot"
    _description = "Collection KPI Snapshot"
    _inherit = ["collection.system.fields"]
    _collection_system_fields = frozenset(
        {
            "date",
            "company_id",
            "currency_id",
            "dimension",
            "period_days",
            *SNAPSHOT_DIMENSIONS.values(),
            *SNAPSHOT_FIGURES,
        }
    )
    _order = "date desc, company_id, dimension, id"
    _rec_name = "date"

    date = fields.Date(
        string="Week Ending",
        required=True,
        readonly=True,
        help="Last day (Sunday) of the week: the figures are as of that day.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, ondelete="cascade"
    )
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    dimension = fields.Selection(
        [
            ("company", "Company Total"),
            ("salesperson", "Salesperson"),
            ("policy", "Collection Policy"),
            ("segment", "Customer Segment"),
            ("phase", "Collection Phase"),
        ],
        string="Breakdown",
        required=True,
        readonly=True,
        help="Company Total: the whole portfolio; Salesperson, Collection Policy, "
        "Customer Segment: the part of the portfolio of one salesperson, policy or "
        "segment (the customers' segment today: past segments are not kept); "
        "Collection Phase: the invoices at a stage of that phase (their stage "
        "today).",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        readonly=True,
        ondelete="cascade",
        index="btree_not_null",
        help="Empty on a salesperson row: the invoices without salesperson.",
    )
    policy_id = fields.Many2one(
        "collection.policy",
        string="Collection Policy",
        readonly=True,
        ondelete="cascade",
        index="btree_not_null",
        help="Empty on a policy row: the customers without policy.",
    )
    segment_id = fields.Many2one(
        "collection.segment",
        string="Customer Segment",
        readonly=True,
        ondelete="cascade",
        index="btree_not_null",
        help="Empty on a segment row: the customers without segment.",
    )
    phase = fields.Selection(
        COLLECTION_PHASES,
        string="Collection Phase",
        readonly=True,
        help="Empty on a phase row: the invoices no stage has reached yet, and "
        "the work not tied to one invoice (promises, contacts).",
    )
    period_days = fields.Integer(
        string="Days in the Period",
        readonly=True,
        help="The KPIs' period: the days ending on the week's last day.",
    )
    receivable = fields.Monetary(string="Total Receivable", readonly=True)
    not_due = fields.Monetary(readonly=True)
    overdue = fields.Monetary(readonly=True)
    overdue_ratio = fields.Float(
        string="Overdue Ratio (%)",
        readonly=True,
        aggregator="avg",
        help="Overdue receivable / total receivable, in percent.",
    )
    opening_receivable = fields.Monetary(readonly=True)
    credit_sales = fields.Monetary(string="Credit Sales in the Period", readonly=True)
    dso = fields.Float(
        string="DSO (days)",
        readonly=True,
        aggregator="avg",
        help="Receivable at the end of the period / credit sales in the period x "
        "days in the period.",
    )
    best_dso = fields.Float(
        string="Best Possible DSO (days)", readonly=True, aggregator="avg"
    )
    add = fields.Float(
        string="Average Days Delinquent",
        readonly=True,
        aggregator="avg",
        help="DSO - Best Possible DSO.",
    )
    cei = fields.Float(
        string="CEI (%)",
        readonly=True,
        aggregator="avg",
        help="Collection Effectiveness Index: (opening receivable + credit sales - "
        "closing receivable) / (opening receivable + credit sales - closing "
        "receivable not yet due) x 100.",
    )
    weighted_days_late = fields.Float(
        string="Weighted Average Days Late", readonly=True, aggregator="avg"
    )
    collection_period = fields.Float(
        string="Average Collection Period (days)", readonly=True, aggregator="avg"
    )
    average_age = fields.Float(
        string="Average Age of Open Debt (days)", readonly=True, aggregator="avg"
    )
    promises_made = fields.Integer(readonly=True)
    promises_made_amount = fields.Monetary(readonly=True)
    promises_kept = fields.Integer(readonly=True)
    promises_kept_amount = fields.Monetary(readonly=True)
    promises_broken = fields.Integer(readonly=True)
    promises_broken_amount = fields.Monetary(readonly=True)
    contacts = fields.Integer(string="Contacts Logged", readonly=True)
    escalations = fields.Integer(readonly=True)

    _sql_constraints = [
        (
            "date_week_end",
            "CHECK (EXTRACT(ISODOW FROM date) = 7)",
            "A KPI snapshot is dated on the last day (Sunday) of its week.",
        ),
        (
            "user_id_dimension",
            "CHECK (user_id IS NULL OR dimension = 'salesperson')",
            "Only a salesperson's KPI snapshot has a salesperson.",
        ),
        (
            "policy_id_dimension",
            "CHECK (policy_id IS NULL OR dimension = 'policy')",
            "Only a policy's KPI snapshot has a policy.",
        ),
        (
            "segment_id_dimension",
            "CHECK (segment_id IS NULL OR dimension = 'segment')",
            "Only a segment's KPI snapshot has a segment.",
        ),
        (
            "phase_dimension",
            "CHECK (phase IS NULL OR dimension = 'phase')",
            "Only a phase's KPI snapshot has a phase.",
        ),
    ]

    def init(self):
        """The unique index that keeps a week from being stored twice: one row
        per week, company, dimension and key of the dimension (an empty key, the
        company's total or the invoices without salesperson, counts as one)."""
        columns = list(SNAPSHOT_DIMENSIONS.values())
        expressions = ["date", "company_id", "dimension"] + [
            f"COALESCE({column}, 0)"
            if self._fields[column].type == "many2one"
            else f"COALESCE({column}, '')"
            for column in columns
        ]
        rows = self.env.execute_query(
            SQL("SELECT indexdef FROM pg_indexes WHERE indexname = %s", UNIQUE_INDEX)
        )
        if rows and not all(
            re.search(rf"\b{column}\b", rows[0][0]) for column in columns
        ):
            # a dimension was added since: the index covers its key too
            self.env.execute_query(SQL("DROP INDEX %s", SQL.identifier(UNIQUE_INDEX)))
            rows = []
        if not rows:
            self.env.execute_query(
                SQL(
                    "CREATE UNIQUE INDEX %s ON %s (%s)",
                    SQL.identifier(UNIQUE_INDEX),
                    SQL.identifier(self._table),
                    SQL(", ").join(SQL(expression) for expression in expressions),
                )
            )

    @api.depends("date", "dimension", "company_id", *SNAPSHOT_DIMENSIONS.values())
    def _compute_display_name(self):
        for snapshot in self:
            column = SNAPSHOT_DIMENSIONS.get(snapshot.dimension)
            if not column:
                key = snapshot.company_id.name
            elif self._fields[column].type == "many2one":
                key = snapshot[column].display_name
            else:
                key = dict(self._fields[column]._description_selection(self.env)).get(
                    snapshot[column]
                )
            key = key or self.env._("None")
            snapshot.display_name = f"{snapshot.date} - {key}"

    # -------------------------------------------------------------------------
    # The dashboard (web client)
    # -------------------------------------------------------------------------

    @api.model
    def get_collection_dashboard(
        self, company_id=False, dimension="company", key=False, weeks=52
    ):
        """The values of the KPI dashboard (collection.kpi.dashboard) of one of
        the user's current companies (default: the main one), for the company's
        total or one key of a dimension (``dimension``, ``key``), over
        ``weeks`` weeks; for the collection managers (the snapshots' access
        rights and record rules apply)."""
        self.check_access("read")
        companies = self.env.companies
        company = companies.filtered(lambda c: c.id == company_id) or self.env.company
        return self.env["collection.kpi.dashboard"]._collection_dashboard(
            company, dimension, key, int(weeks or 0)
        )

    @api.model
    def action_collection_backfill(self):
        """Compute the missing weeks of the last 52 of the current company now
        (collection managers allowed in it); return a notification."""
        weeks = self.env["collection.kpi.history"]._collection_backfill_now(
            self.env.company
        )
        if weeks:
            message = self.env._(
                "KPI history of %(company)s: %(weeks)s weeks computed.",
                company=self.env.company.name,
                weeks=weeks,
            )
        else:
            message = self.env._(
                "The KPI history of %(company)s has every week of the last 52 "
                "that can be computed: nothing to add.",
                company=self.env.company.name,
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": "success", "message": message, "sticky": False},
        }
