from odoo import api, fields, models
from odoo.tools import SQL

from .collection_receivable import COLLECTION_PAUSE_FOREVER, COLLECTION_PAUSE_REASONS
from .collection_stage import COLLECTION_PHASES

WORKLIST_KINDS = [("activity", "Activity"), ("promise", "Promise Due")]


class CollectionWorklist(models.Model):
    """The collector's worklist: open collection activities and open promises to
    pay, one row each, sorted by a priority score whose parts stay visible.

    Priority = amount points + days points + broken-promise points + history
    points, where (amounts in company currency):

    - amount points = 10 x log10(1 + overdue amount): each tenfold amount adds 10,
      whatever the currency's unit;
    - days points = days overdue / 4, at most 30 (120 days);
    - broken-promise points = 10 per promise the customer broke, at most 30;
    - history points = customer's average days late / 3, at most 20 (60 days).

    The expected payment date is the due date moved by the customer's own
    amount-weighted average days late: what will not pay by itself comes first.
    """

    _name = "collection.worklist"
    _description = "Collection Worklist"
    _auto = False
    # what the query reads: pending changes to them are written before it runs
    _depends = {
        "mail.activity": [
            "res_model",
            "res_id",
            "active",
            "collection_stage_id",
            "collection_promise_id",
            "user_id",
            "date_deadline",
            "activity_type_id",
            "summary",
        ],
        "account.move": [
            "move_type",
            "state",
            "payment_state",
            "collection_excluded",
            "amount_residual",
            "amount_residual_signed",
            "commercial_partner_id",
            "company_id",
            "collection_date_due",
            "invoice_date_due",
            "collection_phase",
        ],
        "collection.promise": [
            "state",
            "partner_id",
            "company_id",
            "user_id",
            "promised_date",
            "move_ids",
        ],
        "collection.plan": ["state", "partner_id", "company_id", "move_ids"],
        "collection.plan.installment": ["plan_id", "date", "state"],
        "collection.dispute": ["move_id", "state", "paused_until"],
        "collection.payment.claim": ["move_ids", "state", "paused_until"],
        "res.partner": ["collection_avg_days_late"],
    }
    _order = "priority desc, date_deadline, id"
    _rec_name = "summary"

    kind = fields.Selection(WORKLIST_KINDS, readonly=True)
    activity_id = fields.Many2one("mail.activity", readonly=True)
    activity_type_id = fields.Many2one("mail.activity.type", readonly=True)
    summary = fields.Char(readonly=True)
    promise_id = fields.Many2one("collection.promise", readonly=True)
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    date_deadline = fields.Date(string="Due On", readonly=True)
    date_due = fields.Date(string="Invoice Due Date", readonly=True)
    amount_residual = fields.Monetary(string="Open in Collection", readonly=True)
    amount_overdue = fields.Monetary(string="Overdue in Collection", readonly=True)
    days_overdue = fields.Integer(readonly=True, aggregator="max")
    phase = fields.Selection(
        COLLECTION_PHASES,
        readonly=True,
        help="The collection phase of the invoice (of the most advanced of the "
        "promise's invoices).",
    )
    broken_count = fields.Integer(
        string="Broken Promises", readonly=True, aggregator="max"
    )
    avg_days_late = fields.Float(
        string="Customer's Average Days Late",
        digits=(16, 1),
        readonly=True,
        aggregator="avg",
    )
    date_expected = fields.Date(
        string="Expected Payment",
        readonly=True,
        help="When the customer is expected to pay, never before today: the "
        "first date of its open promises to pay and payment plan installments, "
        "else its oldest open due date moved by its average days late.",
    )
    paused_until = fields.Date(
        readonly=True,
        help="Last day the collection of the invoice is paused: no stage is "
        "executed and no reminder sent until then (an exclusion has no end).",
    )
    pause_reason = fields.Selection(
        COLLECTION_PAUSE_REASONS,
        string="Paused By",
        readonly=True,
        help="Why the collection of the invoice is paused (the pause that lasts "
        "longest).",
    )
    score_amount = fields.Float(
        string="Amount Points",
        digits=(16, 1),
        readonly=True,
        aggregator="avg",
        help="10 x log10(1 + overdue amount in company currency).",
    )
    score_days = fields.Float(
        string="Days Points",
        digits=(16, 1),
        readonly=True,
        aggregator="avg",
        help="Days overdue / 4, at most 30.",
    )
    score_broken = fields.Float(
        string="Broken Promise Points",
        digits=(16, 1),
        readonly=True,
        aggregator="avg",
        help="10 per promise to pay the customer broke, at most 30.",
    )
    score_history = fields.Float(
        string="History Points",
        digits=(16, 1),
        readonly=True,
        aggregator="avg",
        help="Customer's average days late on paid invoices / 3, at most 20.",
    )
    priority = fields.Float(
        digits=(16, 1),
        readonly=True,
        aggregator="max",
        help="Sum of the amount, days, broken promise and history points.",
    )

    @api.depends("kind", "move_id", "promise_id", "summary", "activity_type_id")
    def _compute_display_name(self):
        for row in self:
            if row.kind == "promise":
                row.display_name = row.promise_id.sudo().display_name
            else:
                row.display_name = " - ".join(
                    filter(
                        None,
                        [row.move_id.name, row.summary or row.activity_type_id.name],
                    )
                )

    @property
    def _table_query(self):
        # days overdue are counted to the user's today: a query, not a view
        return self._query(fields.Date.context_today(self))

    def _query(self, today):
        receivable = self.env["collection.receivable"]
        # days overdue of the invoice m (as account.move.collection_days_overdue)
        days_late = receivable._collection_days_sql(today, SQL("m.collection_date_due"))
        days = SQL(
            "CASE WHEN %(open)s AND %(days)s > 0 THEN %(days)s ELSE 0 END",
            open=receivable._collection_open_sql("m"),
            days=days_late,
        )
        return SQL(
            """
            WITH item AS (
                SELECT a.id * 2 AS id,
                       'activity' AS kind,
                       a.id AS activity_id,
                       a.activity_type_id,
                       a.summary,
                       NULL::integer AS promise_id,
                       m.id AS move_id,
                       m.commercial_partner_id AS partner_id,
                       m.company_id,
                       a.user_id,
                       a.date_deadline,
                       COALESCE(m.collection_date_due, m.invoice_date_due) AS date_due,
                       m.amount_residual_signed AS amount_residual,
                       CASE WHEN %(days)s > 0
                            THEN m.amount_residual_signed ELSE 0 END AS amount_overdue,
                       %(days)s AS days_overdue,
                       m.collection_phase::varchar AS phase
                  FROM mail_activity a
                  JOIN account_move m ON m.id = a.res_id
                 WHERE a.res_model = 'account.move'
                   AND a.active
                   AND (a.collection_stage_id IS NOT NULL
                        OR a.collection_promise_id IS NOT NULL)
             UNION ALL
                SELECT p.id * 2 + 1,
                       'promise',
                       NULL,
                       NULL,
                       NULL,
                       p.id,
                       NULL,
                       p.partner_id,
                       p.company_id,
                       p.user_id,
                       p.promised_date,
                       MIN(COALESCE(m.collection_date_due, m.invoice_date_due)),
                       SUM(m.amount_residual_signed),
                       SUM(CASE WHEN %(days)s > 0
                                THEN m.amount_residual_signed ELSE 0 END),
                       MAX(%(days)s),
                       (%(phases)s::varchar[])[MAX(array_position(
                           %(phases)s::varchar[], m.collection_phase::varchar))]
                  FROM collection_promise p
                  JOIN collection_promise_account_move_rel rel ON rel.promise_id = p.id
                  JOIN account_move m ON m.id = rel.move_id
                 WHERE p.state = 'open'
              GROUP BY p.id
            ), broken AS (
                SELECT partner_id, company_id, COUNT(*) AS broken_count
                  FROM collection_promise
                 WHERE state = 'broken'
              GROUP BY partner_id, company_id
            ), scored AS (
                SELECT i.*,
                       c.currency_id,
                       COALESCE(b.broken_count, 0) AS broken_count,
                       COALESCE(rp.collection_avg_days_late, 0)::numeric
                           AS avg_days_late,
                       %(score_amount)s AS score_amount,
                       %(score_days)s AS score_days,
                       10.0 * LEAST(COALESCE(b.broken_count, 0), 3) AS score_broken,
                       ROUND(LEAST(GREATEST(COALESCE(
                           rp.collection_avg_days_late, 0)::numeric, 0), 60) / 3.0, 1)
                           AS score_history
                  FROM item i
                  JOIN res_company c ON c.id = i.company_id
                  JOIN res_partner rp ON rp.id = i.partner_id
             LEFT JOIN broken b
                    ON b.partner_id = i.partner_id AND b.company_id = i.company_id
            )
            SELECT s.*,
                   %(expected)s AS date_expected,
                   -- an exclusion has no end: no date
                   NULLIF(pause.until, %(forever)s::date) AS paused_until,
                   pause.reason AS pause_reason,
                   s.score_amount + s.score_days + s.score_broken + s.score_history
                       AS priority
              FROM scored s
         LEFT JOIN account_move pm ON pm.id = s.move_id
         LEFT JOIN LATERAL (%(pause)s) pause ON TRUE
            """,
            pause=receivable._collection_pause_sql(today, "pm"),
            forever=COLLECTION_PAUSE_FOREVER,
            days=days,
            phases=[phase for phase, _label in COLLECTION_PHASES],
            score_amount=self._collection_score_amount_sql(SQL("i.amount_overdue")),
            score_days=self._collection_score_days_sql(SQL("i.days_overdue")),
            expected=self.env["collection.receivable"]._collection_expected_payment_sql(
                today,
                SQL("s.partner_id"),
                SQL("s.company_id"),
                SQL("s.date_due"),
                SQL("s.avg_days_late"),
            ),
        )

    @api.model
    def _collection_score_amount_sql(self, amount):
        """SQL: the priority score's amount points of an overdue ``amount``
        (SQL, company currency): 10 x log10(1 + amount). Read by the activity
        rows and the customer rows alike."""
        return SQL("ROUND(10 * LOG(1 + GREATEST(%s, 0)::numeric), 1)", amount)

    @api.model
    def _collection_score_days_sql(self, days):
        """SQL: the priority score's days points of ``days`` overdue (SQL):
        days / 4, at most 30."""
        return SQL("ROUND(LEAST(%s, 120) / 4.0, 1)", days)

    def init(self):
        # earlier versions made the worklist a view (days counted on the last run)
        self.env.cr.execute(SQL("DROP VIEW IF EXISTS %s", SQL.identifier(self._table)))

    # -------------------------------------------------------------------------
    # Actions
    # -------------------------------------------------------------------------

    @api.model
    def action_open_worklist(self):
        """ "My Collections": a salesperson's own rows; a manager's team, grouped by
        salesperson."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_collections.collection_worklist_action"
        )
        context = {"search_default_due": 1}
        if self.env.user.has_group("account_collections.group_collection_manager"):
            context["search_default_group_user"] = 1
        else:
            context["search_default_mine"] = 1
        action["context"] = context
        return action

    def _collection_moves(self):
        self.ensure_one()
        if self.kind == "promise":
            return self.promise_id.move_ids.filtered_domain(
                self.env["collection.receivable"]._collection_unpaid_domain()
            )
        return self.move_id

    def action_log_contact(self):
        """Log a contact about the row's invoice(s), closing its activity."""
        self.ensure_one()
        return self.env["collection.contact.wizard"]._collection_action_open(
            moves=self._collection_moves(), activity=self.activity_id
        )

    def action_payment_plan(self):
        """A new payment plan with the row's customer: its overdue invoices in
        the row's company and the row's own."""
        self.ensure_one()
        moves = self._collection_moves() | self.env[
            "collection.plan"
        ]._collection_overdue_moves(self.partner_id, self.company_id)
        return (
            self.env["collection.plan"]
            .with_company(self.company_id)
            ._collection_action_new(moves.sorted("id"))
        )

    def action_open_document(self):
        """Open the row's invoice, or its promise."""
        self.ensure_one()
        record = self.promise_id if self.kind == "promise" else self.move_id
        return {
            "type": "ir.actions.act_window",
            "res_model": record._name,
            "res_id": record.id,
            "views": [(False, "form")],
            "target": "current",
        }
