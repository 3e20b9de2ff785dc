from odoo import api, fields, models
from odoo.tools import SQL

from .collection_contact import CONTACT_OUTCOMES
from .collection_stage import COLLECTION_PHASES

# a row's id is its customer's id times this plus its company's id (one row
# per customer and company, the same id from one read to the next)
COMPANY_ID_SPAN = 1_000_000


class CollectionWorklistCustomer(models.Model):
    """My Collections by customer: the receivable by customer under the
    customer's own salesperson, one row per customer and company whoever holds
    its activities (``escalated_user_id`` shows who holds an escalation), over
    the rows of ``collection.worklist`` (open collection activities and promises
    due) and the customer's open receivable items in the company. Its open and
    overdue amounts are the aging's (as of today, by due date, excluded
    invoices included): the same filter gives the same overdue total.

    The priority score is the worklist's, computed per customer: amount points
    on the customer's overdue amount, days points on its oldest overdue invoice,
    broken-promise and history points as per row.
    """

    _name = "collection.worklist.customer"
    _description = "Collection Worklist by Customer"
    _auto = False
    # what the query reads beside the worklist's rows (and what they read)
    _depends = {
        "collection.worklist": [],
        "collection.dispute": ["state", "partner_id", "company_id"],
        "collection.payment.claim": ["state", "partner_id", "company_id"],
        "collection.contact": ["partner_id", "company_id", "date", "outcome"],
        "account.move.line": [
            "account_id",
            "parent_state",
            "partner_id",
            "date",
            "date_maturity",
            "amount_residual",
            "reconciled",
        ],
        "account.partial.reconcile": ["amount", "max_date"],
        "res.partner": ["user_id", "commercial_partner_id"],
        "res.users": ["active"],
    }
    _order = "priority desc, date_deadline, id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        readonly=True,
        help="The customer's own salesperson (archived users skipped), else that "
        "of its open invoice due first.",
    )
    escalated_user_id = fields.Many2one(
        "res.users",
        string="Escalated To",
        readonly=True,
        help="Who, other than the salesperson, holds an activity or a promise of "
        "the customer (an escalation, a takeover).",
    )
    date_deadline = fields.Date(
        string="Due On",
        readonly=True,
        help="The earliest deadline of the customer's activities and promises.",
    )
    activity_count = fields.Integer(string="Activities", readonly=True)
    invoice_count = fields.Integer(
        string="Open Invoices", readonly=True, aggregator="sum"
    )
    amount_residual = fields.Monetary(
        string="Total Due",
        readonly=True,
        help="The customer's receivable balance in the company as the aging "
        "reads it today: open invoices, credit notes and payments not yet "
        "matched, excluded invoices included.",
    )
    amount_overdue = fields.Monetary(
        string="Overdue",
        readonly=True,
        help="The part of the open amount past its due date: the aging's "
        "overdue buckets for the customer.",
    )
    days_overdue = fields.Integer(
        string="Oldest Days Overdue", readonly=True, aggregator="max"
    )
    promise_amount = fields.Monetary(string="Open Promise", readonly=True)
    promise_date = fields.Date(string="Promised For", readonly=True)
    broken_count = fields.Integer(
        string="Broken Promises", readonly=True, aggregator="max"
    )
    phase = fields.Selection(
        COLLECTION_PHASES,
        readonly=True,
        help="The most advanced collection phase among the customer's open invoices.",
    )
    dispute_count = fields.Integer(
        string="Open Disputes",
        readonly=True,
        help="Disputes the customer raised on the portal, waiting to be accepted or "
        "rejected.",
    )
    claim_count = fields.Integer(
        string="Payments Reported",
        readonly=True,
        help="Payments the customer says on the portal they made, not yet found.",
    )
    last_contact_date = fields.Datetime(string="Last Contact", readonly=True)
    last_contact_outcome = fields.Selection(
        CONTACT_OUTCOMES, string="Last Outcome", readonly=True
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
    score_amount = fields.Float(
        string="Amount Points",
        digits=(16, 1),
        readonly=True,
        aggregator="avg",
        help="10 x log10(1 + the customer's overdue amount in company currency).",
    )
    score_days = fields.Float(
        string="Days Points",
        digits=(16, 1),
        readonly=True,
        aggregator="avg",
        help="Days overdue of the customer's oldest overdue invoice / 4, at most 30.",
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

    @property
    def _table_query(self):
        return self._query(fields.Date.context_today(self))

    def _query(self, today):
        receivable = self.env["collection.receivable"]
        worklist = self.env["collection.worklist"]
        days = receivable._collection_days_sql(today, SQL("m.collection_date_due"))
        item_days = receivable._collection_days_sql(
            today, SQL("COALESCE(b.date_maturity, b.date)")
        )
        return SQL(
            """
            WITH item AS (%(items)s),
            held AS (
                -- who holds the customer's activities and promises due
                SELECT i.partner_id, i.company_id,
                       COUNT(*) FILTER (WHERE i.kind = 'activity') AS activity_count,
                       MIN(i.date_deadline) AS date_deadline,
                       MAX(i.broken_count) AS broken_count,
                       MAX(i.avg_days_late) AS avg_days_late,
                       MAX(i.score_broken) AS score_broken,
                       MAX(i.score_history) AS score_history,
                       array_agg(DISTINCT i.user_id) AS holder_ids
                  FROM item i
              GROUP BY i.partner_id, i.company_id
            ), balance AS (
                -- the receivable by customer as the aging reads it (open items,
                -- credit notes and payments not matched, excluded invoices
                -- alike): its overdue is the aging's past due buckets
                SELECT COALESCE(p.commercial_partner_id, p.id) AS partner_id,
                       b.company_id,
                       SUM(b.amount) AS amount_residual,
                       SUM(CASE WHEN %(item_days)s > 0 THEN b.amount ELSE 0 END)
                           AS amount_overdue
                  FROM (%(open_items)s) b
                  JOIN res_partner p ON p.id = b.partner_id
              GROUP BY 1, 2
            ), debt AS (
                SELECT m.commercial_partner_id AS partner_id, m.company_id,
                       COUNT(*) AS invoice_count,
                       GREATEST(MAX(%(days)s), 0) AS days_overdue,
                       MIN(COALESCE(m.collection_date_due, m.invoice_date_due))
                           AS date_due,
                       MAX(array_position(%(phases)s::varchar[], m.collection_phase))
                           AS phase_rank,
                       (array_agg(%(salesperson)s ORDER BY
                            COALESCE(m.collection_date_due, m.invoice_date_due),
                            m.id) FILTER (WHERE %(salesperson)s IS NOT NULL))[1]
                           AS salesperson_id
                  FROM account_move m
                  %(invoice_joins)s
                 WHERE %(open)s
              GROUP BY m.commercial_partner_id, m.company_id
            ), customer AS (
                SELECT partner_id, company_id FROM held
                 UNION
                SELECT partner_id, company_id FROM balance
            ), promise AS (
                SELECT partner_id, company_id, SUM(amount) AS promise_amount,
                       MIN(promised_date) AS promise_date
                  FROM collection_promise
                 WHERE state = 'open'
              GROUP BY partner_id, company_id
            ), answer AS (
                SELECT partner_id, company_id,
                       SUM(disputes) AS dispute_count, SUM(claims) AS claim_count
                  FROM (SELECT partner_id, company_id, 1 AS disputes, 0 AS claims
                          FROM collection_dispute WHERE state = 'open'
                         UNION ALL
                        SELECT partner_id, company_id, 0, 1
                          FROM collection_payment_claim WHERE state = 'open') a
              GROUP BY partner_id, company_id
            ), contact AS (
                SELECT DISTINCT ON (partner_id, company_id)
                       partner_id, company_id, date, outcome
                  FROM collection_contact
              ORDER BY partner_id, company_id, date DESC, id DESC
            ), owned AS (
                -- the customer's own salesperson: its own (active), else that
                -- of its open invoice due first
                SELECT c.partner_id, c.company_id,
                       COALESCE(%(own)s, d.salesperson_id) AS user_id
                  FROM customer c
                  JOIN res_partner rp ON rp.id = c.partner_id
             LEFT JOIN debt d
                    ON d.partner_id = c.partner_id AND d.company_id = c.company_id
            ), scored AS (
                SELECT
                       -- one row per customer and company
                       c.partner_id::bigint * %(companies)s + c.company_id AS id,
                       c.partner_id, c.company_id, o.user_id,
                       (SELECT MIN(holder) FROM unnest(h.holder_ids) holder
                         WHERE holder IS DISTINCT FROM o.user_id)
                           AS escalated_user_id,
                       COALESCE(h.activity_count, 0) AS activity_count,
                       h.date_deadline,
                       rc.currency_id,
                       COALESCE(h.broken_count, 0) AS broken_count,
                       COALESCE(h.avg_days_late,
                                rp.collection_avg_days_late, 0)::numeric
                           AS avg_days_late,
                       COALESCE(h.score_broken, 0) AS score_broken,
                       COALESCE(h.score_history, ROUND(LEAST(GREATEST(COALESCE(
                           rp.collection_avg_days_late, 0)::numeric, 0), 60) / 3.0, 1))
                           AS score_history,
                       COALESCE(d.invoice_count, 0) AS invoice_count,
                       COALESCE(bl.amount_residual, 0) AS amount_residual,
                       COALESCE(bl.amount_overdue, 0) AS amount_overdue,
                       COALESCE(d.days_overdue, 0) AS days_overdue,
                       d.date_due,
                       p.promise_amount,
                       p.promise_date,
                       (%(phases)s::varchar[])[d.phase_rank] AS phase,
                       COALESCE(a.dispute_count, 0) AS dispute_count,
                       COALESCE(a.claim_count, 0) AS claim_count,
                       ct.date AS last_contact_date,
                       ct.outcome AS last_contact_outcome,
                       %(score_amount)s AS score_amount,
                       %(score_days)s AS score_days
                  FROM customer c
                  JOIN owned o
                    ON o.partner_id = c.partner_id AND o.company_id = c.company_id
                  JOIN res_company rc ON rc.id = c.company_id
                  JOIN res_partner rp ON rp.id = c.partner_id
             LEFT JOIN held h
                    ON h.partner_id = c.partner_id AND h.company_id = c.company_id
             LEFT JOIN balance bl
                    ON bl.partner_id = c.partner_id AND bl.company_id = c.company_id
             LEFT JOIN debt d
                    ON d.partner_id = c.partner_id AND d.company_id = c.company_id
             LEFT JOIN promise p
                    ON p.partner_id = c.partner_id AND p.company_id = c.company_id
             LEFT JOIN answer a
                    ON a.partner_id = c.partner_id AND a.company_id = c.company_id
             LEFT JOIN contact ct
                    ON ct.partner_id = c.partner_id AND ct.company_id = c.company_id
            )
            SELECT s.*,
                   %(expected)s AS date_expected,
                   s.score_amount + s.score_days + s.score_broken + s.score_history
                       AS priority
              FROM scored s
            """,
            items=worklist._query(today),
            open_items=receivable._collection_open_items_sql(today),
            item_days=item_days,
            days=days,
            open=receivable._collection_open_sql("m"),
            invoice_joins=receivable._collection_invoice_joins("m", alias="rcv"),
            salesperson=receivable._collection_salesperson_sql("rcv"),
            own=receivable._collection_active_user_sql(SQL("rp.user_id")),
            companies=COMPANY_ID_SPAN,
            phases=[phase for phase, _label in COLLECTION_PHASES],
            score_amount=worklist._collection_score_amount_sql(
                SQL("COALESCE(bl.amount_overdue, 0)")
            ),
            score_days=worklist._collection_score_days_sql(
                SQL("COALESCE(d.days_overdue, 0)")
            ),
            expected=receivable._collection_expected_payment_sql(
                today,
                SQL("s.partner_id"),
                SQL("s.company_id"),
                SQL("s.date_due"),
                SQL("s.avg_days_late"),
            ),
        )

    # -------------------------------------------------------------------------
    # Actions
    # -------------------------------------------------------------------------

    @api.model
    def action_open_worklist(self):
        """ "My Collections": a salesperson's own customers; a manager's team,
        grouped by salesperson."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_collections.collection_worklist_customer_action"
        )
        context = {"search_default_due": 1}
        if self.env.user.has_group("account_collections.group_collection_manager"):
            context["search_default_group_user"] = 1
        else:
            context["search_default_mine"] = 1
        action["context"] = context
        return action

    def _collection_moves(self):
        """The invoices a contact from the row is about: the customer's overdue
        invoices in the company, else those of the row's activities and
        promises."""
        self.ensure_one()
        moves = self.env["collection.plan"]._collection_overdue_moves(
            self.partner_id, self.company_id
        )
        if moves:
            return moves
        rows = self._collection_activity_rows()
        return (rows.move_id | rows.promise_id.move_ids).filtered_domain(
            self.env["collection.receivable"]._collection_unpaid_domain()
        )

    def _collection_activity_rows(self):
        self.ensure_one()
        return self.env["collection.worklist"].search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
            ]
        )

    def action_log_contact(self):
        """Log a contact about the customer's overdue invoices, closing the
        user's collection activities on them."""
        self.ensure_one()
        return (
            self.env["collection.contact.wizard"]
            .with_company(self.company_id)
            ._collection_action_open(moves=self._collection_moves())
        )

    def action_payment_plan(self):
        """A new payment plan on the customer's overdue invoices."""
        self.ensure_one()
        return (
            self.env["collection.plan"]
            .with_company(self.company_id)
            ._collection_action_new(self._collection_moves())
        )

    def action_open_activities(self):
        """The row's activities and promises due, one row each."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_collections.collection_worklist_action"
        )
        action["domain"] = [
            ("partner_id", "=", self.partner_id.id),
            ("company_id", "=", self.company_id.id),
        ]
        action["context"] = {}
        action["display_name"] = self.partner_id.display_name
        return action
