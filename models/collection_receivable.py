"""The receivable rules that the daily run, the aging, the KPIs, the worklist and
the dashboard share, each written once: which invoice the collection process
follows, its salesperson and its policy, the receivable items open on a date,
the aging buckets and the customer's balance."""

from datetime import date, timedelta
from itertools import pairwise

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL, format_amount, format_date

# payment states in which an invoice is still followed by the collection process
COLLECTION_OPEN_PAYMENT_STATES = ("not_paid", "partial")
# upper bounds in days of the default aging buckets: not due, 1-30, 31-60, 61-90,
# 91-120, over 120
COLLECTION_AGING_LIMITS = (0, 30, 60, 90, 120)
# why the collection of an invoice is paused, the first winning when two pauses
# end the same day; an exclusion has no end (COLLECTION_PAUSE_FOREVER)
COLLECTION_PAUSE_REASONS = [
    ("excluded", "Excluded from collection"),
    ("plan", "Payment plan"),
    ("dispute", "Disputed"),
    ("claim", "Payment reported"),
    ("promise", "Promised payment"),
]
COLLECTION_PAUSE_FOREVER = date.max
# the promise limits of an invoice whose policy (and company) has none
DEFAULT_PROMISE_MAX_DAYS = 30
DEFAULT_PROMISE_MIN_PERCENT = 10.0
# who acts on each event, in order of preference (the one rule of
# collection.receivable._collection_assignee): "holder" the person the record
# already names (the promise's, the plan's, the policy's legal responsible),
# "salesperson" the customer's active salesperson, "leader" the team leader of
# the customer's salesperson (active or archived), "company_manager" the
# company's collection manager, "first_manager" the company's first active
# collection manager. "leader", "company_manager" and "first_manager", in that
# order, are who takes over from an archived salesperson.
COLLECTION_TAKEOVER = ("leader", "company_manager", "first_manager")
COLLECTION_ASSIGNEE_ORDER = {
    # the activity of a stage done by the salesperson
    "stage": ("salesperson", *COLLECTION_TAKEOVER),
    # the activity of a stage done by a manager (an escalation): with no team
    # leader nor collection manager set, it stays with the salesperson
    "stage_manager": ("leader", "company_manager", "salesperson", "first_manager"),
    # who follows a promise to pay, and the activity of one made on the portal
    "promise": ("holder", "salesperson", *COLLECTION_TAKEOVER),
    # who follows a payment plan
    "plan": ("holder", "salesperson", *COLLECTION_TAKEOVER),
    # a dispute raised on the portal
    "dispute": ("salesperson", *COLLECTION_TAKEOVER),
    # a payment reported on the portal, and money received not yet matched:
    # the collection manager reconciles
    "payment_claim": ("company_manager", "salesperson", "leader", "first_manager"),
    "unmatched_money": ("company_manager", "salesperson", "leader", "first_manager"),
    # a broken promise to pay, a broken payment plan
    "promise_broken": ("holder", "salesperson", *COLLECTION_TAKEOVER),
    "plan_broken": ("holder", "salesperson", *COLLECTION_TAKEOVER),
    # the to-dos: a customer without email, a customer refused on the portal
    # (too many answers in a day)
    "missing_email": ("salesperson", *COLLECTION_TAKEOVER),
    "daily_limit": ("salesperson", *COLLECTION_TAKEOVER),
    # the legal handover
    "legal": ("holder", "leader", "company_manager", "salesperson", "first_manager"),
}


