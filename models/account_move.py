import logging
from collections import defaultdict
from datetime import timedelta

import psycopg2
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.tools import SQL, format_date, plaintext2html

from .collection_receivable import COLLECTION_OPEN_PAYMENT_STATES

_logger = logging.getLogger(__name__)

# an invoice whose first stage is reached later than this (days) gets no stale email
COLLECTION_MAIL_MAX_DELAY = 7
# the customer emails list at most this many open invoices (a large debtor has
# hundreds); the others are counted, and the total covers them all
COLLECTION_MAIL_MAX_INVOICES = 20
# activities listed in a user's digest email (the rest are counted): a first run
# over a large portfolio creates thousands per user
COLLECTION_DIGEST_MAX_ACTIVITIES = 200

# written only by the daily run and the collection wizards (with superuser rights,
# after their own rights checks): the ORM's public create/write refuse them
COLLECTION_PROTECTED_FIELDS = (
    "collection_stage_id",
    "collection_excluded",
    "collection_exclusion_reason",
    "collection_error",
    "collection_error_date",
    "collection_date_due",
    "collection_promise_ids",
    "collection_contact_ids",
    "collection_mail_stage_id",
    "collection_mail_held",
    "collection_mail_date",
    "collection_mail_checked_date",
)

# why the customer email an invoice owes was not sent yet
COLLECTION_MAIL_HOLD_REASONS = [
    ("interval", "Minimum interval"),
    ("unmatched", "Money to reconcile"),
    ("no_email", "No email address"),
    ("error", "Sending failed"),
]
COLLECTION_EXCLUSION_REASONS = [
    ("dispute", "Dispute"),
    ("agreement", "Payment Agreement"),
    ("legal", "Legal Action"),
    ("other", "Other"),
]


def without_defaults(records, fnames):
    """``records`` without the context's default values for ``fnames``: a caller's
    context is no way round the fields a user may not set."""
    context = records.env.context
    dropped = {f"default_{fname}" for fname in fnames}.intersection(context)
    if not dropped:
        return records
    # a new environment: with_context() can add keys, not remove them
    return records.with_env(
        records.env(
            context={key: value for key, value in context.items() if key not in dropped}
        )
    )


def run_isolated(records, process, on_error):
    """Run ``process(records)``; if it fails, run it record by record so that one
    record's failure, handed to ``on_error(record, error)``, does not stop the
    others. Each attempt runs in a savepoint: a failed one leaves nothing
    half-written. Concurrency errors are not isolated: the whole call must be
    retried (the scheduler does it)."""
    if not records:
        return
    cr = records.env.cr
    try:
        with cr.savepoint():
            process(records)
        return
    except psycopg2.OperationalError:
        raise
    except Exception:  # noqa: BLE001 - isolate the faulty records below
        _logger.info(
            "Collection run: a step failed on %s %s records, retrying one by one",
            len(records),
            records._name,
        )
    for record in records:
        try:
            with cr.savepoint():
                process(record)
        except psycopg2.OperationalError:
            raise
        except Exception as error:  # noqa: BLE001 - logged on the record
            on_error(record, error)


def log_failure(record, text, error):
    """Log a failure of the run in ``record``'s chatter (``text``, then the error)
    and in the server log. Logging never stops the run: when even the chatter
    cannot be written, the server log keeps it."""
    message = str(error) or error.__class__.__name__
    _logger.warning(
        "Collection run could not process %s %s (id %s): %s",
        record._description,
        record.display_name,
        record.id,
        message,
    )
    try:
        with record.env.cr.savepoint():
            record.sudo()._message_log(
                body=Markup("<p>%s</p><pre>%s</pre>") % (text, message)
            )
    except psycopg2.OperationalError:
        raise
    except Exception as log_error:  # noqa: BLE001 - the server log keeps it
        _logger.warning(
            "Collection run could not log the failure on %s (id %s): %s",
            record.display_name,
            record.id,
            log_error,
        )


