from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .collection_receivable import (
    COLLECTION_OPEN_PAYMENT_STATES,
    COLLECTION_PAUSE_FOREVER,
    COLLECTION_PAUSE_REASONS,
)
from .collection_tools import COLLECTION_EXCLUSION_REASONS, COLLECTION_PROTECTED_FIELDS

# why the customer email an invoice owes was not sent yet
COLLECTION_MAIL_HOLD_REASONS = [
    ("interval", "Minimum interval"),
    ("unmatched", "Money to reconcile"),
    ("no_email", "No email address"),
    ("error", "Sending failed"),
    ("late", "Stale (entered the process late)"),
]


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "collection.system.fields"]
    _collection_system_fields = frozenset(COLLECTION_PROTECTED_FIELDS)

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
    collection_phase = fields.Selection(
        related="collection_stage_id.phase",
        store=True,
        string="Collection Phase",
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
    collection_pause_reason = fields.Selection(
        COLLECTION_PAUSE_REASONS,
        string="Collection on Hold For",
        compute="_compute_collection_pause",
        help="Why the collection of this invoice is paused today (the pause that "
        "lasts longest): no stage is executed and no reminder sent until it ends.",
        groups="account_collections.group_collection_user",
    )
    collection_pause_until = fields.Date(
        string="Collection on Hold Until",
        compute="_compute_collection_pause",
        help="Last day the collection of this invoice is paused (empty when it is "
        "not paused, or excluded from collection with no end).",
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
        string="Open Invoices in Collection, Total",
        compute="_compute_collection_open_invoice_ids",
        currency_field="currency_id",
        help="What the customer's invoices followed by the collection process "
        "leave to pay in this company, in the invoice's currency (0 when those "
        "invoices are in several currencies); not the customer's balance (see "
        "Customer's Balance).",
        groups="account_collections.group_collection_user",
    )
    collection_balance = fields.Monetary(
        string="Customer's Balance",
        compute="_compute_collection_balance",
        currency_field="company_currency_id",
        help="What the customer owes in this company today, the total due of its "
        "statement and of its collection emails: its open invoices (excluded "
        "ones too), less its credit notes and payments not yet matched.",
        groups="account_collections.group_collection_user",
    )
    collection_balance_excluded = fields.Monetary(
        string="Customer's Balance on Hold",
        compute="_compute_collection_balance",
        currency_field="company_currency_id",
        help="Of the customer's balance, what its invoices excluded from "
        "collection (dispute, agreement, legal) leave to pay.",
        groups="account_collections.group_collection_user",
    )
    collection_balance_other = fields.Monetary(
        string="Customer's Credits Not Yet Matched",
        compute="_compute_collection_balance",
        currency_field="company_currency_id",
        help="Of the customer's balance, its credit notes and payments not yet "
        "matched with an invoice (and other receivable entries).",
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

    collection_paused_until = fields.Date(
        readonly=True,
        copy=False,
        help="The customer answered on the portal (a dispute, or a payment they say "
        "they made): collection escalation is paused until this day included.",
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
        # (a default, from the context of a web client grouped by stage or from
        # ir.default, is ignored: collection.system.fields)
        if not self.env.su:
            self._collection_check_protected(vals_list)
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
        return self.env["collection.receivable"]._collection_days_overdue_domain(
            operator, value, fields.Date.context_today(self)
        )

    @api.depends("move_type", "company_id", "commercial_partner_id")
    def _compute_collection_policy_id(self):
        # only a customer invoice with its customer and company follows a policy:
        # a new invoice in its form (no customer yet), a bill or an entry has none
        followed = self.filtered(
            lambda move: (
                move.move_type == "out_invoice"
                and move.commercial_partner_id
                and move.company_id
            )
        )
        (self - followed).collection_policy_id = False
        for company, moves in followed.grouped("company_id").items():
            customers = moves.commercial_partner_id.with_company(company)
            # the experiments' arms of all the customers in one query
            arms = customers._collection_experiment_policies()
            for move in moves:
                move.collection_policy_id = move.commercial_partner_id.with_company(
                    company
                )._collection_effective_policy(arms=arms)

    @api.depends(
        "collection_stage_id",
        "collection_policy_id",
        "collection_date_due",
        "payment_state",
        "collection_excluded",
        "collection_paused_until",
        "collection_promise_ids.state",
        "collection_promise_ids.promised_date",
    )
    def _compute_collection_next_stage(self):
        pauses = self.env["collection.receivable"]._collection_pauses(self)
        for move in self:
            stage = move._collection_is_open() and move._collection_next_stage()
            move.collection_next_stage_id = stage or False
            next_date = (
                stage and move.collection_date_due + timedelta(days=stage.day_offset)
            ) or False
            until = pauses.get(move.id, (None, None))[0]
            if next_date and until:
                # nothing is executed while paused: the day after the pause
                # ends, or the stage's date if later
                next_date = (
                    False
                    if until == COLLECTION_PAUSE_FOREVER
                    else max(next_date, until + timedelta(days=1))
                )
            move.collection_next_date = next_date

    @api.depends(
        "collection_excluded",
        "collection_paused_until",
        "collection_promise_ids.state",
        "collection_promise_ids.promised_date",
    )
    def _compute_collection_pause(self):
        pauses = self.env["collection.receivable"]._collection_pauses(self)
        for move in self:
            until, reason = pauses.get(move.id, (None, None))
            move.collection_pause_reason = reason or False
            move.collection_pause_until = (
                until if until and until != COLLECTION_PAUSE_FOREVER else False
            )

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
        recipients = self.env["collection.mailing"]._collection_recipients(self)
        for move in self:
            move.collection_mail_partner_id = recipients[move]

    @api.depends_context("uid", "allowed_company_ids")
    @api.depends("commercial_partner_id", "company_id")
    def _compute_collection_balance(self):
        """The customer's balance (collection.receivable's
        ``_collection_balance()``) as the reader may see it: all of it for the
        daily run (superuser) writing to the customer, only the items of the
        moves they may read for anyone else. One query for all the moves."""
        balances = self.env["collection.receivable"]._collection_balance(
            self.commercial_partner_id, self.company_id
        )
        visible = None
        if not self.env.su:
            ids = {
                move_id for balance in balances.values() for move_id in balance["moves"]
            }
            visible = set(
                self.env["account.move"].search([("id", "in", list(ids))]).ids
            )
        for move in self:
            key = (move.commercial_partner_id.id, move.company_id.id)
            balance = balances.get(key)
            total = excluded = other = 0.0
            if balance:
                if visible is None or visible.issuperset(balance["moves"]):
                    total = balance["total"]
                    excluded = balance["excluded"]
                    other = balance["other"]
                else:
                    invoices = set(balance["invoice_ids"])
                    for move_id, amount in balance["moves"].items():
                        if move_id not in visible:
                            continue
                        total += amount
                        if move_id not in invoices:
                            other += amount
                        elif move_id in balance["excluded_ids"]:
                            excluded += amount
            move.collection_balance = total
            move.collection_balance_excluded = excluded
            move.collection_balance_other = other

    @api.depends_context("uid", "allowed_company_ids")
    @api.depends("commercial_partner_id", "company_id")
    def _compute_collection_open_invoice_ids(self):
        """The customer's open invoices and total, as the reader may see them: all
        of them for the daily run (superuser) writing to the customer, only their
        own for a salesperson limited to their own documents."""
        open_invoices = self.env["collection.mailing"]._collection_open_invoices(self)
        for move in self:
            listed, count, amount = open_invoices[move]
            move.collection_open_invoice_ids = listed
            move.collection_open_invoice_count = count
            move.collection_open_amount = amount

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

    def _collection_mail_named(self):
        """The invoices a customer email written on this invoice is about, listed
        first: those the run names for it (context ``collection_mail_named``,
        ``{invoice id: [invoice ids]}``), else the invoice itself."""
        self.ensure_one()
        named = self.env.context.get("collection_mail_named") or {}
        return self.browse(named.get(self.id) or self.ids)

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

    def _collection_assignee(self, event, holder=None):
        """Who acts on ``event`` about the invoice: collection.receivable's
        ``_collection_assignee()``, the one rule."""
        self.ensure_one()
        return self.env["collection.receivable"]._collection_assignee(
            event, move=self, holder=holder
        )[0]

    def _collection_manager_note(self, salesperson, manager):
        """Why the escalation does not go to the salesperson's team leader, when
        the leader is not allowed in the invoice's company (empty otherwise)."""
        self.ensure_one()
        leader = salesperson.sudo().sale_team_id.user_id
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
        """Return the user who gets the stage's activity (the ``stage`` or
        ``stage_manager`` event of collection.receivable's
        ``_collection_assignee()``), and notes explaining a fallback."""
        self.ensure_one()
        salesperson = self._collection_salesperson()
        event = "stage_manager" if stage.responsible == "manager" else "stage"
        user, candidate = self.env["collection.receivable"]._collection_assignee(
            event, move=self
        )
        notes = []
        if event == "stage_manager":
            manager = user if candidate == "company_manager" else user.browse()
            note = self._collection_manager_note(salesperson, manager)
            if note:
                notes.append(note)
            if candidate == "salesperson":
                notes.append(
                    self.env._(
                        "No collection manager is configured (no sales team leader "
                        "and no company collection manager): the escalation stays "
                        "with the salesperson."
                    )
                )
        if not salesperson and (event == "stage" or candidate == "first_manager"):
            notes.append(
                self.env._(
                    "The invoice has no active salesperson: the activity goes to "
                    "%(user)s.",
                    user=user.name,
                )
            )
        return user, notes

    def _collection_open_promise(self):
        """The open promise to pay of the invoice, if any (sudo)."""
        self.ensure_one()
        promises = self.sudo().collection_promise_ids
        return promises.filtered(lambda p: p.state == "open")[:1]

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
        activity. The work is ``collection.engine``'s.
        """
        return self.env["collection.engine"]._run(batch_size=batch_size)

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

    # -------------------------------------------------------------------------
    # Exclusion (collection.exclusion's)
    # -------------------------------------------------------------------------

    def _collection_exclude(self, reason, note=False):
        """Exclude the invoices from collection for ``reason``."""
        return self.env["collection.exclusion"]._collection_exclude(self, reason, note)

    def _collection_include(self, note=False):
        """Bring excluded invoices back into the collection process."""
        return self.env["collection.exclusion"]._collection_include(self, note)

    def _collection_check_customer_invoices(self):
        """Raise unless these are posted customer invoices."""
        return self.env["collection.exclusion"]._collection_check_customer_invoices(
            self
        )

    # -------------------------------------------------------------------------
    # Actions
    # -------------------------------------------------------------------------

    def action_collection_log_contact(self):
        """Open the "Log a Contact" wizard on these invoices."""
        return self.env["collection.contact.wizard"]._collection_action_open(moves=self)

    def action_collection_payment_plan(self):
        """A new payment plan on these invoices."""
        return self.env["collection.plan"]._collection_action_new(self)

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
