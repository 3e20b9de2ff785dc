"""Customer segments: the first matching segment of a company, by sequence, gives
its customers their collection policy (a policy set by hand on the customer
wins). The daily run re-evaluates them set-based: one query for the customers'
figures, one per segment."""

import logging
from datetime import timedelta

import psycopg2
from markupsafe import Markup

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, mute_logger
from odoo.tools.safe_eval import safe_eval

from .collection_tools import log_failure

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
# set by the system: whoever last wrote the customer domain (or the company)
SEGMENT_SYSTEM_FIELDS = {"domain_user_id"}
# writing these makes the writer the author of the domain
DOMAIN_AUTHOR_FIELDS = {"partner_domain", "company_id"}


class CollectionSegment(models.Model):
    _name = "collection.segment"
    _description = "Collection Customer Segment"
    _inherit = ["mail.thread", "collection.system.fields"]
    # who wrote the domain, whose rights evaluate it: the system's
    _collection_system_fields = frozenset({"domain_user_id"})
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
    domain_user_id = fields.Many2one(
        "res.users",
        string="Domain Author",
        readonly=True,
        copy=False,
        help="Who last wrote the customer domain (or the company) of the segment: "
        "the domain is evaluated with their rights, in the segment's company.",
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

    @api.model_create_multi
    def create(self, vals_list):
        self._collection_check_system_fields(vals_list)
        # given explicitly: no default (the context's, ir.default) stands in
        return super().create(
            [{**vals, "domain_user_id": self.env.uid} for vals in vals_list]
        )

    def write(self, vals):
        self._collection_check_system_fields([vals])
        if DOMAIN_AUTHOR_FIELDS.intersection(vals):
            vals = {**vals, "domain_user_id": self.env.uid}
        return super().write(vals)

    @api.model
    def _collection_check_system_fields(self, vals_list):
        if any(SEGMENT_SYSTEM_FIELDS.intersection(vals) for vals in vals_list):
            raise AccessError(
                self.env._(
                    "The author of a segment's customer domain is set by the "
                    "system: whoever last wrote the domain or the segment's company."
                )
            )

    @api.constrains("partner_domain", "company_id", "domain_user_id")
    def _check_partner_domain(self):
        """A domain is run when it is saved, with its author's rights: one that
        its author may not evaluate, or that the database refuses, is not
        saved."""
        for segment in self:
            try:
                query = segment._collection_domain_query()
                if query is not None:
                    with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                        self.env.execute_query(
                            SQL("SELECT EXISTS(%s)", query.subselect())
                        )
            except ValidationError:
                raise
            except psycopg2.OperationalError:
                raise
            except Exception as error:  # noqa: BLE001 - any failure is a bad domain
                raise ValidationError(
                    segment._collection_domain_error(error)
                ) from error

    def _collection_domain_error(self, error):
        return self.env._(
            "The customer domain of segment '%(segment)s' is not valid: %(error)s",
            segment=self.display_name,
            error=error,
        )

    def _collection_domain(self):
        """The segment's customer domain, parsed: a list (a clear error
        otherwise)."""
        self.ensure_one()
        try:
            domain = safe_eval(self.partner_domain or "[]")
            if not isinstance(domain, list | tuple):
                raise ValueError(self.partner_domain)
        except Exception as error:  # noqa: BLE001 - any failure is a bad domain
            raise ValidationError(self._collection_domain_error(error)) from error
        return list(domain)

    def _collection_domain_query(self):
        """The customers the segment's domain admits, as a query built with the
        rights of the domain's author in the segment's company (None when the
        domain admits every customer). Raises when the author may not evaluate
        it: nobody else's rights stand in for theirs."""
        self.ensure_one()
        domain = self._collection_domain()
        if not domain:
            return None
        partners = self._collection_domain_partners()
        self._collection_check_domain_fields(partners, domain)
        return partners._search(domain)

    def _collection_domain_partners(self):
        """``res.partner`` as the author of the domain sees it in the segment's
        company: their access rights, record rules and field groups."""
        self.ensure_one()
        segment_sudo = self.sudo()
        author = segment_sudo.domain_user_id
        company = segment_sudo.company_id
        partners = self.env["res.partner"].with_context(active_test=False)
        if author.id == SUPERUSER_ID:
            # written by the system itself (data files, the shell, an upgrade),
            # never by a user's request: trusted as the code is
            return partners.sudo().with_company(company)
        if not (
            author.active
            and not author.share
            and company in author.company_ids
            and author.has_group(MANAGER_GROUP)
        ):
            raise UserError(
                self.env._(
                    "The customer domain of segment '%(segment)s' is evaluated with "
                    "the rights of its author (%(author)s), who is not a collection "
                    "manager of %(company)s: a collection manager of %(company)s "
                    "must save the domain again.",
                    segment=segment_sudo.display_name,
                    author=author.name or self.env._("nobody"),
                    company=company.name,
                )
            )
        return partners.with_user(author).with_context(allowed_company_ids=company.ids)

    @api.model
    def _collection_check_domain_fields(self, model, domain):
        """Refuse a domain on a field that the user of ``model``'s environment may
        not read, or through a relation whose records Odoo does not check
        against their rights (``auto_join``)."""
        for leaf in domain:
            if not isinstance(leaf, list | tuple) or len(leaf) != 3:
                continue
            path, operator, value = leaf
            current = model
            names = str(path).split(".")
            for position, name in enumerate(names):
                field = current._fields.get(name)
                if field is None:
                    break  # not a field (a date's granularity): _search decides
                through = position < len(names) - 1 or operator in ("any", "not any")
                if not field.is_accessible(current.env) or (
                    field.relational and through and field.auto_join
                ):
                    raise AccessError(
                        self.env._(
                            "The field %(field)s cannot be used in a segment's "
                            "customer domain.",
                            field=".".join([current._name, name]),
                        )
                    )
                if not field.relational:
                    break
                current = current.env[field.comodel_name]
                last = position == len(names) - 1
                if (
                    last
                    and operator in ("any", "not any")
                    and isinstance(value, list | tuple)
                ):
                    self._collection_check_domain_fields(current, value)

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
        changed, failed = self.sudo()._collection_evaluate_segments(companies)
        message = self.env._(
            "Segments evaluated: %(count)s customers changed segment.", count=changed
        )
        if failed:
            message = self.env._(
                "%(message)s These segments could not be evaluated (their chatter "
                "says why): %(segments)s.",
                message=message,
                segments=", ".join(failed.mapped("display_name")),
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning" if failed else "success",
                "message": message,
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
        return self._collection_evaluate_segments(companies, today)[0]

    @api.model
    def _collection_evaluate_segments(self, companies, today=None):
        """:meth:`_collection_evaluate`; returns the number of customers that
        changed segment and the segments that could not be evaluated (each
        failure is logged on its segment, which is skipped)."""
        today = today or fields.Date.context_today(self)
        changed = 0
        failed = self.browse()
        for company in companies:
            company_changed, company_failed = self._collection_evaluate_company(
                company, today
            )
            changed += company_changed
            failed |= company_failed
        return changed, failed

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
        failed = self.browse()
        if segments:
            self._collection_customer_figures(company, today)
            for segment in segments:
                try:
                    with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                        rows = segment._collection_members()
                except psycopg2.OperationalError:
                    raise  # a concurrency error: the whole run is retried
                except Exception as error:  # noqa: BLE001 - logged on the segment
                    log_failure(
                        segment,
                        self.env._(
                            "This segment could not be evaluated; its customers "
                            "stay in it until it is fixed:"
                        ),
                        error,
                    )
                    failed |= segment
                    rows = [
                        (partner_id,)
                        for partner_id, segment_id in current.items()
                        if segment_id == segment.id
                    ]
                for (partner_id,) in rows:
                    wanted.setdefault(partner_id, segment.id)
            self.env.cr.execute("DROP TABLE collection_segment_figures")
        changes = {
            partner_id: (current.get(partner_id), wanted.get(partner_id))
            for partner_id in set(current) | set(wanted)
            if current.get(partner_id) != wanted.get(partner_id)
        }
        if not changes:
            return 0, failed
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
        return len(changes), failed

    def _collection_members(self):
        """The rows (partner id) of the figures table that the segment admits:
        its criteria hold and its domain, evaluated as its author, admits them."""
        self.ensure_one()
        condition = self.criterion_ids._collection_condition("fig")
        query = self._collection_domain_query()
        if query is not None:
            condition = SQL("fig.partner_id IN %s AND %s", query.subselect(), condition)
        return self.env.execute_query(
            SQL(
                "SELECT fig.partner_id FROM collection_segment_figures fig WHERE %s",
                condition,
            )
        )

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