class CollectionReceivable(models.AbstractModel):
    """Each rule in the forms its callers need: a domain and a predicate for the
    ORM, ``SQL`` fragments for the set-based queries. Where a rule has a Python
    form on ``account.move`` (the salesperson, the policy), the SQL form says the
    same, and a test holds them to it."""

    _name = "collection.receivable"
    _description = "Collection Receivable Rules"

    # -------------------------------------------------------------------------
    # The invoices the collection process follows
    # -------------------------------------------------------------------------

    @api.model
    def _collection_unpaid_domain(self):
        """Domain of the posted customer invoices with something left to pay
        (what contacts and promises to pay are about)."""
        return [
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", COLLECTION_OPEN_PAYMENT_STATES),
        ]

    @api.model
    def _collection_open_domain(self):
        """Domain of the invoices the collection process follows: unpaid, not
        excluded, with an amount left to collect."""
        return [
            *self._collection_unpaid_domain(),
            ("collection_excluded", "=", False),
            ("amount_residual", ">", 0),
        ]

    @api.model
    def _collection_open_sql(self, move="m"):
        """SQL condition on ``move`` (an alias of account_move): the invoice is
        followed (:meth:`_collection_open_domain`)."""
        return SQL(
            """(%(m)s.move_type = 'out_invoice'
                AND %(m)s.state = 'posted'
                AND %(m)s.payment_state IN %(states)s
                AND NOT COALESCE(%(m)s.collection_excluded, FALSE)
                AND %(m)s.amount_residual > 0)""",
            m=SQL.identifier(move),
            states=COLLECTION_OPEN_PAYMENT_STATES,
        )

    @api.model
    def _collection_is_open(self, move):
        """Whether the collection process follows the invoice ``move`` (one
        record, read in memory: :meth:`_collection_open_domain`)."""
        return (
            move.move_type == "out_invoice"
            and move.state == "posted"
            and move.payment_state in COLLECTION_OPEN_PAYMENT_STATES
            and not move.collection_excluded
            and move.company_currency_id.compare_amounts(move.amount_residual, 0) > 0
        )

    @api.model
    def _collection_days_overdue_domain(self, operator, value, today):
        """Domain of the invoices whose days overdue on ``today`` compare with
        ``value`` by ``operator``, as a condition on the due date: an open invoice
        is ``today - collection_date_due`` days overdue (0 when not yet due), any
        other move 0 (``account.move.collection_days_overdue``'s search)."""
        if operator not in ("=", "!=", "<", "<=", ">", ">="):
            raise UserError(
                self.env._(
                    "Days overdue cannot be searched with '%(operator)s'.",
                    operator=operator,
                )
            )
        try:
            days = int(value or 0)
        except (TypeError, ValueError) as error:
            raise UserError(
                self.env._(
                    "Days overdue must be a whole number, not '%(value)s'.", value=value
                )
            ) from error
        is_open = [
            *self._collection_open_domain(),
            ("collection_date_due", "!=", False),
        ]

        def more_than(limit):
            """Domain of the moves more than ``limit`` days overdue."""
            if limit < 0:
                return [expression.TRUE_LEAF]
            return is_open + [
                ("collection_date_due", "<", today - timedelta(days=limit))
            ]

        def negate(domain):
            return ["!", *expression.normalize_domain(domain)]

        if operator == ">":
            return more_than(days)
        if operator == ">=":
            return more_than(days - 1)
        if operator == "<=":
            return negate(more_than(days))
        if operator == "<":
            return negate(more_than(days - 1))
        if days < 0:
            exactly = [expression.FALSE_LEAF]
        elif days == 0:
            exactly = negate(more_than(0))
        else:
            exactly = is_open + [
                ("collection_date_due", "=", today - timedelta(days=days))
            ]
        return exactly if operator == "=" else negate(exactly)

    # -------------------------------------------------------------------------
    # The invoice's salesperson and policy
    # -------------------------------------------------------------------------

    @api.model
    def _collection_invoice_joins(self, move="m", partner=None, alias="rcv"):
        """LEFT JOINs from ``move`` (an alias of account_move) to what the
        invoice's salesperson and policy are read from: add them to the FROM
        clause and read :meth:`_collection_salesperson_sql` and
        :meth:`_collection_policy_sql` with the same ``alias``. They name the
        invoice's partner ``<alias>_partner``, its customer ``<alias>_customer``
        and its company ``<alias>_company``, which the caller may read too
        (rather than join them again).

        :param partner: SQL of the partner the rules start from, by default the
            invoice's; a journal item passes ``COALESCE(m.partner_id,
            l.partner_id)``, so that an entry without partner (an opening balance)
            still has its customer's salesperson and policy.
        """
        m = SQL.identifier(move)
        partner_alias = SQL.identifier(f"{alias}_partner")
        if partner is None:
            partner = SQL("%s.partner_id", m)
            # the invoice keeps its customer: a query that reads the policy
            # only needs no join on the partner (PostgreSQL drops unused
            # LEFT JOINs)
            customer_id = SQL("%s.commercial_partner_id", m)
        else:
            customer_id = SQL("%s.commercial_partner_id", partner_alias)
        return SQL(
            """
            LEFT JOIN res_partner %(partner)s ON %(partner)s.id = %(partner_id)s
            LEFT JOIN res_partner %(customer)s ON %(customer)s.id = %(customer_id)s
            LEFT JOIN res_company %(company)s ON %(company)s.id = %(m)s.company_id
            """,
            m=m,
            partner_id=partner,
            customer_id=customer_id,
            partner=partner_alias,
            customer=SQL.identifier(f"{alias}_customer"),
            company=SQL.identifier(f"{alias}_company"),
        )

    @api.model
    def _collection_salesperson_sql(self, alias="rcv", move="m"):
        """SQL: the salesperson of the invoice ``move``, as ``account.move``'s
        ``_collection_salesperson()``: its own, else its customer's, else its
        contact's, archived users skipped (NULL when none); read from
        :meth:`_collection_invoice_joins`."""
        candidates = [
            SQL("%s.invoice_user_id", SQL.identifier(move)),
            SQL("%s.user_id", SQL.identifier(f"{alias}_customer")),
            SQL("%s.user_id", SQL.identifier(f"{alias}_partner")),
        ]
        return self._collection_active_user_sql(*candidates)

    @api.model
    def _collection_active_user_sql(self, *candidates):
        """SQL: the first of the ``candidates`` (SQL of user ids) that is not
        an archived user, NULL when none."""
        # the archived users are named in the query: PostgreSQL looks a user up
        # in that constant list with a hash, cheaper than joining res_users
        # three times for every journal item
        archived = (
            self.env["res.users"]
            .sudo()
            .with_context(active_test=False)
            .search([("active", "=", False)], order="id")
            .ids
        )
        return SQL(
            "CASE %s END",
            SQL(" ").join(
                SQL(
                    "WHEN %(user)s <> ALL(%(archived)s::integer[]) THEN %(user)s",
                    user=user,
                    archived=archived,
                )
                for user in candidates
            ),
        )

    @api.model
    def _collection_policy_sql(self, alias="rcv"):
        """SQL: the invoice's collection policy (``account.move``'s
        ``collection_policy_id``), read from :meth:`_collection_invoice_joins`."""
        return self._collection_partner_policy_sql(
            f"{alias}_customer", f"{alias}_company"
        )

    @api.model
    def _collection_segment_sql(self, alias="rcv"):
        """SQL: the segment of the invoice's customer (``res.partner``'s
        company-dependent ``collection_segment_id`` for the invoice's company),
        read from :meth:`_collection_invoice_joins`."""
        return self._collection_partner_segment_sql(
            f"{alias}_customer", f"{alias}_company"
        )

    @api.model
    def _collection_partner_segment_sql(self, customer, company):
        """SQL: the segment of the commercial partner ``customer`` in
        ``company`` (aliases of res_partner and res_company), NULL when none.
        Only today's is known (no history is kept of a customer's segment)."""
        return SQL(
            "(%(customer)s.collection_segment_id ->> %(company)s.id::text)::integer",
            customer=SQL.identifier(customer),
            company=SQL.identifier(company),
        )

    @api.model
    def _collection_partner_policy_sql(self, customer, company):
        """SQL: the collection policy of the commercial partner ``customer`` in
        ``company`` (aliases of res_partner and res_company): the customer's own
        when set by hand (company-dependent: its value for the company, when it
        differs from the default set for customers there), else its arm's in a
        running experiment of the company, else its segment's
        (active), else that default, else the company's default policy (NULL
        when none). The Python form is res.partner's
        _collection_effective_policy()."""
        customer, company = SQL.identifier(customer), SQL.identifier(company)
        # values equal to the default are not stored (Odoo keeps the default
        # per company in ir.default), and a stored null means "none"
        fallbacks = self.env["ir.default"]._get_field_column_fallbacks(
            "res.partner", "collection_policy_id"
        )
        key = SQL("%s.id::text", company)
        own = SQL("(%s.collection_policy_id ->> %s)::integer", customer, key)
        fallback = SQL("(%s::jsonb ->> %s)::integer", fallbacks, key)
        # the experiment's arms and the segments' policies are each read once
        # per query, as a map (an uncorrelated subquery, which PostgreSQL runs
        # once: an InitPlan), then looked up for every row the query reads
        # (every invoice and stage of the daily run's selection): a correlated
        # subquery there cost an index scan and a join per row. Left out when
        # no experiment runs or no segment is active, where they could only
        # give NULL.
        arm = segment = SQL("NULL::integer")
        if (
            self.env["collection.experiment"]
            .sudo()
            .search_count([("state", "=", "running")], limit=1)
        ):
            # per company and customer, its arm's policy in the latest running
            # experiment that it is assigned to
            arms = SQL(
                """(SELECT jsonb_object_agg(arm.key, arm.policy_id)
                      FROM (SELECT DISTINCT ON (assignment.company_id,
                                                assignment.partner_id)
                                   assignment.company_id::text || '-'
                                   || assignment.partner_id::text AS key,
                                   CASE WHEN assignment.arm = 'variant'
                                        THEN experiment.variant_policy_id
                                        ELSE experiment.control_policy_id
                                   END AS policy_id
                              FROM collection_experiment_assignment assignment
                              JOIN collection_experiment experiment
                                ON experiment.id = assignment.experiment_id
                             WHERE experiment.state = 'running'
                          ORDER BY assignment.company_id, assignment.partner_id,
                                   experiment.id DESC) arm)"""
            )
            arm = SQL(
                "(%(arms)s ->> (%(key)s || '-' || %(customer)s.id::text))::integer",
                arms=arms,
                key=key,
                customer=customer,
            )
        if self.env["collection.segment"].sudo().search_count([], limit=1):
            # per company and segment (active), its policy
            policies = SQL(
                """(SELECT jsonb_object_agg(
                               segment.company_id::text || '-' || segment.id::text,
                               segment.policy_id)
                      FROM collection_segment segment
                     WHERE segment.active)"""
            )
            segment = SQL(
                """(%(policies)s ->> (%(key)s || '-'
                    || (%(customer)s.collection_segment_id ->> %(key)s)))::integer""",
                policies=policies,
                customer=customer,
                key=key,
            )
        return SQL(
            """COALESCE(
                   CASE WHEN %(customer)s.collection_policy_id ? %(key)s
                         AND %(own)s IS DISTINCT FROM %(fallback)s
                        THEN %(own)s
                   END,
                   %(arm)s,
                   %(segment)s,
                   CASE WHEN %(customer)s.collection_policy_id ? %(key)s
                        THEN %(own)s
                        ELSE %(fallback)s
                   END,
                   %(company)s.collection_policy_id)""",
            customer=customer,
            company=company,
            key=key,
            own=own,
            fallback=fallback,
            arm=arm,
            segment=segment,
        )

    # -------------------------------------------------------------------------
    # What pays an invoice (promises to pay and payment plans)
    # -------------------------------------------------------------------------

    @api.model
    def _collection_pays_sql(self, counterpart_move="pm"):
        """SQL condition on ``counterpart_move`` (an alias of account_move: the
        other side of a matching with an invoice's receivable item): the
        matching pays the invoice. Money pays (a payment, a bank statement
        line, a journal entry: ``move_type = 'entry'``); a credit note or
        another invoice does not (it reduces what is owed)."""
        return SQL("(%s.move_type = 'entry')", SQL.identifier(counterpart_move))

    @api.model
    def _collection_pays(self, counterpart_move):
        """Whether a matching with ``counterpart_move`` (one record) pays the
        invoice (:meth:`_collection_pays_sql`)."""
        return counterpart_move.move_type == "entry"

    @api.model
    def _collection_payments_sql(self):
        """SQL selecting what paid the customer invoices: one row per matching
        of an invoice's receivable item with money (:meth:`_collection_pays_sql`),
        ``move_id`` (the invoice), ``date`` (the matching's date) and
        ``amount`` (in the invoice's currency). Join it on ``move_id``."""
        return SQL(
            """
            SELECT il.move_id, apr.max_date AS date,
                   apr.debit_amount_currency AS amount
              FROM account_partial_reconcile apr
              JOIN account_move_line il
                ON il.id = apr.debit_move_id
               AND il.display_type = 'payment_term'
              JOIN account_move_line pl ON pl.id = apr.credit_move_id
              JOIN account_move pm ON pm.id = pl.move_id
             WHERE %s
            """,
            self._collection_pays_sql("pm"),
        )

    @api.model
    def _collection_payments(self, moves):
        """``[(invoice, date, amount)]``: what paid ``moves``, read in memory
        (:meth:`_collection_payments_sql`)."""
        return [
            (line.move_id, partial.max_date, partial.debit_amount_currency)
            for line in moves.line_ids
            if line.display_type == "payment_term"
            for partial in line.matched_credit_ids
            if self._collection_pays(partial.credit_move_id.move_id)
        ]

    @api.model
    def _collection_commitment_verdict(self, moves, amount, paid, currency):
        """What a commitment to pay ``amount`` of ``moves`` (a promise, a
        payment plan) comes to, given ``paid`` (what paid them in its window,
        :meth:`_collection_payments_sql`): ``'kept'``, ``'cancelled'``, or
        ``False`` while not met.

        - cancelled when none of the invoices is posted any more, or when all
          are reversed (settled by credit notes alone: nothing was paid);
        - kept when ``paid`` reaches ``amount``, less what credit notes took
          off: a credit note is not a payment, but what it credits is no longer
          owed, so the commitment never asks more than ``paid`` plus what the
          invoices still owe (kept once nothing is owed, unless reversed).
        """
        moves = moves.exists().filtered(lambda m: m.state == "posted")
        if not moves or all(m.payment_state == "reversed" for m in moves):
            return "cancelled"
        owed = sum(moves.mapped("amount_residual"))
        due = min(amount, paid + max(owed, 0.0))
        if currency.compare_amounts(paid, due) >= 0:
            return "kept"
        return False

    # -------------------------------------------------------------------------
    # Who acts
    # -------------------------------------------------------------------------

    @api.model
    def _collection_assignee(
        self, event, move=None, partner=None, company=None, holder=None
    ):
        """Who acts on ``event`` (a key of ``COLLECTION_ASSIGNEE_ORDER``) about
        the invoice ``move``, else about the customer ``partner`` in
        ``company``: the first of the event's candidates, in its order, that is
        an active internal user allowed in the company. Never an archived,
        inactive or portal user, and nobody only when the company has no active
        collection manager at all. When the customer's salesperson is archived,
        the same person takes over every event that was theirs: their team
        leader, else the company's collection manager, else its first active
        collection manager.

        :param holder: the user the record already names (``"holder"``).
        :return: ``(user, candidate)``, the user (sudo-free, maybe empty) and the
            name of the candidate that gave it (``""`` when none).
        """
        order = COLLECTION_ASSIGNEE_ORDER[event]
        Users = self.env["res.users"]
        if move:
            move.ensure_one()
            company = move.company_id
            customer = move.commercial_partner_id
            salesperson = move._collection_salesperson()
            named = move.invoice_user_id or customer.user_id or move.partner_id.user_id
        else:
            customer = partner.commercial_partner_id
            salesperson = Users
            for user in (customer.user_id, partner.user_id):
                if user and user.active:
                    salesperson = user
                    break
            named = customer.user_id or partner.user_id
        company = company or self.env.company

        def acts(user):
            user = user.sudo()
            return bool(
                user and user.active and not user.share and company in user.company_ids
            )

        def first_manager():
            managers = (
                self.env.ref("account_collections.group_collection_manager")
                .sudo()
                .users
            )
            return managers.filtered(acts).sorted("id")[:1]

        candidates = {
            "holder": lambda: holder or Users,
            "salesperson": lambda: salesperson,
            "leader": lambda: self._collection_team_leader(salesperson or named),
            "company_manager": lambda: company.sudo().collection_manager_id,
            "first_manager": first_manager,
        }
        for name in order:
            user = candidates[name]()[:1]
            if acts(user):
                return Users.browse(user.id), name
        return Users, ""

    @api.model
    def _collection_team_leader(self, user):
        """The leader of ``user``'s sales team; of the team they were last in
        when archived (archiving a user archives their team memberships)."""
        user = user.sudo()
        if not user or user.sale_team_id:
            return user.sale_team_id.user_id
        membership = (
            self.env["crm.team.member"]
            .sudo()
            .with_context(active_test=False)
            .search([("user_id", "=", user.id)], order="id desc", limit=1)
        )
        return membership.crm_team_id.user_id

    # -------------------------------------------------------------------------
    # The receivable items open on a date
    # -------------------------------------------------------------------------

    @api.model
    def _collection_receivable_account_ids(self):
        """Every receivable account, whatever its companies (a short list): the
        queries name them, so that PostgreSQL reads the receivable items through
        the indexes on ``account_id`` rather than the whole journal."""
        accounts = self.env["account.account"].sudo()
        return accounts.search(
            [("account_type", "=", "asset_receivable")], order="id"
        ).ids

    @api.model
    def _collection_receivable_item_sql(self, line, company_ids=None, date_to=None):
        """SQL condition on ``line`` (an alias of account_move_line): a posted
        receivable journal item (of ``company_ids``, dated on or before
        ``date_to``, when given)."""
        line = SQL.identifier(line)
        conditions = [
            SQL(
                "%s.account_id = ANY(%s)",
                line,
                self._collection_receivable_account_ids(),
            ),
            SQL("%s.parent_state = 'posted'", line),
        ]
        if company_ids is not None:
            conditions.append(SQL("%s.company_id = ANY(%s)", line, list(company_ids)))
        if date_to is not None:
            conditions.append(SQL("%s.date <= %s", line, date_to))
        return SQL("(%s)", SQL(" AND ").join(conditions))

    @api.model
    def _collection_matchings_sql(self, date_from, company_ids=None):
        """SQL selecting both sides of the matchings (partial reconciliations)
        dated on or after ``date_from``: ``line_id``, ``amount`` (signed as it
        counts in the item's residual: positive on the debit side, negative on
        the credit side), ``max_date`` and ``debit`` (the debit side)."""
        company = (
            SQL("AND pr.company_id = ANY(%s)", list(company_ids))
            if company_ids is not None
            else SQL()
        )
        return SQL(
            """
            SELECT pr.debit_move_id AS line_id, pr.amount, pr.max_date,
                   TRUE AS debit
              FROM account_partial_reconcile pr
             WHERE pr.max_date >= %(date_from)s %(company)s
             UNION ALL
            SELECT pr.credit_move_id, -pr.amount, pr.max_date, FALSE
              FROM account_partial_reconcile pr
             WHERE pr.max_date >= %(date_from)s %(company)s
            """,
            date_from=date_from,
            company=company,
        )

    @api.model
    def _collection_amount_at_sql(self, line, later):
        """SQL: the open amount of the item ``line`` (an alias of
        account_move_line) at the end of a day: today's residual plus what the
        matchings dated after that day took off it (``later``: their signed sum,
        or NULL). A matching made later does not change a past figure."""
        return SQL("%s.amount_residual + COALESCE(%s, 0)", SQL.identifier(line), later)

    @api.model
    def _collection_open_items_sql(self, date_at, company_ids=None):
        """SQL selecting the receivable items open at the end of ``date_at`` (of
        ``company_ids``, default all): ``id``, ``move_id``, ``company_id``,
        ``partner_id``, ``date``, ``date_maturity`` and ``amount``, the amount
        open then in company currency (negative for payments and credit notes).

        Candidates are the items open now and those matched after ``date_at``
        (an item fully matched on or before it has nothing open then).
        """
        date_after = SQL("%s::date + 1", date_at)
        receivable = self._collection_receivable_item_sql(
            "aml", company_ids, date_to=date_at
        )
        return SQL(
            """
            WITH later AS (
                -- per item, what matchings dated after the day took off it
                SELECT line_id, SUM(amount) AS amount
                  FROM (%(matchings)s) p
              GROUP BY line_id
            )
            SELECT *
              FROM (
                    -- open now and matched on or before the day only: what is
                    -- open then is what is open now (the residual Odoo keeps);
                    -- the condition is that of
                    -- account_move_line__unreconciled_index
                    SELECT aml.id, aml.move_id, aml.company_id, aml.partner_id,
                           aml.date, aml.date_maturity, aml.amount_residual AS amount
                      FROM account_move_line aml
                     WHERE %(receivable)s
                       AND (aml.reconciled IS NULL OR aml.reconciled = false
                            OR aml.reconciled IS NOT true)
                       AND aml.id NOT IN (SELECT line_id FROM later)
                     UNION ALL
                    -- matched (in part or in full) after the day
                    SELECT aml.id, aml.move_id, aml.company_id, aml.partner_id,
                           aml.date, aml.date_maturity, %(amount_at)s
                      FROM later
                      JOIN account_move_line aml ON aml.id = later.line_id
                     WHERE %(receivable)s
                   ) item
             WHERE item.amount != 0
            """,
            matchings=self._collection_matchings_sql(date_after, company_ids),
            receivable=receivable,
            amount_at=self._collection_amount_at_sql("aml", SQL("later.amount")),
        )

    # -------------------------------------------------------------------------
    # Aging buckets
    # -------------------------------------------------------------------------

    @api.model
    def _collection_days_sql(self, today, day):
        """SQL: the days from ``day`` (SQL of a date) to ``today``, negative
        before it. ``today`` is the caller's: the user's today on screens, the
        report's date in reports."""
        return SQL("(%s::date - %s)", today, day)

    @api.model
    def _collection_late_invoices_sql(self, today=None, since=None, company=None):
        """SQL selecting one row per customer invoice whose lateness is known:
        ``partner_id`` (commercial partner), ``amount`` (its total, company
        currency) and ``days`` late. A paid invoice counts the days from its due
        date to its last payment (0 when paid on time), only if that payment is
        after ``since`` when given. With ``today``, an open invoice past its due
        date counts too, with the days it is late so far: a customer who does
        not pay is not an early payer. ``company``: that company's invoices
        only. The average of ``days`` weighted by ``amount`` is the customer's
        average days late (the priority score's history, the segments'
        criterion)."""
        company_sql = SQL("AND m.company_id = %s", company.id) if company else SQL()
        query = SQL(
            """
            SELECT m.commercial_partner_id AS partner_id,
                   m.amount_total_signed AS amount,
                   GREATEST(MAX(apr.max_date) - m.invoice_date_due, 0) AS days
              FROM account_move m
              JOIN account_move_line l
                ON l.move_id = m.id AND l.display_type = 'payment_term'
              JOIN account_partial_reconcile apr ON apr.debit_move_id = l.id
             WHERE m.move_type = 'out_invoice'
               AND m.state = 'posted'
               AND m.payment_state IN ('paid', 'in_payment')
               AND m.invoice_date_due IS NOT NULL
               %(company)s
          GROUP BY m.id
            %(since)s
            """,
            company=company_sql,
            since=SQL("HAVING MAX(apr.max_date) > %s", since) if since else SQL(),
        )
        if today:
            query = SQL(
                """%s
                UNION ALL
                SELECT m.commercial_partner_id, m.amount_total_signed,
                       %s::date - m.invoice_date_due
                  FROM account_move m
                 WHERE m.move_type = 'out_invoice'
                   AND m.state = 'posted'
                   AND m.payment_state IN %s
                   AND m.invoice_date_due < %s
                   %s
                """,
                query,
                today,
                COLLECTION_OPEN_PAYMENT_STATES,
                today,
                company_sql,
            )
        return query

    @api.model
    def _collection_bucket_sql(self, days, limits=COLLECTION_AGING_LIMITS):
        """SQL: the index of the bucket of an item ``days`` old (SQL, see
        :meth:`_collection_days_sql`): 0 up to ``limits[0]`` days, 1 up to
        ``limits[1]``... and ``len(limits)`` beyond the last limit."""
        return SQL("width_bucket(%s - 1, %s::integer[])", days, list(limits))

    @api.model
    def _collection_bucket_labels(self, limits=COLLECTION_AGING_LIMITS):
        """Labels of the buckets defined by ``limits``: 'Not due', '1-30', ...,
        'Over 120'."""
        labels = [
            self.env._("Not due")
            if limits[0] == 0
            else self.env._("Up to %(days)s", days=limits[0])
        ]
        labels += [f"{low + 1}-{high}" for low, high in pairwise(limits)]
        labels.append(self.env._("Over %(days)s", days=limits[-1]))
        return labels

    # -------------------------------------------------------------------------
    # The customer's balance
    # -------------------------------------------------------------------------

    @api.model
    def _collection_balance_sql(self, date_at, company_ids, partner_ids):
        """SQL selecting what the commercial customers ``partner_ids`` owe in
        ``company_ids`` at the end of ``date_at``: their receivable items open
        then (:meth:`_collection_open_items_sql`: invoices, credit notes,
        payments and bank statement lines not yet matched, other entries),
        excluded invoices included, one row per customer, company, move and
        bucket (the default buckets, aged by due date as the aging and the
        statement age them): ``partner_id``, ``company_id``, ``move_id``,
        ``move_type``, ``excluded``, ``bucket``, ``overdue`` (past its due
        date), ``amount`` (company currency)."""
        days = self._collection_days_sql(
            date_at, SQL("COALESCE(item.date_maturity, item.date)")
        )
        return SQL(
            """
            SELECT COALESCE(p.commercial_partner_id, p.id) AS partner_id,
                   item.company_id, item.move_id, m.move_type,
                   COALESCE(m.collection_excluded, FALSE) AS excluded,
                   %(bucket)s AS bucket, %(days)s > 0 AS overdue,
                   SUM(item.amount) AS amount
              FROM (%(items)s) item
              JOIN account_move m ON m.id = item.move_id
              JOIN res_partner p ON p.id = item.partner_id
             WHERE COALESCE(p.commercial_partner_id, p.id) = ANY(%(partners)s)
          GROUP BY 1, 2, 3, 4, 5, 6, 7
            """,
            bucket=self._collection_bucket_sql(days),
            days=days,
            items=self._collection_open_items_sql(date_at, list(company_ids)),
            partners=list(partner_ids),
        )

    @api.model
    def _collection_balance(self, customers, companies, date_at=None):
        """What each of ``customers`` (their commercial partners) owes in each
        of ``companies`` at the end of ``date_at`` (default today): the one rule
        of the customer's balance, read by the portal page, the customer emails,
        the statement and the aging (the statement and the aging's customer row
        read the same items, :meth:`_collection_open_items_sql`).

        The balance is the sum of the customer's receivable items open on that
        day, in company currency: open invoices (partly paid ones for what is
        left, excluded ones too: shown and labelled, counted like the others),
        less its credit notes and payments not yet matched with an invoice.
        Money not yet on the receivable account (a payment waiting for the bank,
        a bank statement line not reconciled) is not in it.

        Superuser: callers show it to the customer it is about, or filter its
        ``moves`` by what their reader may see.

        :return: ``{(commercial partner id, company id): {'total', 'buckets':
            [per default bucket, see :meth:`_collection_bucket_labels`],
            'overdue' (past due), 'invoices' (what the open invoices leave to
            pay), 'excluded' (of which excluded invoices), 'other' (credit notes,
            payments not yet matched and other entries, usually negative),
            'moves': {move id: open amount}, 'invoice_ids': [open invoices,
            excluded ones too], 'excluded_ids'}}``, only for the customers with
            something open; amounts rounded to the company's currency.
        """
        date_at = date_at or fields.Date.context_today(self)
        customers = customers.commercial_partner_id
        if not customers or not companies:
            return {}
        self.env.flush_all()
        rows = self.env.execute_query(
            self._collection_balance_sql(date_at, companies.ids, customers.ids)
        )
        currencies = {company.id: company.currency_id for company in companies}
        count = len(COLLECTION_AGING_LIMITS) + 1
        balances = {}
        for (
            partner,
            company,
            move,
            move_type,
            excluded,
            bucket,
            overdue,
            amount,
        ) in rows:
            balance = balances.setdefault(
                (partner, company),
                {
                    "total": 0.0,
                    "buckets": [0.0] * count,
                    "overdue": 0.0,
                    "invoices": 0.0,
                    "excluded": 0.0,
                    "other": 0.0,
                    "moves": {},
                    "invoice_ids": [],
                    "excluded_ids": [],
                },
            )
            balance["total"] += amount
            balance["buckets"][bucket] += amount
            balance["moves"][move] = balance["moves"].get(move, 0.0) + amount
            if overdue:
                balance["overdue"] += amount
            if move_type == "out_invoice" and amount > 0:
                balance["invoices"] += amount
                if move not in balance["invoice_ids"]:
                    balance["invoice_ids"].append(move)
                if excluded:
                    balance["excluded"] += amount
                    if move not in balance["excluded_ids"]:
                        balance["excluded_ids"].append(move)
            else:
                balance["other"] += amount
        for (_partner, company), balance in balances.items():
            currency = currencies[company]
            for key in ("total", "overdue", "invoices", "excluded", "other"):
                balance[key] = currency.round(balance[key])
            balance["buckets"] = [currency.round(a) for a in balance["buckets"]]
        return balances

    # -------------------------------------------------------------------------
    # Until when the collection of an invoice is paused, and why
    # -------------------------------------------------------------------------

    @api.model
    def _collection_pause_sql(self, today, move="m"):
        """SQL selecting the pause of the invoice ``move`` (an alias of
        account_move) on ``today``, one row or none: ``until`` (the last day
        paused, ``today`` or later) and ``reason`` (a key of
        ``COLLECTION_PAUSE_REASONS``). The SQL form of :meth:`_collection_pauses`,
        which says what pauses an invoice."""
        m = SQL.identifier(move)
        return SQL(
            """
            SELECT pause.until, pause.reason
              FROM (
                    SELECT %(forever)s::date AS until,
                           'excluded'::varchar AS reason, 0 AS rank
                     WHERE COALESCE(%(m)s.collection_excluded, FALSE)
                 UNION ALL
                    SELECT GREATEST(%(today)s::date, MIN(pause_inst.date)), 'plan', 1
                      FROM collection_plan_account_move_rel pause_plan_rel
                      JOIN collection_plan pause_plan
                        ON pause_plan.id = pause_plan_rel.plan_id
                       AND pause_plan.state = 'open'
                 LEFT JOIN collection_plan_installment pause_inst
                        ON pause_inst.plan_id = pause_plan.id
                       AND pause_inst.state != 'paid'
                     WHERE pause_plan_rel.move_id = %(m)s.id
                    HAVING COUNT(*) > 0
                 UNION ALL
                    SELECT MAX(pause_dispute.paused_until), 'dispute', 2
                      FROM collection_dispute pause_dispute
                     WHERE pause_dispute.move_id = %(m)s.id
                       AND pause_dispute.state = 'open'
                       AND pause_dispute.paused_until >= %(today)s
                    HAVING COUNT(*) > 0
                 UNION ALL
                    SELECT MAX(pause_claim.paused_until), 'claim', 3
                      FROM collection_payment_claim_account_move_rel pause_claim_rel
                      JOIN collection_payment_claim pause_claim
                        ON pause_claim.id = pause_claim_rel.claim_id
                     WHERE pause_claim_rel.move_id = %(m)s.id
                       AND pause_claim.state = 'open'
                       AND pause_claim.paused_until >= %(today)s
                    HAVING COUNT(*) > 0
                 UNION ALL
                    SELECT MAX(pause_promise.promised_date), 'promise', 4
                      FROM collection_promise_account_move_rel pause_promise_rel
                      JOIN collection_promise pause_promise
                        ON pause_promise.id = pause_promise_rel.promise_id
                     WHERE pause_promise_rel.move_id = %(m)s.id
                       AND pause_promise.state = 'open'
                       AND pause_promise.promised_date >= %(today)s
                    HAVING COUNT(*) > 0
                   ) pause
          ORDER BY pause.until DESC, pause.rank
             LIMIT 1
            """,
            m=m,
            today=today,
            forever=COLLECTION_PAUSE_FOREVER,
        )

    @api.model
    def _collection_paused_until_sql(self, today, move="m"):
        """SQL: the last day the collection of the invoice ``move`` (an alias
        of account_move) is paused, ``today`` or later, NULL when it is not
        paused on ``today`` (:meth:`_collection_pause_sql`)."""
        return SQL(
            "(SELECT p.until FROM (%s) p)", self._collection_pause_sql(today, move)
        )

    @api.model
    def _collection_pauses(self, moves, today=None):
        """``{move id: (until, reason)}`` of the invoices among ``moves`` whose
        collection is paused on ``today`` (default the user's today): the daily
        run executes none of their stages, sends them no reminder, and their
        next collection date is the day after ``until``. One rule, the latest
        pause winning (ties in the order of ``COLLECTION_PAUSE_REASONS``):

        - ``excluded``: excluded from collection, with no end
          (``COLLECTION_PAUSE_FOREVER``);
        - ``plan``: covered by an open payment plan, until its next installment
          still to pay (today while one is late and the plan not judged yet);
        - ``dispute``: an open dispute from the portal, until its pause ends;
        - ``claim``: an open payment claim of the customer that pauses the
          reminders (``paused_until`` set), until that day;
        - ``promise``: an open promise to pay, until its promised date (a
          promise whose date passed is judged, it no longer pauses).

        The SQL form is :meth:`_collection_pause_sql`; a test holds them equal.
        """
        today = today or fields.Date.context_today(self)
        moves = moves.sudo().filtered("id")
        ranks = {
            reason: rank for rank, (reason, _l) in enumerate(COLLECTION_PAUSE_REASONS)
        }
        found = {}

        def add(move_id, until, reason):
            key = (until, -ranks[reason])
            if move_id not in found or key > found[move_id][0]:
                found[move_id] = (key, reason)

        if not moves:
            return {}
        for move in moves.filtered("collection_excluded"):
            add(move.id, COLLECTION_PAUSE_FOREVER, "excluded")
        plans = (
            self.env["collection.plan"]
            .sudo()
            .search([("move_ids", "in", moves.ids), ("state", "=", "open")])
        )
        plan_dates = {}
        for plan in plans:
            dates = plan.installment_ids.filtered(lambda i: i.state != "paid").mapped(
                "date"
            )
            for move_id in plan.move_ids.ids:
                plan_dates.setdefault(move_id, []).extend(dates)
        for move_id, dates in plan_dates.items():
            add(move_id, max(today, min(dates, default=today)), "plan")
        disputes = (
            self.env["collection.dispute"]
            .sudo()
            .search(
                [
                    ("move_id", "in", moves.ids),
                    ("state", "=", "open"),
                    ("paused_until", ">=", today),
                ]
            )
        )
        for dispute in disputes:
            add(dispute.move_id.id, dispute.paused_until, "dispute")
        claims = (
            self.env["collection.payment.claim"]
            .sudo()
            .search(
                [
                    ("move_ids", "in", moves.ids),
                    ("state", "=", "open"),
                    ("paused_until", ">=", today),
                ]
            )
        )
        for claim in claims:
            for move_id in claim.move_ids.ids:
                add(move_id, claim.paused_until, "claim")
        promises = (
            self.env["collection.promise"]
            .sudo()
            .search(
                [
                    ("move_ids", "in", moves.ids),
                    ("state", "=", "open"),
                    ("promised_date", ">=", today),
                ]
            )
        )
        for promise in promises:
            for move_id in promise.move_ids.ids:
                add(move_id, promise.promised_date, "promise")
        wanted = set(moves.ids)
        return {
            move_id: (key[0], reason)
            for move_id, (key, reason) in found.items()
            if move_id in wanted
        }

    @api.model
    def _collection_pause_labels(self):
        """``{reason: label}`` of ``COLLECTION_PAUSE_REASONS``, translated."""
        return {
            "excluded": self.env._("Excluded from collection"),
            "plan": self.env._("Payment plan"),
            "dispute": self.env._("Disputed"),
            "claim": self.env._("Payment reported"),
            "promise": self.env._("Promised payment"),
        }

    # -------------------------------------------------------------------------
    # What a customer may promise
    # -------------------------------------------------------------------------

    @api.model
    def _collection_promise_limits(self, moves, today=None):
        """The limits of a promise to pay ``moves`` made on ``today`` (default
        the user's today), one rule for the portal, Log a Contact and the
        promise itself. Each invoice's limits are its collection policy's, else
        its company's default policy's, else the addon's defaults
        (``DEFAULT_PROMISE_MAX_DAYS``, ``DEFAULT_PROMISE_MIN_PERCENT``); a
        promise on several invoices keeps the strictest (the shortest horizon,
        the largest share). Returns a dict: ``max_days``, ``last_date`` (the
        latest payment date allowed), ``min_percent``, ``due`` (the open amount
        of the invoices, in their currency), ``minimum`` (the smallest amount
        allowed: ``min_percent`` of ``due``), ``currency`` and the policies the
        two limits come from (``days_policy``, ``percent_policy``, empty for
        the defaults)."""
        today = today or fields.Date.context_today(self)
        moves = moves.sudo()
        Policy = self.env["collection.policy"]
        max_days, min_percent = None, None
        days_policy = percent_policy = Policy
        for move in moves:
            policy = (
                move.with_company(move.company_id).collection_policy_id
                or move.company_id.collection_policy_id
            )
            days = policy.promise_max_days if policy else DEFAULT_PROMISE_MAX_DAYS
            percent = (
                policy.promise_min_percent if policy else DEFAULT_PROMISE_MIN_PERCENT
            )
            if max_days is None or days < max_days:
                max_days, days_policy = days, policy
            if min_percent is None or percent > min_percent:
                min_percent, percent_policy = percent, policy
        if max_days is None:
            max_days, min_percent = (
                DEFAULT_PROMISE_MAX_DAYS,
                DEFAULT_PROMISE_MIN_PERCENT,
            )
        currency = moves.currency_id[:1] or self.env.company.currency_id
        due = sum(moves.mapped("amount_residual"))
        return {
            "max_days": max_days,
            "last_date": today + timedelta(days=max_days),
            "min_percent": min_percent,
            "due": due,
            "minimum": currency.round(due * min_percent / 100.0),
            "currency": currency,
            "days_policy": days_policy,
            "percent_policy": percent_policy,
        }

    @api.model
    def _collection_promise_problems(self, moves, promised_date, amount, today=None):
        """Why a promise to pay ``amount`` of ``moves`` by ``promised_date``,
        made on ``today``, is beyond the limits of
        :meth:`_collection_promise_limits`: a list of texts naming the limit
        broken (empty when within them)."""
        limits = self._collection_promise_limits(moves, today)
        currency = limits["currency"]
        problems = []
        if promised_date and promised_date > limits["last_date"]:
            problems.append(
                self.env._(
                    "The payment date %(date)s is more than %(days)s days away: the "
                    "latest date allowed is %(last)s.",
                    date=format_date(self.env, promised_date),
                    days=limits["max_days"],
                    last=format_date(self.env, limits["last_date"]),
                )
            )
        if currency.compare_amounts(amount or 0.0, limits["minimum"]) < 0:
            percent = f"{limits['min_percent']:g}"
            problems.append(
                self.env._(
                    "The promised amount %(amount)s is less than the minimum of "
                    "%(minimum)s (%(percent)s%% of the amount due, %(due)s).",
                    amount=format_amount(self.env, amount or 0.0, currency),
                    minimum=format_amount(self.env, limits["minimum"], currency),
                    percent=percent,
                    due=format_amount(self.env, limits["due"], currency),
                )
            )
        return problems

    # -------------------------------------------------------------------------
    # When the customer is expected to pay
    # -------------------------------------------------------------------------

    @api.model
    def _collection_expected_payment_sql(
        self, today, partner, company, date_due, avg_days_late
    ):
        """SQL: the day the customer ``partner`` (SQL of a commercial partner
        id) is expected to pay in ``company``, never before ``today``: the
        first date it committed to (its open promises to pay, the installments
        still to pay of its open payment plans), else its oldest open due date
        ``date_due`` moved by its average days late ``avg_days_late``. The one
        rule of the worklists' *Expected Payment*."""
        return SQL(
            """
            GREATEST(%(today)s::date, COALESCE(
                LEAST(
                    (SELECT MIN(ep.promised_date)
                       FROM collection_promise ep
                      WHERE ep.state = 'open'
                        AND ep.partner_id = %(partner)s
                        AND ep.company_id = %(company)s),
                    (SELECT MIN(ei.date)
                       FROM collection_plan_installment ei
                       JOIN collection_plan epl ON epl.id = ei.plan_id
                      WHERE epl.state = 'open'
                        AND ei.state != 'paid'
                        AND epl.partner_id = %(partner)s
                        AND epl.company_id = %(company)s)
                ),
                %(date_due)s + ROUND(COALESCE(%(avg)s, 0))::integer
            ))
            """,
            today=today,
            partner=partner,
            company=company,
            date_due=date_due,
            avg=avg_days_late,
        )

    # -------------------------------------------------------------------------
    # Money received and not yet matched
    # -------------------------------------------------------------------------

    @api.model
    def _collection_unmatched_money_sql(self, partner_ids=None, company_ids=None):
        """SQL selecting, per commercial customer and company, the money it sent
        that is not yet matched with its invoices (``partner_id``, ``company_id``,
        ``amount`` > 0, in company currency):

        - the open part of the receivable items of its payments and bank
          statement lines (posted payments not fully reconciled, lines reconciled
          with the receivable account but not with an invoice);
        - its posted incoming payments without a journal entry still in process;
        - its incoming bank statement lines not yet reconciled.

        Filtered on the commercial ``partner_ids`` and ``company_ids`` when given.
        """

        def partner_filter(partner):
            if partner_ids is None:
                return SQL()
            return SQL("AND %s = ANY(%s)", partner, list(partner_ids))

        def company_filter(column):
            if company_ids is None:
                return SQL()
            return SQL("AND %s = ANY(%s)", column, list(company_ids))

        customer = SQL("COALESCE(p.commercial_partner_id, p.id)")
        return SQL(
            """
            SELECT partner_id, company_id, SUM(amount) AS amount
              FROM (
                    -- receivable items of payments and statement lines, open
                    SELECT %(customer)s AS partner_id, aml.company_id,
                           -aml.amount_residual AS amount
                      FROM account_move_line aml
                      JOIN account_move m ON m.id = aml.move_id
                      JOIN res_partner p ON p.id = aml.partner_id
                     WHERE %(receivable)s
                       AND aml.amount_residual < 0
                       AND NOT COALESCE(aml.reconciled, FALSE)
                       AND (m.origin_payment_id IS NOT NULL
                            OR m.statement_line_id IS NOT NULL)
                       %(partner_aml)s
                 UNION ALL
                    -- payments without journal entry, waiting for the bank
                    SELECT %(customer)s, pay.company_id,
                           pay.amount_company_currency_signed
                      FROM account_payment pay
                      JOIN res_partner p ON p.id = pay.partner_id
                     WHERE pay.move_id IS NULL
                       AND pay.state = 'in_process'
                       AND pay.payment_type = 'inbound'
                       AND pay.partner_type = 'customer'
                       %(company_pay)s %(partner_pay)s
                 UNION ALL
                    -- incoming bank statement lines not reconciled yet: their
                    -- open part, in company currency (the liquidity line's)
                    SELECT %(customer)s, st.company_id,
                           liq.balance * (-st.amount_residual / st.amount)
                      FROM account_bank_statement_line st
                      JOIN account_move m ON m.id = st.move_id AND m.state = 'posted'
                      JOIN account_journal j ON j.id = m.journal_id
                      JOIN account_move_line liq
                        ON liq.move_id = m.id AND liq.account_id = j.default_account_id
                      JOIN res_partner p ON p.id = st.partner_id
                     WHERE NOT COALESCE(st.is_reconciled, FALSE)
                       AND st.amount > 0
                       %(company_st)s %(partner_st)s
                   ) money
          GROUP BY partner_id, company_id
            HAVING SUM(amount) > 0
            """,
            customer=customer,
            receivable=self._collection_receivable_item_sql("aml", company_ids),
            partner_aml=partner_filter(customer),
            company_pay=company_filter(SQL("pay.company_id")),
            partner_pay=partner_filter(customer),
            company_st=company_filter(SQL("st.company_id")),
            partner_st=partner_filter(customer),
        )

    @api.model
    def _collection_unmatched_money(self, partners=None, companies=None):
        """``{(commercial partner id, company id): amount}`` of the money the
        customers sent that is not matched yet (see
        :meth:`_collection_unmatched_money_sql`), in one query."""
        self.env.flush_all()
        rows = self.env.execute_query(
            self._collection_unmatched_money_sql(
                partners.commercial_partner_id.ids if partners is not None else None,
                companies.ids if companies is not None else None,
            )
        )
        return {(partner, company): amount for partner, company, amount in rows}