class AccountMove(models.Model):
    _inherit = "account.move"

    collection_stage_id = fields.Many2one(
        "collection.stage",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="Last collection stage executed on this invoice.",
        groups="account_collections.group_collection_user",
    )
    # the customer email a stage owes, sent once per customer by the run's
    # mailing step (collection.conversation)
    collection_mail_stage_id = fields.Many2one(
        "collection.stage",
        string="Collection Email Owed",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="Stage whose email to the customer is still to be sent: the next "
        "collection email to the customer includes this invoice.",
        groups="account_collections.group_collection_user",
    )
    collection_mail_held = fields.Selection(
        COLLECTION_MAIL_HOLD_REASONS,
        string="Collection Email Held",
        readonly=True,
        copy=False,
        groups="account_collections.group_collection_user",
    )
    collection_mail_date = fields.Date(
        string="Last Collection Email",
        readonly=True,
        copy=False,
        help="Day of the last collection email to the customer that included this "
        "invoice.",
        groups="account_collections.group_collection_user",
    )
    collection_mail_checked_date = fields.Date(
        string="Collection Email Checked On",
        help="Day the run last held the email this invoice owes, or failed to send "
        "it: it tries again the next day.",
        readonly=True,
        copy=False,
        groups="account_collections.group_collection_user",
    )
    collection_excluded = fields.Boolean(
        string="Excluded from Collection",
        copy=False,
        tracking=True,
        help="Excluded invoices get no collection activity or email.",
        groups="account_collections.group_collection_user",
    )
    collection_date_due = fields.Date(
        string="Collection Due Date",
        compute="_compute_collection_date_due",
        store=True,
        help="Due date the collection run works from: the earliest due date of "
        "the installments still open.",
        groups="account_collections.group_collection_user",
    )
    # not stored: it moves with the calendar, and storing it would rewrite every
    # overdue invoice every day (searchable through the due date instead)
    collection_days_overdue = fields.Integer(
        string="Days Overdue",
        compute="_compute_collection_days_overdue",
        search="_search_collection_days_overdue",
        help="Days since the collection due date of an open invoice (0 when not "
        "due yet or settled).",
        groups="account_collections.group_collection_user",
    )
    collection_policy_id = fields.Many2one(
        "collection.policy",
        compute="_compute_collection_policy_id",
        groups="account_collections.group_collection_user",
    )
    collection_next_stage_id = fields.Many2one(
        "collection.stage",
        string="Next Collection Stage",
        compute="_compute_collection_next_stage",
        groups="account_collections.group_collection_user",
    )
    collection_next_date = fields.Date(
        string="Next Collection Date",
        compute="_compute_collection_next_stage",
        groups="account_collections.group_collection_user",
    )
    collection_error = fields.Text(
        readonly=True,
        copy=False,
        help="Why the last collection run could not process this invoice.",
        groups="account_collections.group_collection_user",
    )
    collection_error_date = fields.Date(
        readonly=True,
        copy=False,
        groups="account_collections.group_collection_user",
    )
    collection_mail_partner_id = fields.Many2one(
        "res.partner",
        string="Collection Email Recipient",
        compute="_compute_collection_mail_partner_id",
        help="Who receives the collection emails of this invoice: the invoice's "
        "contact if it has an email address, else the customer's contact marked "
        "for collections, else the customer.",
        groups="account_collections.group_collection_user",
    )
    collection_open_invoice_ids = fields.Many2many(
        "account.move",
        string="Open Invoices of the Customer",
        compute="_compute_collection_open_invoice_ids",
        help="The customer's posted invoices still to be paid in this company, "
        "listed in the collection emails: the 20 due first (this invoice "
        "always among them).",
        groups="account_collections.group_collection_user",
    )
    collection_open_invoice_count = fields.Integer(
        string="Number of Open Invoices of the Customer",
        compute="_compute_collection_open_invoice_ids",
        groups="account_collections.group_collection_user",
    )
    collection_open_amount = fields.Monetary(
        string="Total Due by the Customer",
        compute="_compute_collection_open_invoice_ids",
        currency_field="currency_id",
        help="What the customer owes on its open invoices in this company, in the "
        "invoice's currency (0 when those invoices are in several currencies).",
        groups="account_collections.group_collection_user",
    )
    collection_exclusion_reason = fields.Selection(
        COLLECTION_EXCLUSION_REASONS,
        string="Exclusion Reason",
        readonly=True,
        copy=False,
        help="Why the invoice was excluded from collection.",
        groups="account_collections.group_collection_user",
    )
    collection_promise_ids = fields.Many2many(
        "collection.promise",
        "collection_promise_account_move_rel",
        "move_id",
        "promise_id",
        string="Promises to Pay",
        readonly=True,
        copy=False,
        groups="account_collections.group_collection_user",
    )
    collection_promise_count = fields.Integer(
        string="Promises",
        compute="_compute_collection_promise_count",
        groups="account_collections.group_collection_user",
    )
    collection_promise_date = fields.Date(
        string="Promised Payment Date",
        compute="_compute_collection_promise_date",
        help="Payment date of the open promise to pay: collection escalation is "
        "paused until then.",
        groups="account_collections.group_collection_user",
    )
    collection_contact_ids = fields.Many2many(
        "collection.contact",
        "collection_contact_account_move_rel",
        "move_id",
        "contact_id",
        string="Collection Contacts",
        readonly=True,
        copy=False,
        groups="account_collections.group_collection_user",
    )
    collection_contact_count = fields.Integer(
        string="Contacts",
        compute="_compute_collection_contact_count",
        groups="account_collections.group_collection_user",
    )

    def init(self):
        res = super().init()
        # the daily run only ever looks at open posted customer invoices
        self.env.execute_query(
            SQL(
                """
                CREATE INDEX IF NOT EXISTS account_move_collection_open_idx
                    ON account_move (company_id, collection_date_due)
                 WHERE move_type = 'out_invoice'
                   AND state = 'posted'
                   AND payment_state IN %s
                """,
                COLLECTION_OPEN_PAYMENT_STATES,
            )
        )
        return res

    # -------------------------------------------------------------------------
    # CRUD: the collection state is not typed in
    # -------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            self._collection_check_protected(vals_list)
            # nor a default from the context (a web client grouped by stage sends
            # one): the fields keep their own
            self = without_defaults(self, COLLECTION_PROTECTED_FIELDS)  # noqa: PLW0642
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            self._collection_check_protected([vals])
        return super().write(vals)

    @api.model
    def _collection_check_protected(self, vals_list):
        """Refuse the collection fields that only the daily run and the collection
        wizards write, whatever the context: escalation cannot be switched off,
        nor its history forged, by writing them."""
        given = {fname for vals in vals_list for fname in vals}
        protected = given.intersection(COLLECTION_PROTECTED_FIELDS)
        if protected:
            raise AccessError(
                self.env._(
                    "The collection fields of an invoice (%(fields)s) are set by the "
                    "daily collection run and by the collection actions (Log a "
                    "Contact, Exclude from Collection, Include in Collection); they "
                    "cannot be written directly.",
                    fields=", ".join(
                        self._fields[fname]._description_string(self.env)
                        for fname in sorted(protected)
                    ),
                )
            )

    # -------------------------------------------------------------------------
    # Computes
    # -------------------------------------------------------------------------

    @api.depends(
        "move_type",
        "invoice_date_due",
        "line_ids.date_maturity",
        "line_ids.amount_residual",
        "line_ids.account_type",
    )
    def _compute_collection_date_due(self):
        for move in self:
            if move.move_type != "out_invoice":
                move.collection_date_due = False
                continue
            open_dates = [
                line.date_maturity
                for line in move.line_ids
                if line.account_type == "asset_receivable"
                and line.date_maturity
                and not line.company_currency_id.is_zero(line.amount_residual)
            ]
            move.collection_date_due = min(open_dates, default=move.invoice_date_due)

    @api.depends("collection_date_due", "state", "payment_state", "collection_excluded")
    def _compute_collection_days_overdue(self):
        today = fields.Date.context_today(self)
        for move in self:
            if move._collection_is_open() and move.collection_date_due:
                move.collection_days_overdue = max(
                    (today - move.collection_date_due).days, 0
                )
            else:
                move.collection_days_overdue = 0

    def _search_collection_days_overdue(self, operator, value):
        """Days overdue compared with ``value``, as a condition on the due date:
        an open invoice is ``today - collection_date_due`` days overdue (0 when
        not yet due), any other move 0."""
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
        today = fields.Date.context_today(self)
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

    @api.depends("company_id", "commercial_partner_id")
    def _compute_collection_policy_id(self):
        for move in self:
            partner = move.commercial_partner_id.with_company(move.company_id)
            move.collection_policy_id = (
                partner.collection_policy_id or move.company_id.collection_policy_id
            )

    @api.depends(
        "collection_stage_id",
        "collection_policy_id",
        "collection_date_due",
        "payment_state",
        "collection_promise_ids.state",
        "collection_promise_ids.promised_date",
    )
    def _compute_collection_next_stage(self):
        for move in self:
            stage = move._collection_is_open() and move._collection_next_stage()
            move.collection_next_stage_id = stage or False
            next_date = (
                stage and move.collection_date_due + timedelta(days=stage.day_offset)
            ) or False
            promised = move._collection_open_promise().promised_date
            if next_date and promised and next_date <= promised:
                # escalation is paused while the promise holds
                next_date = promised + timedelta(days=1)
            move.collection_next_date = next_date

    @api.depends_context("uid", "allowed_company_ids")
    @api.depends("collection_promise_ids")
    def _compute_collection_promise_count(self):
        counts = self._collection_count_by_move("collection.promise")
        for move in self:
            move.collection_promise_count = counts.get(move.id, 0)

    @api.depends("collection_promise_ids.state", "collection_promise_ids.promised_date")
    def _compute_collection_promise_date(self):
        for move in self:
            move.collection_promise_date = move._collection_open_promise().promised_date

    @api.depends_context("uid", "allowed_company_ids")
    @api.depends("collection_contact_ids")
    def _compute_collection_contact_count(self):
        counts = self._collection_count_by_move("collection.contact")
        for move in self:
            move.collection_contact_count = counts.get(move.id, 0)

    def _collection_count_by_move(self, model):
        """``{move_id: count}`` of the ``model`` records (with ``move_ids``) the
        user may read."""
        if not self.ids or not self.env[model].has_access("read"):
            return {}
        groups = self.env[model]._read_group(
            [("move_ids", "in", self.ids)], ["move_ids"], ["__count"]
        )
        return {move.id: count for move, count in groups}

    @api.depends("partner_id.email", "commercial_partner_id.email")
    def _compute_collection_mail_partner_id(self):
        commercial = self.commercial_partner_id
        contacts = self.env["res.partner"].search(
            [
                ("commercial_partner_id", "in", commercial.ids),
                ("collection_mail_contact", "=", True),
                ("email", "!=", False),
            ],
            order="commercial_partner_id, id",
        )
        contact_of = {}
        for contact in contacts:
            contact_of.setdefault(contact.commercial_partner_id, contact)
        for move in self:
            customer = move.commercial_partner_id
            if move.partner_id.email and move.partner_id != customer:
                recipient = move.partner_id
            else:
                recipient = contact_of.get(customer) or (customer.email and customer)
            move.collection_mail_partner_id = recipient or False

    @api.depends_context("uid", "allowed_company_ids")
    @api.depends("commercial_partner_id", "company_id")
    def _compute_collection_open_invoice_ids(self):
        """The customer's open invoices and total, as the reader may see them: all
        of them for the daily run (superuser) writing to the customer, only their
        own for a salesperson limited to their own documents."""
        keys = {(m.commercial_partner_id.id, m.company_id.id) for m in self}
        domain = [
            *self._collection_open_domain(),
            ("commercial_partner_id", "in", [key[0] for key in keys]),
            ("company_id", "in", [key[1] for key in keys]),
        ]
        totals = defaultdict(lambda: [0, 0.0, set()])
        for partner, company, currency, count, amount in self._read_group(
            domain,
            ["commercial_partner_id", "company_id", "currency_id"],
            ["__count", "amount_residual:sum"],
        ):
            total = totals[partner.id, company.id]
            total[0] += count
            total[1] += amount
            total[2].add(currency.id)
        # the first invoices of each customer by due date, in one query
        self.flush_model(
            ["commercial_partner_id", "company_id", "collection_date_due", "name"]
        )
        query = self._search(domain)
        rows = self.env.execute_query(
            SQL(
                """
                SELECT id, commercial_partner_id, company_id
                  FROM (
                        SELECT m.id, m.commercial_partner_id, m.company_id,
                               ROW_NUMBER() OVER (
                                   PARTITION BY m.commercial_partner_id, m.company_id
                                   ORDER BY m.collection_date_due, m.name, m.id
                               ) AS position
                          FROM account_move m
                         WHERE m.id IN %(ids)s
                       ) ranked
                 WHERE position <= %(limit)s
              ORDER BY position
                """,
                ids=query.subselect(),
                limit=COLLECTION_MAIL_MAX_INVOICES,
            )
        )
        first = defaultdict(list)
        for move_id, partner_id, company_id in rows:
            first[partner_id, company_id].append(move_id)
        for move in self:
            key = (move.commercial_partner_id.id, move.company_id.id)
            listed = self.browse(first.get(key, []))
            this = move._origin
            if this.id and this not in listed and this._collection_is_open():
                # this invoice is always listed, in its place by due date
                listed = (listed[: COLLECTION_MAIL_MAX_INVOICES - 1] | this).sorted(
                    lambda m: (m.collection_date_due, m.name, m.id)
                )
            count, amount, currencies = totals.get(key, (0, 0.0, set()))
            move.collection_open_invoice_ids = listed
            move.collection_open_invoice_count = count
            move.collection_open_amount = (
                amount if currencies == {move.currency_id.id} else 0.0
            )

    # -------------------------------------------------------------------------
    # Business rules
    # -------------------------------------------------------------------------

    @api.model
    def _collection_open_domain(self):
        """Domain of the invoices the collection process follows (the rule is
        collection.receivable's)."""
        return self.env["collection.receivable"]._collection_open_domain()

    def _collection_is_open(self):
        """Whether the collection process follows this invoice (the rule is
        collection.receivable's)."""
        self.ensure_one()
        return self.env["collection.receivable"]._collection_is_open(self)

    def _collection_next_stage(self):
        """First stage of the invoice's policy after the last one executed."""
        self.ensure_one()
        current_offset = self.collection_stage_id.day_offset
        return self.collection_policy_id.stage_ids.filtered(
            lambda s: not self.collection_stage_id or s.day_offset > current_offset
        )[:1]

    def _collection_salesperson(self):
        """The invoice's salesperson, else the customer's; archived users don't count.

        collection.receivable's ``_collection_salesperson_sql()`` says the same
        for the set-based queries (a test holds them to it)."""
        self.ensure_one()
        for user in (
            self.invoice_user_id,
            self.commercial_partner_id.user_id,
            self.partner_id.user_id,
        ):
            if user and user.active:
                return user
        return self.env["res.users"]

    def _collection_manager(self, salesperson):
        """Leader of the salesperson's sales team, else the company's collection
        manager; only a user allowed in the invoice's company counts."""
        self.ensure_one()
        leader = salesperson.sale_team_id.user_id
        if leader and leader.active and self.company_id in leader.company_ids:
            return leader
        manager = self.company_id.collection_manager_id
        if manager.active and self.company_id in manager.company_ids:
            return manager
        return self.env["res.users"]

    def _collection_manager_note(self, salesperson, manager):
        """Why the escalation does not go to the salesperson's team leader, when
        the leader is not allowed in the invoice's company (empty otherwise)."""
        self.ensure_one()
        leader = salesperson.sale_team_id.user_id
        if not leader.active or self.company_id in leader.company_ids:
            return ""
        if not manager:
            return self.env._(
                "The team leader %(leader)s is not allowed in company %(company)s, "
                "which has no collection manager.",
                leader=leader.name,
                company=self.company_id.name,
            )
        return self.env._(
            "The team leader %(leader)s is not allowed in company %(company)s: the "
            "escalation goes to the company's collection manager, %(manager)s.",
            leader=leader.name,
            company=self.company_id.name,
            manager=manager.name,
        )

    def _collection_responsible(self, stage):
        """Return the user who gets the stage's activity, and notes explaining a fallback."""
        self.ensure_one()
        salesperson = self._collection_salesperson()
        notes = []
        if stage.responsible == "manager":
            user = self._collection_manager(salesperson)
            note = self._collection_manager_note(salesperson, user)
            if note:
                notes.append(note)
            if not user:
                notes.append(
                    self.env._(
                        "No collection manager is configured (no sales team leader "
                        "and no company collection manager): the escalation stays "
                        "with the salesperson."
                    )
                )
                user = salesperson
        else:
            user = salesperson
        if not user:
            user = (
                self._collection_manager(salesperson)
                or self._collection_fallback_user()
            )
            notes.append(
                self.env._(
                    "The invoice has no active salesperson: the activity goes to %(user)s.",
                    user=user.name,
                )
            )
        return user, notes

    def _collection_fallback_user(self):
        """A person to hold the activity of an invoice without active salesperson
        or manager: the user running the action, else the invoice's author, else
        the company's first collection manager (the scheduler runs as OdooBot, an
        inactive user nobody would see the activity of)."""
        self.ensure_one()
        for user in (self.env.user, self.create_uid):
            if user.active and not user.share:
                return user
        managers = self.env.ref("account_collections.group_collection_manager")
        return (
            managers.sudo()
            .users.filtered(
                lambda u: u.active and not u.share and self.company_id in u.company_ids
            )
            .sorted("id")[:1]
        )

    def _collection_closing_reason(self):
        """Why the collection process no longer follows this invoice (empty if it does)."""
        self.ensure_one()
        if self.state != "posted":
            return self.env._("The invoice is no longer posted.")
        if self.payment_state == "paid":
            return self.env._("The invoice is paid.")
        if self.payment_state == "in_payment":
            return self.env._("The invoice is in payment.")
        if self.payment_state == "reversed":
            return self.env._("The invoice was reversed by a credit note.")
        if self.collection_excluded:
            return self.env._("The invoice was excluded from collection.")
        if not self._collection_is_open():
            return self.env._("The invoice has nothing left to collect.")
        return ""

    def _collection_action_view_invoices(self):
        """Window action on these customer invoices (the form when there is one)."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", self.ids)]
        action["context"] = {"default_move_type": "out_invoice", "create": False}
        if len(self) == 1:
            action.update(views=[(False, "form")], res_id=self.id)
        return action

    def _collection_open_activities(self):
        return (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "account.move"),
                    ("res_id", "in", self.ids),
                    ("collection_stage_id", "!=", False),
                ]
            )
        )

    def _collection_followup_activities(self):
        """Open collection activities of the invoices: the stages' ones and the
        ones for broken promises."""
        return (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "account.move"),
                    ("res_id", "in", self.ids),
                    "|",
                    ("collection_stage_id", "!=", False),
                    ("collection_promise_id", "!=", False),
                ]
            )
        )

    def _collection_open_promise(self):
        """The open promise to pay of the invoice, if any (sudo)."""
        self.ensure_one()
        promises = self.sudo().collection_promise_ids
        return promises.filtered(lambda p: p.state == "open")[:1]

    def _collection_close_settled(self):
        """Mark done the collection activities of invoices no longer followed."""
        activities = self._collection_followup_activities()
        if not activities:
            return
        by_move = activities.grouped("res_id")
        by_reason = defaultdict(lambda: self.env["mail.activity"])
        for move in self.browse(list(by_move)):
            reason = move._collection_closing_reason()
            if reason:
                by_reason[reason] |= by_move[move.id]
        for reason, reason_activities in by_reason.items():
            reason_activities.action_feedback(feedback=reason)

    # -------------------------------------------------------------------------
    # Daily run
    # -------------------------------------------------------------------------

    @api.model
    def _cron_collection_run(self, batch_size=500):
        """Daily collection run: advance open customer invoices to their due stage.

        Each call processes one batch of at most ``batch_size`` invoices and reports
        progress; the cron runner calls again (committing in between) until nothing
        remains, and the last call sends each responsible user one digest email.
        Re-running is harmless: an invoice only moves to a stage later than its
        current one, and the stage is written in the same transaction as its
        activity.
        """
        if not self.env.context.get("lang"):
            # the scheduler gives no language: write the chatter notes in the
            # language of the cron user's company, not in the English source strings
            lang = self.env.company.partner_id.lang or self.env.user.lang
            self = self.with_context(lang=lang)  # noqa: PLW0642
        today = fields.Date.context_today(self)
        companies = self.env["res.company"].search([])
        # computed from today's date: not from a value cached on another day
        self.env["account.move"].invalidate_model(["collection_days_overdue"])
        self._collection_close_stale_activities()
        self.env["collection.promise"]._collection_judge_due(today)
        work = self._collection_due_work(companies.ids, today)
        batch = dict(work[:batch_size])
        processed = self._collection_process_batch(batch) if batch else 0
        remaining = max(len(work) - len(batch), 0)
        _logger.info(
            "Collection run: %s invoices advanced, %s remaining", processed, remaining
        )
        if remaining or (batch and self._collection_due_work(companies.ids, today)):
            # invoices left, or locked by a concurrent run: the run that
            # executes the day's last stages emails the customers
            self.env["ir.cron"]._notify_progress(done=len(batch), remaining=remaining)
            return processed
        # every stage of the day executed: one email per customer, then the digests
        conversation = self.env["collection.conversation"]
        customers = conversation._collection_owed_customers(companies.ids, today)
        mail_batch = customers[:batch_size]
        handled = conversation._collection_mail_customers(mail_batch, today)
        remaining = len(customers) - len(mail_batch)
        _logger.info(
            "Collection run: %s customers emailed or held, %s remaining",
            handled,
            remaining,
        )
        self.env["ir.cron"]._notify_progress(
            done=len(batch) + len(mail_batch), remaining=remaining
        )
        if not remaining:
            self._collection_send_digests()
            self.env["res.partner"]._collection_refresh_payment_history()
        return processed

    @api.model
    def _collection_due_work(self, company_ids, today):
        """Return ``[(move_id, stage_id)]``: for each open invoice whose next stage
        date is reached, the latest stage reached (so that a late start does not
        flood the salesperson with every earlier stage)."""
        self.env.flush_all()
        receivable = self.env["collection.receivable"]
        query = SQL(
            """
            SELECT DISTINCT ON (m.id) m.id, s.id
              FROM account_move m
              %(invoice_joins)s
              JOIN collection_policy pol ON pol.id = %(policy)s AND pol.active
              JOIN collection_stage s ON s.policy_id = pol.id AND s.active
         LEFT JOIN collection_stage cur ON cur.id = m.collection_stage_id
             WHERE %(open)s
               AND m.company_id = ANY(%(company_ids)s)
               AND m.collection_date_due IS NOT NULL
               AND (rcv_company.collection_start_date IS NULL
                    OR m.collection_date_due >= rcv_company.collection_start_date)
               AND m.collection_date_due + s.day_offset <= %(today)s
               AND (cur.id IS NULL OR s.day_offset > cur.day_offset)
               AND (m.collection_error_date IS NULL
                    OR m.collection_error_date < %(today)s)
               AND %(extra)s
          ORDER BY m.id, s.day_offset DESC
            """,
            open=receivable._collection_open_sql("m"),
            invoice_joins=receivable._collection_invoice_joins("m", alias="rcv"),
            policy=receivable._collection_policy_sql("rcv"),
            company_ids=list(company_ids),
            today=today,
            extra=self._collection_due_work_extra_where(today),
        )
        return self.env.execute_query(query)

    @api.model
    def _collection_due_work_extra_where(self, today):
        """Further conditions on ``m`` (account_move) for an invoice to advance:
        no open promise to pay whose date has not passed (escalation paused)."""
        return SQL(
            """
            NOT EXISTS (
                SELECT 1
                  FROM collection_promise_account_move_rel rel
                  JOIN collection_promise p ON p.id = rel.promise_id
                 WHERE rel.move_id = m.id
                   AND p.state = 'open'
                   AND p.promised_date >= %(today)s
            )
            """,
            today=today,
        )

    @api.model
    def _collection_close_stale_activities(self):
        """Close the open collection activities of invoices no longer followed."""
        self.env.flush_all()
        query = SQL(
            """
            SELECT DISTINCT m.id
              FROM mail_activity a
              JOIN account_move m ON m.id = a.res_id
             WHERE a.res_model = 'account.move'
               AND (a.collection_stage_id IS NOT NULL
                    OR a.collection_promise_id IS NOT NULL)
               AND a.active
               AND NOT %s
            """,
            self.env["collection.receivable"]._collection_open_sql("m"),
        )
        move_ids = [row[0] for row in self.env.execute_query(query)]
        if move_ids:
            run_isolated(
                self.browse(move_ids),
                lambda moves: moves._collection_close_settled(),
                lambda move, error: log_failure(
                    move,
                    self.env._(
                        "The collection run could not close the collection "
                        "activities of this invoice; it will try again tomorrow."
                    ),
                    error,
                ),
            )

    @api.model
    def _collection_process_batch(self, stage_by_move_id):
        """Lock and advance a batch of invoices; return how many were advanced.

        Rows locked by a concurrent run are skipped (``SKIP LOCKED``): that run
        advances them. A failure on some invoices only rolls back those invoices.
        """
        locked = self.env.execute_query(
            SQL(
                "SELECT id FROM account_move WHERE id = ANY(%s) ORDER BY id "
                "FOR UPDATE SKIP LOCKED",
                list(stage_by_move_id),
            )
        )
        todo = {row[0]: stage_by_move_id[row[0]] for row in locked}
        if not todo:
            return 0
        try:
            with self.env.cr.savepoint():
                self._collection_execute(todo)
            return len(todo)
        except psycopg2.OperationalError:
            raise
        except Exception:  # noqa: BLE001 - isolate the faulty invoices below
            _logger.info("Collection run: a batch failed, retrying invoice by invoice")
        done = 0
        for move_id, stage_id in todo.items():
            try:
                with self.env.cr.savepoint():
                    self._collection_execute({move_id: stage_id})
                done += 1
            except psycopg2.OperationalError:
                raise
            except Exception as error:  # noqa: BLE001 - logged on the invoice
                self.browse(move_id)._collection_log_error(error)
        return done

    def _collection_write(self, vals):
        """Write collection fields (no accounting field) on posted invoices, with
        superuser rights: the callers checked what the user may do, and the
        chatter says what changed.

        A plain ``write`` on an invoice re-synchronises its tax and payment term
        lines and flags it as manually modified: about 20 ms an invoice, for
        nothing, since collection fields change no journal item. Nor are they
        tracked: skip preparing the tracking of the invoice's tracked fields.
        """
        return (
            self.sudo()
            .with_context(
                skip_invoice_sync=True,
                skip_is_manually_modified=True,
                mail_notrack=True,
            )
            .write(vals)
        )

    def _collection_log_error(self, error):
        """Flag the invoice as failed today (the run retries it tomorrow) and say
        why in its chatter and the server log."""
        self.ensure_one()
        message = str(error) or error.__class__.__name__
        try:
            with self.env.cr.savepoint():
                self._collection_write(
                    {
                        "collection_error": message,
                        "collection_error_date": fields.Date.context_today(self),
                    }
                )
        except psycopg2.OperationalError:
            raise
        except Exception as write_error:  # noqa: BLE001 - the server log says it
            _logger.warning(
                "Collection run could not flag invoice %s (id %s) as failed: %s",
                self.name,
                self.id,
                write_error,
            )
        log_failure(
            self,
            self.env._(
                "The collection run could not process this invoice; it will try "
                "again tomorrow."
            ),
            error,
        )

    def _collection_execute(self, stage_by_move_id):
        """Execute the given stage on each invoice: activity, stage, chatter, email."""
        stages = self.env["collection.stage"].browse(set(stage_by_move_id.values()))
        moves = self.browse(list(stage_by_move_id))
        stage_of = {move: stages.browse(stage_by_move_id[move.id]) for move in moves}
        today = fields.Date.context_today(self)
        model_id = self.env["ir.model"]._get_id("account.move")

        previous = moves._collection_open_activities()
        previous_by_move_user = defaultdict(lambda: self.env["mail.activity"])
        for activity in previous:
            previous_by_move_user[activity.res_id, activity.user_id.id] |= activity

        stage_vals = {
            stage: {
                "activity_type_id": stage.activity_type_id.id,
                "summary": (
                    stage.summary or stage.activity_type_id.summary or stage.name
                ),
                "note": stage.note or stage.activity_type_id.default_note,
                "date_deadline": today,
                "automated": True,
                "collection_stage_id": stage.id,
                "collection_notified": False,
            }
            for stage in stages
        }
        due_labels = {}
        activity_vals, bodies = [], {}
        moved_on = defaultdict(lambda: self.env["mail.activity"])
        superseded = self.env["mail.activity"]
        for move in moves:
            stage = stage_of[move]
            user, notes = move._collection_responsible(stage)
            previous_user = previous_by_move_user[move.id, user.id]
            if previous_user:
                # the user's open collection activity on the invoice moves on to the
                # new stage: closing it and creating another would post a "done"
                # message per activity (about 7 ms each)
                moved_on[stage] |= previous_user[:1]
                superseded |= previous_user[1:]
            else:
                activity_vals.append(
                    {
                        **stage_vals[stage],
                        "res_model_id": model_id,
                        "res_id": move.id,
                        "user_id": user.id,
                    }
                )
            due = move.collection_date_due
            if due not in due_labels:
                due_labels[due] = format_date(self.env, due)
            body = Markup("<p>%s</p>") % self.env._(
                "Collection stage %(stage)s (%(offset)s days from the due date "
                "%(due)s): activity for %(user)s.",
                stage=stage.name,
                offset=stage.day_offset,
                due=due_labels[due],
                user=user.name,
            )
            for note in notes:
                body += Markup("<p>%s</p>") % note
            bodies[move.id] = body

        if superseded:
            superseded.action_feedback(
                feedback=self.env._("Superseded by the next collection stage.")
            )
        activity_model = (
            self.env["mail.activity"]
            .sudo()
            .with_context(mail_activity_quick_update=True)
        )
        for stage, activities in moved_on.items():
            activities.with_env(activity_model.env).write(stage_vals[stage])
        activity_model.create(activity_vals)
        entering = moves.filtered(lambda m: not m.collection_stage_id)
        for stage in stages:
            stage_moves = moves.filtered(lambda m, s=stage: stage_of[m] == s)
            stage_moves._collection_write(
                {
                    "collection_stage_id": stage.id,
                    "collection_error": False,
                    "collection_error_date": False,
                }
            )
        # the customer emails the stages owe, sent once per customer by the run's
        # mailing step; the stale ones noted first, under the stage's note
        conversation = self.env["collection.conversation"]
        for stage in stages.filtered("mail_template_id"):
            stage_moves = moves.filtered(lambda m, s=stage: stage_of[m] == s)
            conversation._collection_owe_mail(stage_moves, stage, entering)
        moves._message_log_batch(bodies)

    @api.model
    def _collection_ensure_access_tokens(self, moves):
        """Give the invoices linked from the emails their portal token, in one query
        (the portal mixin writes them one invoice at a time)."""
        moves.flush_recordset(["access_token"])
        self.env.execute_query(
            SQL(
                "UPDATE account_move SET access_token = gen_random_uuid()::text "
                "WHERE id = ANY(%s) AND access_token IS NULL",
                moves.ids,
            )
        )
        moves.invalidate_recordset(["access_token"])

    def _collection_copy_salesperson(self, messages):
        """Put each invoice's salesperson in copy of the emails sent to its customer."""
        salesperson_of = {move.id: move._collection_salesperson() for move in self}
        customer_mails = (
            self.env["mail.mail"]
            .sudo()
            .search([("mail_message_id", "in", messages.ids)])
            .filtered(lambda mail: mail.recipient_ids.filtered("partner_share"))
        )
        for mail in customer_mails:
            salesperson = salesperson_of.get(mail.res_id) or self.env["res.users"]
            if salesperson.email and salesperson.partner_id not in mail.recipient_ids:
                mail.email_cc = salesperson.email_formatted

    def _collection_report_late_entry(self, stage):
        """Chatter note on invoices whose stage email is not sent, being stale."""
        self._message_log_batch(
            {
                move.id: Markup("<p>%s</p>")
                % self.env._(
                    "The email '%(template)s' of collection stage %(stage)s was not "
                    "sent: the invoice entered the collection process %(days)s days "
                    "after that stage's date. Send it from the invoice if it is still "
                    "relevant.",
                    template=stage.mail_template_id.name,
                    stage=stage.name,
                    days=(
                        fields.Date.context_today(self) - move.collection_date_due
                    ).days
                    - stage.day_offset,
                )
                for move in self
            }
        )

    def _collection_report_missing_email(self, stage):
        """Chatter note and salesperson activity for customers without email."""
        if not self:
            return
        todo = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        model_id = self.env["ir.model"]._get_id("account.move")
        activity_vals, bodies = [], {}
        for move in self:
            customer = move.commercial_partner_id
            bodies[move.id] = Markup("<p>%s</p>") % self.env._(
                "The email '%(template)s' of collection stage %(stage)s was not sent: "
                "neither %(customer)s nor its contacts have an email address.",
                template=stage.mail_template_id.name,
                stage=stage.name,
                customer=customer.display_name,
            )
            user = move._collection_salesperson() or move._collection_manager(
                move._collection_salesperson()
            )
            if not user or not todo:
                continue
            activity_vals.append(
                {
                    "res_model_id": model_id,
                    "res_id": move.id,
                    "activity_type_id": todo.id,
                    "summary": self.env._(
                        "Add an email address for %(customer)s",
                        customer=customer.display_name,
                    ),
                    "note": Markup("<p>%s</p>")
                    % self.env._(
                        "The customer did not receive the collection email of stage "
                        "%(stage)s. Contact them another way, and add an email address "
                        "on the customer or on a contact marked for collections.",
                        stage=stage.name,
                    ),
                    "date_deadline": fields.Date.context_today(self),
                    "user_id": user.id,
                    "automated": True,
                    "collection_stage_id": stage.id,
                    "collection_notified": False,
                }
            )
        self._message_log_batch(bodies)
        if activity_vals:
            self.env["mail.activity"].sudo().with_context(
                mail_activity_quick_update=True
            ).create(activity_vals)

    @api.model
    def _collection_send_digests(self, limit=COLLECTION_DIGEST_MAX_ACTIVITIES):
        """One email per user listing the collection activities created for them
        since their last digest (the per-activity assignment email is suppressed):
        the first ``limit`` by deadline, and how many there are in all.

        The activities are grouped by user in SQL and only those listed are read,
        so that a first run over a large portfolio (thousands of activities per
        user) costs no more memory than an ordinary day.
        """
        Activity = self.env["mail.activity"].sudo()
        Activity.flush_model(
            ["collection_notified", "collection_stage_id", "active", "user_id"]
        )
        by_user = self.env.execute_query(
            SQL(
                """
                SELECT user_id, array_agg(id ORDER BY date_deadline, id)
                  FROM mail_activity
                 WHERE collection_stage_id IS NOT NULL
                   AND collection_notified IS NOT TRUE
                   AND active
              GROUP BY user_id
              ORDER BY user_id
                """
            )
        )
        if not by_user:
            return
        base_url = self.get_base_url()
        mails = []
        # the users (and their partners) read together, not one by one
        users = (
            self.env["res.users"]
            .sudo()
            .browse([user_id for user_id, _ids in by_user if user_id])
        )
        for user_id, activity_ids in by_user:
            user = users.browse(user_id).with_prefetch(users._prefetch_ids)
            if not user.partner_id.email:
                _logger.info(
                    "Collection digest not sent to %s: the user has no email address",
                    user.login,
                )
                continue
            lang = user.lang or self.env.lang
            listed = Activity.with_context(lang=lang).browse(activity_ids[:limit])
            moves = self.with_context(lang=lang).browse(listed.mapped("res_id"))
            move_by_id = {move.id: move for move in moves}
            body = (
                self.env["ir.qweb"]
                .with_context(lang=lang)
                ._render(
                    "account_collections.collection_digest_mail",
                    {
                        "user": user,
                        "activities": listed,
                        "count": len(activity_ids),
                        "move_by_id": move_by_id,
                        "base_url": base_url,
                    },
                )
            )
            mails.append(
                {
                    "subject": self.with_context(lang=lang).env._(
                        "Collections: %(count)s new activities",
                        count=len(activity_ids),
                    ),
                    "body_html": body,
                    "email_from": (
                        self.env.company.email_formatted
                        or self.env.user.email_formatted
                    ),
                    "recipient_ids": [fields.Command.link(user.partner_id.id)],
                    "auto_delete": True,
                }
            )
            # what the rendering read is not needed any more
            listed.invalidate_recordset()
            moves.invalidate_recordset()
        self.env["mail.mail"].sudo().create(mails)
        Activity.browse(
            [activity_id for _user, ids in by_user for activity_id in ids]
        ).write({"collection_notified": True})

    # -------------------------------------------------------------------------
    # Exclusion
    # -------------------------------------------------------------------------

    def _collection_exclude(self, reason, note=False):
        """Exclude the invoices from collection for ``reason`` (a key of
        ``COLLECTION_EXCLUSION_REASONS``): their open collection activities are
        closed, their open promises cancelled, and the chatter keeps who did it and
        why."""
        if not reason:
            raise UserError(self.env._("Give the reason for the exclusion."))
        moves = self._collection_check_customer_invoices()
        moves._collection_check_exclusion_rights()
        reason_field = self._fields["collection_exclusion_reason"]
        reasons = dict(reason_field._description_selection(self.env))
        if reason not in reasons:
            raise UserError(
                self.env._("'%(reason)s' is not a reason for exclusion.", reason=reason)
            )
        moves._collection_write(
            {"collection_excluded": True, "collection_exclusion_reason": reason}
        )
        body = Markup("<p>%s</p>") % self.env._(
            "Excluded from collection by %(user)s. Reason: %(reason)s.",
            user=self.env.user.name,
            reason=reasons[reason],
        )
        if note:
            body += plaintext2html(note)
        moves._message_log_batch({move.id: body for move in moves})
        promises = moves.sudo().collection_promise_ids
        promises = promises.filtered(lambda p: p.state == "open")
        promises._collection_close(
            "cancelled",
            self.env._(
                "Promise to pay of %(amount)s by %(date)s cancelled: the invoices were "
                "excluded from collection by %(user)s."
            ),
        )
        moves._collection_close_settled()

    def _collection_include(self, note=False):
        """Bring excluded invoices back into the collection process."""
        moves = self._collection_check_customer_invoices()
        moves._collection_check_exclusion_rights()
        moves = moves.filtered("collection_excluded")
        moves._collection_write(
            {"collection_excluded": False, "collection_exclusion_reason": False}
        )
        body = Markup("<p>%s</p>") % self.env._(
            "Included in collection again by %(user)s.", user=self.env.user.name
        )
        if note:
            body += plaintext2html(note)
        moves._message_log_batch({move.id: body for move in moves})

    def _collection_check_exclusion_rights(self):
        """Excluding or including invoices is a collection user's decision on
        invoices they may edit (the fields themselves are written with superuser
        rights, and the chatter says who did it)."""
        if not self.env.su and not self.env.user.has_group(
            "account_collections.group_collection_user"
        ):
            raise AccessError(
                self.env._(
                    "Only collection users can exclude invoices from collection or "
                    "include them again."
                )
            )
        self.check_access("write")

    def _collection_check_customer_invoices(self):
        wrong = self.filtered(
            lambda m: m.move_type != "out_invoice" or m.state != "posted"
        )
        if wrong:
            raise UserError(
                self.env._(
                    "Only posted customer invoices follow the collection process; "
                    "%(moves)s is not one.",
                    moves=", ".join(wrong.mapped("display_name")),
                )
            )
        return self

    # -------------------------------------------------------------------------
    # Actions
    # -------------------------------------------------------------------------

    def action_collection_log_contact(self):
        """Open the "Log a Contact" wizard on these invoices."""
        return self.env["collection.contact.wizard"]._collection_action_open(moves=self)

    def action_collection_exclude(self):
        """Open the wizard excluding these invoices from collection."""
        return self.env["collection.exclusion.wizard"]._collection_action_open(
            self, "exclude"
        )

    def action_collection_include(self):
        """Open the wizard bringing these invoices back into collection."""
        return self.env["collection.exclusion.wizard"]._collection_action_open(
            self, "include"
        )

    def action_collection_view_promises(self):
        """Open the promises to pay of these records."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_collections.collection_promise_action"
        )
        action["domain"] = [("move_ids", "in", self.ids)]
        action["context"] = {"create": False}
        return action

    def action_collection_view_contacts(self):
        """Open the collection contacts of these records."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_collections.collection_contact_action"
        )
        action["domain"] = [("move_ids", "in", self.ids)]
        action["context"] = {"create": False}
        return action
