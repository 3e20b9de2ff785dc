"""Customer segments: the first matching segment of a company, by sequence, gives
its customers their collection policy (a policy set by hand on the customer
wins). The daily run re-evaluates them set-based: one query for the customers'
figures, one per segment."""

import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

_logger = logging.getLogger(__name__)

MANAGER_GROUP = "account_collections.group_collection_manager"
# the figures the addon computes for each customer of a company, in SQL over
# the temporary table of _collection_customer_figures()
SEGMENT_CRITERIA = [
    ("reliability", "Promise reliability (%)"),
    ("days_late", "Average days late (12 months)"),
    ("overdue", "Overdue amount"),
    ("broken", "Broken promises (90 days)"),
    ("invoiced", "Invoiced (12 months)"),
]
SEGMENT_OPERATORS = [(">=", "at least"), ("<=", "at most")]
# the parameter holding the day the segments were last evaluated
EVALUATED_ON_PARAM = "account_collections.segments_evaluated_on"


class CollectionSegment(models.Model):
    _name = "collection.segment"
    _description = "Collection Customer Segment"
    _inherit = ["mail.thread"]
    _order = "company_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(
        default=10,
        tracking=True,
        help="Segments are tried in this order: a customer is in the first one it "
        "matches.",
    )
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    policy_id = fields.Many2one(
        "collection.policy",
        required=True,
        # a policy in use by a segment is archived, not deleted (see the policy's
        # _unlink_except_in_use); the cascade is for the addon's uninstall
        ondelete="cascade",
        tracking=True,
        check_company=True,
        domain="[('company_id', 'in', (False, company_id))]",
        help="The collection policy of the segment's customers (unless a policy is "
        "set by hand on the customer).",
    )
    partner_domain = fields.Char(
        string="Customers",
        default="[]",
        required=True,
        help="Which customers (companies and individuals invoiced) may be in the "
        "segment, besides the criteria.",
    )
    criterion_ids = fields.One2many(
        "collection.segment.criterion", "segment_id", string="Criteria", copy=True
    )
    customer_count = fields.Integer(compute="_compute_customer_count")

    _sql_constraints = [
        (
            "sequence_company_uniq",
            "unique(company_id, sequence)",
            "Two segments of the same company cannot have the same sequence: the "
            "order in which they are tried would be ambiguous.",
        ),
    ]

    def _compute_customer_count(self):
        counts = dict.fromkeys(self.ids, 0)
        for company in self.company_id:
            segments = self.filtered(lambda s, c=company: s.company_id == c)
            groups = (
                self.env["res.partner"]
                .with_company(company)
                .with_context(active_test=False)
                ._read_group(
                    [("collection_segment_id", "in", segments.ids)],
                    ["collection_segment_id"],
                    ["__count"],
                )
            )
            counts.update({segment.id: count for segment, count in groups})
        for segment in self:
            segment.customer_count = counts.get(segment.id, 0)

    @api.constrains("partner_domain")
    def _check_partner_domain(self):
        for segment in self:
            segment._collection_domain()

    def _collection_domain(self):
        """The segment's customer domain, checked: a list that Odoo can search
        res.partner with (a clear error otherwise)."""
        self.ensure_one()
        try:
            domain = safe_eval(self.partner_domain or "[]")
            if not isinstance(domain, list | tuple):
                raise ValueError(self.partner_domain)
            domain = list(domain)
            # builds the query: an unknown field or operator fails here
            self.env["res.partner"].sudo()._search(domain)
        except Exception as error:  # noqa: BLE001 - any failure is a bad domain
            raise ValidationError(
                self.env._(
                    "The customer domain of segment '%(segment)s' is not valid: "
                    "%(error)s",
                    segment=self.display_name,
                    error=error,
                )
            ) from error
        return domain

    # -------------------------------------------------------------------------
    # Actions
    # -------------------------------------------------------------------------

    def action_view_customers(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Customers of %(segment)s", segment=self.display_name),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "domain": [("collection_segment_id", "=", self.id)],
            "context": {"allowed_company_ids": self.company_id.ids},
        }

    def action_evaluate(self):
        """Evaluate the segments of the chosen companies now (collection managers)."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only a collection manager can evaluate the segments.")
            )
        companies = self.company_id or self.env.companies
        changed = self.sudo()._collection_evaluate(companies)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "Segments evaluated: %(count)s customers changed segment.",
                    count=changed,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # -------------------------------------------------------------------------
    # Evaluation (the daily run)
    # -------------------------------------------------------------------------

    @api.model
    def _collection_evaluate_daily(self, today):
        """Evaluate every company's segments once a day (the daily run calls this
        on each of its batches; only the first one of the day works)."""
        # read and written in SQL: two workers running at once conflict on this
        # one row (the loser's transaction is retried, as for the run's batches)
        # rather than both creating it
        done = self.env.execute_query(
            SQL(
                "SELECT value FROM ir_config_parameter WHERE key = %s",
                EVALUATED_ON_PARAM,
            )
        )
        if done and done[0][0] == str(today):
            return 0
        companies = self.env["res.company"].sudo().search([])
        changed = self.sudo()._collection_evaluate(companies, today)
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO ir_config_parameter
                       (key, value, create_uid, write_uid, create_date, write_date)
                VALUES (%(key)s, %(value)s, %(uid)s, %(uid)s,
                        now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
                ON CONFLICT (key) DO UPDATE
                   SET value = EXCLUDED.value, write_uid = EXCLUDED.write_uid,
                       write_date = EXCLUDED.write_date
                """,
                key=EVALUATED_ON_PARAM,
                value=str(today),
                uid=self.env.uid,
            )
        )
        return changed

    @api.model
    def _collection_evaluate(self, companies, today=None):
        """Put each customer of ``companies`` in its first matching segment (or
        none), write the changes set-based and log each in the customer's
        chatter. Returns the number of customers that changed segment."""
        today = today or fields.Date.context_today(self)
        changed = 0
        for company in companies:
            changed += self._collection_evaluate_company(company, today)
        return changed

    @api.model
    def _collection_evaluate_company(self, company, today):
        segments = self.search([("company_id", "=", company.id)], order="sequence, id")
        partners = self.env["res.partner"].with_context(active_test=False)
        partners.flush_model(["collection_segment_id"])
        key = str(company.id)
        current = dict(
            self.env.execute_query(
                SQL(
                    "SELECT id, (collection_segment_id ->> %s)::integer FROM res_partner "
                    "WHERE collection_segment_id ? %s",
                    key,
                    key,
                )
            )
        )
        wanted = {}
        if segments:
            self._collection_customer_figures(company, today)
            for segment in segments:
                domain = segment._collection_domain()
                query = partners.with_company(company)._search(domain)
                rows = self.env.execute_query(
                    SQL(
                        """
                        SELECT fig.partner_id
                          FROM collection_segment_figures fig
                         WHERE fig.partner_id IN %s AND %s
                        """,
                        query.subselect(),
                        segment.criterion_ids._collection_condition("fig"),
                    )
                )
                for (partner_id,) in rows:
                    wanted.setdefault(partner_id, segment.id)
            self.env.cr.execute("DROP TABLE collection_segment_figures")
        changes = {
            partner_id: (current.get(partner_id), wanted.get(partner_id))
            for partner_id in set(current) | set(wanted)
            if current.get(partner_id) != wanted.get(partner_id)
        }
        if not changes:
            return 0
        joined = [pid for pid, (_old, new) in changes.items() if new]
        left = [pid for pid, (_old, new) in changes.items() if not new]
        if joined:
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE res_partner p
                       SET collection_segment_id =
                           COALESCE(p.collection_segment_id, '{}'::jsonb)
                           || jsonb_build_object(%s, v.segment_id)
                      FROM unnest(%s::integer[], %s::integer[]) AS v(id, segment_id)
                     WHERE p.id = v.id
                    """,
                    key,
                    joined,
                    [changes[pid][1] for pid in joined],
                )
            )
        if left:
            self.env.cr.execute(
                SQL(
                    "UPDATE res_partner SET collection_segment_id = "
                    "collection_segment_id - %s WHERE id = ANY(%s)",
                    key,
                    left,
                )
            )
        partners.invalidate_model(["collection_segment_id"])
        self._collection_log_changes(company, changes)
        _logger.info(
            "Collection segments of %s: %s customers changed segment",
            company.name,
            len(changes),
        )
        return len(changes)

    @api.model
    def _collection_log_changes(self, company, changes):
        names = {
            segment.id: segment.display_name
            for segment in self.with_context(active_test=False).browse(
                {sid for pair in changes.values() for sid in pair if sid}
            )
        }
        none = self.env._("none")
        bodies = {
            partner_id: Markup("<p>%s</p>")
            % self.env._(
                "Collection segment in %(company)s: %(old)s → %(new)s. The "
                "customer's collection policy follows the new segment unless one is "
                "set on the customer.",
                company=company.name,
                old=names.get(old, none),
                new=names.get(new, none),
            )
            for partner_id, (old, new) in changes.items()
        }
        self.env["res.partner"].browse(list(bodies))._message_log_batch(bodies=bodies)

    @api.model
    def _collection_customer_figures(self, company, today):
        """Temporary table ``collection_segment_figures``: for each customer
        (commercial partner) invoiced by ``company``, the figures the criteria
        test: promise reliability (a reported payment not found counts as a
        broken promise; NULL when none was judged), average
        days late of the invoices paid in the last 12 months and of those past
        due and still open (NULL without any: a new customer is neither a
        reliable nor a late payer), overdue amount,
        promises broken in the last 90 days, amount invoiced in the last 12
        months (company currency)."""
        self.env.flush_all()
        receivable = self.env["collection.receivable"]
        year_ago = today - timedelta(days=365)
        self.env.cr.execute(
            SQL(
                """
                CREATE TEMPORARY TABLE collection_segment_figures ON COMMIT DROP AS
                WITH moves AS (
                    SELECT m.commercial_partner_id AS partner_id,
                           SUM(CASE WHEN m.invoice_date > %(year_ago)s
                                    THEN m.amount_total_signed ELSE 0 END) AS invoiced,
                           SUM(CASE WHEN %(open)s AND m.collection_date_due < %(today)s
                                    THEN m.amount_residual_signed ELSE 0 END) AS overdue
                      FROM account_move m
                     WHERE m.company_id = %(company)s
                       AND m.move_type = 'out_invoice'
                       AND m.state = 'posted'
                  GROUP BY m.commercial_partner_id
                ), late AS (
                    SELECT partner_id,
                           SUM(amount * days) / NULLIF(SUM(amount), 0) AS days_late
                      FROM (%(late)s) AS late_invoices
                  GROUP BY partner_id
                ), promises AS (
                    SELECT partner_id,
                           COUNT(*) FILTER (WHERE state = 'kept') AS kept,
                           COUNT(*) FILTER (WHERE state IN ('kept', 'broken')) AS judged,
                           COUNT(*) FILTER (WHERE state = 'broken'
                                              AND date_closed > %(quarter_ago)s) AS broken
                      FROM collection_promise
                     WHERE company_id = %(company)s
                  GROUP BY partner_id
                ), claims AS (
                    SELECT partner_id, COUNT(*) AS not_found
                      FROM collection_payment_claim
                     WHERE company_id = %(company)s AND state = 'rejected'
                  GROUP BY partner_id
                )
                SELECT moves.partner_id, moves.invoiced, moves.overdue,
                       late.days_late,
                       100.0 * COALESCE(promises.kept, 0)
                       / NULLIF(COALESCE(promises.judged, 0)
                                + COALESCE(claims.not_found, 0), 0) AS reliability,
                       COALESCE(promises.broken, 0) AS broken
                  FROM moves
             LEFT JOIN late ON late.partner_id = moves.partner_id
             LEFT JOIN promises ON promises.partner_id = moves.partner_id
             LEFT JOIN claims ON claims.partner_id = moves.partner_id
                """,
                year_ago=year_ago,
                quarter_ago=today - timedelta(days=90),
                today=today,
                company=company.id,
                open=receivable._collection_open_sql("m"),
                late=receivable._collection_late_invoices_sql(
                    today=today, since=year_ago, company=company
                ),
            )
        )


class CollectionSegmentCriterion(models.Model):
    _name = "collection.segment.criterion"
    _description = "Collection Segment Criterion"
    _order = "segment_id, id"

    segment_id = fields.Many2one(
        "collection.segment", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="segment_id.company_id", store=True)
    criterion = fields.Selection(SEGMENT_CRITERIA, required=True)
    operator = fields.Selection(SEGMENT_OPERATORS, required=True, default=">=")
    value = fields.Float(required=True, digits=(16, 2))

    @api.constrains("criterion", "value")
    def _check_value(self):
        for line in self:
            if line.value < 0 or (line.criterion == "reliability" and line.value > 100):
                raise ValidationError(
                    self.env._(
                        "The value of the criterion '%(criterion)s' of segment "
                        "'%(segment)s' is out of range.",
                        criterion=dict(
                            self._fields["criterion"]._description_selection(self.env)
                        )[line.criterion],
                        segment=line.segment_id.display_name,
                    )
                )

    def _collection_condition(self, alias):
        """SQL: all the criteria hold for the row ``alias`` of the figures table
        (a customer without judged promises has no reliability: a criterion on
        it does not hold)."""
        conditions = [
            SQL(
                "%s %s %s",
                SQL.identifier(alias, line.criterion),
                SQL(line.operator),
                line.value,
            )
            for line in self
            if line.criterion in dict(SEGMENT_CRITERIA)
            and line.operator in dict(SEGMENT_OPERATORS)
        ]
        return SQL(" AND ").join(conditions) if conditions else SQL("TRUE")
