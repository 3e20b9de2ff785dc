from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import format_amount, format_date

# set by the daily run and the promise's own actions only (with superuser rights,
# after their own checks): the ORM's public create/write refuse them
JUDGED_FIELDS = {"state", "date_closed", "amount_paid", "contact_id"}
# the day the promise was made: the day it is recorded, never changed (payments
# count from that day on)
DATE_FIELD = "date"
# what was promised: set when the promise is recorded; changing it is a
# renegotiation (a new promise replaces this one)
PROMISED_FIELDS = {"move_ids", "partner_id", "company_id", "amount", "promised_date"}
MANAGER_GROUP = "account_collections.group_collection_manager"

PROMISE_STATES = [
    ("open", "Open"),
    ("kept", "Kept"),
    ("broken", "Broken"),
    ("cancelled", "Cancelled"),
]
PROMISE_SOURCES = [("internal", "Internal"), ("portal", "Portal")]
# who recorded the promise: set when it is created (a customer on the portal, or
# a user in Odoo), never typed in
SOURCE_FIELD = "source"


class CollectionPromise(models.Model):
    """A customer's promise to pay some of their open invoices by a date.

    While it is open and its date has not passed, the daily run executes no new
    collection stage on its invoices. Once the date has passed, the daily run judges
    it against the payments actually reconciled with the invoices.
    """

    _name = "collection.promise"
    _description = "Promise to Pay"
    _inherit = ["mail.thread", "collection.system.fields"]
    # (the salesperson: the invoice's, unless given by the user who records it)
    _collection_system_fields = frozenset(
        JUDGED_FIELDS | {DATE_FIELD, SOURCE_FIELD, "user_id"}
    )
    _order = "promised_date desc, id desc"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        compute="_compute_company_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    move_ids = fields.Many2many(
        "account.move",
        "collection_promise_account_move_rel",
        "promise_id",
        "move_id",
        string="Invoices",
        required=True,
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), "
        "('payment_state', 'in', ('not_paid', 'partial')), "
        "('company_id', '=', company_id)]",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        check_company=True,
        compute="_compute_partner_id",
        store=True,
        readonly=False,
        precompute=True,
        tracking=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        index=True,
        domain="[('share', '=', False)]",
        compute="_compute_user_id",
        store=True,
        readonly=False,
        precompute=True,
        tracking=True,
        help="Follows the promise and gets an activity if it is broken: the "
        "invoice's salesperson, unless a collection manager chooses another.",
    )
    date = fields.Date(
        string="Promised On",
        required=True,
        readonly=True,
        copy=False,
        default=fields.Date.context_today,
        help="Day the promise was made: payments count from this day on.",
    )
    promised_date = fields.Date(
        string="Payment Date",
        required=True,
        tracking=True,
        help="Day by which the customer promised to pay. Collection escalation is "
        "paused until this day included.",
    )
    currency_id = fields.Many2one(
        "res.currency",
        compute="_compute_currency_id",
        store=True,
        precompute=True,
        readonly=True,
    )
    amount = fields.Monetary(
        string="Promised Amount",
        required=True,
        tracking=True,
        currency_field="currency_id",
    )
    amount_paid = fields.Monetary(
        string="Paid Toward Promise",
        compute="_compute_amount_paid",
        currency_field="currency_id",
        help="Payments reconciled with the invoices between the day the promise was "
        "made and the payment date.",
    )
    amount_residual = fields.Monetary(
        string="Open Amount",
        compute="_compute_amount_residual",
        currency_field="currency_id",
        help="What the invoices still owe today.",
    )
    state = fields.Selection(
        PROMISE_STATES,
        required=True,
        default="open",
        readonly=True,
        index=True,
        tracking=True,
        copy=False,
    )
    date_closed = fields.Date(
        string="Closed On",
        readonly=True,
        copy=False,
        help="Day the promise was judged.",
    )
    contact_id = fields.Many2one(
        "collection.contact",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="The contact in which the customer made this promise.",
    )
    note = fields.Text()
    source = fields.Selection(
        PROMISE_SOURCES,
        required=True,
        default="internal",
        readonly=True,
        copy=False,
        index=True,
        help="Recorded by a user in Odoo, or made by the customer on the portal.",
    )

    # -------------------------------------------------------------------------
    # Computes
    # -------------------------------------------------------------------------

    @api.depends("move_ids")
    def _compute_company_id(self):
        for promise in self:
            # the first invoice decides; the constraints reject mixed invoices
            promise.company_id = (
                promise.company_id
                or promise.move_ids[:1].company_id
                or self.env.company
            )

    @api.depends("move_ids")
    def _compute_partner_id(self):
        for promise in self:
            promise.partner_id = (
                promise.partner_id or promise.move_ids[:1].commercial_partner_id
            )

    @api.depends("move_ids")
    def _compute_user_id(self):
        for promise in self:
            promise.user_id = (
                promise.user_id
                or (
                    promise.move_ids
                    and promise.move_ids[0]._collection_assignee("promise")
                )
                or self.env.user.filtered(lambda user: not user.share)
            )

    @api.depends("move_ids.currency_id", "company_id")
    def _compute_currency_id(self):
        for promise in self:
            currencies = promise.move_ids.currency_id
            promise.currency_id = (
                currencies if len(currencies) == 1 else promise.company_id.currency_id
            )

    def _compute_amount_paid(self):
        paid = self.env["collection.promise.judge"]._collection_paid_amounts(self)
        for promise in self:
            promise.amount_paid = paid.get(promise.id, 0.0)

    @api.depends("move_ids.amount_residual")
    def _compute_amount_residual(self):
        for promise in self:
            promise.amount_residual = sum(promise.move_ids.mapped("amount_residual"))

    @api.depends("partner_id", "amount", "currency_id", "promised_date")
    def _compute_display_name(self):
        for promise in self:
            if not promise.partner_id or not promise.promised_date:
                promise.display_name = self.env._("New Promise to Pay")
                continue
            promise.display_name = self.env._(
                "%(partner)s: %(amount)s by %(date)s",
                partner=promise.partner_id.name,
                amount=format_amount(self.env, promise.amount, promise.currency_id),
                date=format_date(self.env, promise.promised_date),
            )

    # -------------------------------------------------------------------------
    # Validation
    # -------------------------------------------------------------------------

    @api.constrains("move_ids", "partner_id", "company_id", "amount")
    def _check_collection_promise(self):
        """Invoices first (their open amount is meaningless otherwise), then the
        amount."""
        for promise in self.filtered(lambda p: p.state == "open"):
            promise._check_collection_moves()
            promise._check_collection_amount()

    def _check_collection_moves(self):
        for promise in self:
            moves = promise.move_ids
            if not moves:
                raise ValidationError(
                    self.env._("A promise to pay must cover at least one invoice.")
                )
            for move in moves:
                if move.move_type != "out_invoice":
                    raise ValidationError(
                        self.env._(
                            "%(move)s is not a customer invoice: a promise to pay "
                            "only covers customer invoices.",
                            move=move.display_name,
                        )
                    )
                if (
                    move.commercial_partner_id
                    != promise.partner_id.commercial_partner_id
                ):
                    raise ValidationError(
                        self.env._(
                            "Invoice %(move)s belongs to %(move_partner)s, not to "
                            "%(partner)s: a promise to pay covers invoices of one "
                            "customer.",
                            move=move.display_name,
                            move_partner=move.commercial_partner_id.display_name,
                            partner=promise.partner_id.display_name,
                        )
                    )
                if move.company_id != promise.company_id:
                    raise ValidationError(
                        self.env._(
                            "Invoice %(move)s belongs to company %(move_company)s, "
                            "not to %(company)s.",
                            move=move.display_name,
                            move_company=move.company_id.display_name,
                            company=promise.company_id.display_name,
                        )
                    )
                if move.state != "posted":
                    raise ValidationError(
                        self.env._(
                            "Invoice %(move)s is not posted: a promise to pay only "
                            "covers posted invoices.",
                            move=move.display_name,
                        )
                    )
                if move.payment_state not in ("not_paid", "partial"):
                    raise ValidationError(
                        self.env._(
                            "Invoice %(move)s has nothing left to pay: a promise to "
                            "pay only covers unpaid invoices.",
                            move=move.display_name,
                        )
                    )
            if len(moves.currency_id) > 1:
                raise ValidationError(
                    self.env._(
                        "The invoices of a promise to pay must be in one currency: "
                        "record one promise per currency."
                    )
                )
            others = self.sudo().search(
                [
                    ("id", "not in", self.ids),
                    ("state", "=", "open"),
                    ("move_ids", "in", moves.ids),
                ],
                limit=1,
            )
            if others:
                taken = others.move_ids & moves
                raise ValidationError(
                    self.env._(
                        "Invoice %(move)s already has an open promise to pay "
                        "(%(promise)s): cancel it before recording a new one.",
                        move=taken[:1].display_name,
                        promise=others.display_name,
                    )
                )

    def _check_collection_amount(self):
        for promise in self:
            currency = promise.currency_id
            if currency.compare_amounts(promise.amount, 0) <= 0:
                raise ValidationError(
                    self.env._("The promised amount must be greater than zero.")
                )
            open_amount = sum(promise.move_ids.mapped("amount_residual"))
            if currency.compare_amounts(promise.amount, open_amount) > 0:
                raise ValidationError(
                    self.env._(
                        "The promised amount %(amount)s is more than the open amount "
                        "of its invoices (%(open)s).",
                        amount=format_amount(self.env, promise.amount, currency),
                        open=format_amount(self.env, open_amount, currency),
                    )
                )

    @api.constrains("promised_date")
    def _check_collection_promised_date(self):
        today = fields.Date.context_today(self)
        for promise in self.filtered(lambda p: p.state == "open"):
            if promise.promised_date < today:
                raise ValidationError(
                    self.env._(
                        "The payment date %(date)s is in the past: a promise to pay "
                        "is for today or a later day.",
                        date=format_date(self.env, promise.promised_date),
                    )
                )

    @api.constrains("promised_date", "amount", "move_ids")
    def _check_collection_limits(self):
        """A promise beyond its invoices' horizon, or for less than their
        minimum share of the amount due, pauses escalation for little: only a
        collection manager records one (the daily run acts as one). The limits
        are ``collection.receivable._collection_promise_limits``, the portal's
        and Log a Contact's too."""
        if self.env.user.has_group(MANAGER_GROUP):
            return
        receivable = self.env["collection.receivable"]
        for promise in self.filtered(lambda p: p.state == "open"):
            moves = promise.sudo().move_ids
            problems = receivable._collection_promise_problems(
                moves, promise.promised_date, promise.amount, promise.date
            )
            if problems:
                raise ValidationError(
                    self.env._(
                        "%(problems)s Beyond these limits, only a collection "
                        "manager can record a promise to pay.",
                        problems=" ".join(problems),
                    )
                )

    # -------------------------------------------------------------------------
    # CRUD: what was promised is recorded once, its outcome is judged
    # -------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        # (nor through a default: collection.system.fields)
        if not self.env.su:
            self._collection_check_create(vals_list)
        promises = super().create(vals_list)
        if not self.env.su:
            promises._collection_check_user([vals.get("user_id") for vals in vals_list])
        # the Log a Contact flow (superuser, after its checks) logs the promise
        # with the contact itself
        if not (self.env.su and self.env.context.get("collection_promise_no_log")):
            promises._collection_log_on_invoices(
                {
                    promise: self.env._(
                        "Promise to pay recorded by %(user)s: %(amount)s by %(date)s "
                        "(salesperson: %(salesperson)s). Collection escalation is "
                        "paused until then.",
                        user=self.env.user.name,
                        amount=format_amount(
                            self.env, promise.amount, promise.currency_id
                        ),
                        date=format_date(self.env, promise.promised_date),
                        salesperson=promise.user_id.name or "-",
                    )
                    for promise in promises
                }
            )
        return promises

    def write(self, vals):
        if not self.env.su:
            self._collection_check_write(vals)
        return super().write(vals)

    @api.model
    def _collection_check_create(self, vals_list):
        """What a user may not give when recording a promise: its outcome, and a
        day of promise other than today."""
        today = fields.Date.context_today(self)
        for vals in vals_list:
            if (JUDGED_FIELDS | {SOURCE_FIELD}) & set(vals):
                self._collection_raise_judged()
            if DATE_FIELD in vals and fields.Date.to_date(vals[DATE_FIELD]) != today:
                raise AccessError(
                    self.env._(
                        "A promise to pay is dated the day it is recorded: it cannot "
                        "be recorded as made on another day."
                    )
                )

    def _collection_check_user(self, given_user_ids):
        """The salesperson following a promise is the invoice's; a salesperson may
        take it over themselves, only a collection manager assigns someone else."""
        if self.env.user.has_group(MANAGER_GROUP):
            return
        for promise, user_id in zip(self, given_user_ids, strict=True):
            if not user_id:
                continue
            allowed = self.env.user
            if promise.move_ids:
                allowed |= promise.move_ids[0]._collection_salesperson()
            if promise.user_id not in allowed:
                raise AccessError(
                    self.env._(
                        "Only a collection manager can choose who follows a promise "
                        "to pay."
                    )
                )

    def _collection_check_write(self, vals):
        if (JUDGED_FIELDS | {SOURCE_FIELD}) & set(vals) or DATE_FIELD in vals:
            self._collection_raise_judged()
        if PROMISED_FIELDS & set(vals):
            if any(promise.state != "open" for promise in self):
                raise UserError(
                    self.env._(
                        "A promise to pay that was kept, broken or cancelled cannot "
                        "be changed: record a new promise."
                    )
                )
            raise UserError(
                self.env._(
                    "What was promised cannot be changed afterwards: renegotiate "
                    "the promise (Renegotiate button), which cancels it and records "
                    "the new one, both kept in the invoices' chatter."
                )
            )
        if "user_id" in vals and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._(
                    "Only a collection manager can choose who follows a promise to pay."
                )
            )

    def _collection_raise_judged(self):
        # the status is judged against real payments, it is not typed in
        raise AccessError(
            self.env._(
                "The status of a promise to pay is set by the daily run against the "
                "payments received, or by cancelling the promise; its dates are set "
                "when it is recorded and judged."
            )
        )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_judged(self):
        if any(promise.state in ("kept", "broken") for promise in self):
            raise UserError(
                self.env._(
                    "Kept and broken promises feed the customer's reliability: they "
                    "cannot be deleted."
                )
            )

    # -------------------------------------------------------------------------
    # Actions
    # -------------------------------------------------------------------------

    def action_cancel(self):
        """Cancel open promises: the collection process of their invoices resumes."""
        self._collection_check_open("cancelled")
        self.env["collection.promise.judge"]._collection_close(
            self,
            "cancelled",
            self.env._(
                "Promise to pay of %(amount)s by %(date)s cancelled by %(user)s: the "
                "collection process resumes."
            ),
        )
        return True

    def action_renegotiate(self):
        """Renegotiate an open promise: open "Log a Contact" with a new promise on
        its invoices, which cancels this one when it is recorded."""
        self.ensure_one()
        self._collection_check_open("renegotiated")
        moves = self.move_ids.filtered(
            lambda m: m.state == "posted" and m.payment_state in ("not_paid", "partial")
        )
        if not moves:
            raise UserError(
                self.env._(
                    "The invoices of %(promise)s have nothing left to pay: cancel "
                    "the promise instead.",
                    promise=self.display_name,
                )
            )
        return self.env["collection.contact.wizard"]._collection_action_open(
            moves=moves, renegotiate=self
        )

    def _collection_check_open(self, action):
        """Raise unless the user may close these promises, still open, by
        ``action`` (``cancelled`` or ``renegotiated``)."""
        self.check_access("write")
        not_open = self.filtered(lambda p: p.state != "open")
        if not_open:
            states = dict(self._fields["state"]._description_selection(self.env))
            message = (
                self.env._(
                    "Only open promises can be renegotiated (%(promise)s is %(state)s)."
                )
                if action == "renegotiated"
                else self.env._(
                    "Only open promises can be cancelled (%(promise)s is %(state)s)."
                )
            )
            raise UserError(
                message
                % {
                    "promise": not_open[0].display_name,
                    "state": states[not_open[0].state],
                }
            )

    def action_view_invoices(self):
        """Open the invoices concerned."""
        self.ensure_one()
        return self.move_ids._collection_action_view_invoices()

    # -------------------------------------------------------------------------
    # Judgment
    # -------------------------------------------------------------------------

    def _collection_log_on_invoices(self, body_by_promise):
        """Log one note per promise on each of its invoices (one batch per body)."""
        for promise, text in body_by_promise.items():
            body = Markup("<p>%s</p>") % text
            # the invoices the promise covers, whoever may read them
            moves = promise.sudo().move_ids
            moves._message_log_batch({move.id: body for move in moves})

    # -------------------------------------------------------------------------
    # Helpers for other models
    # -------------------------------------------------------------------------

    @api.model
    def _collection_counts_by_partner(self, partners, states):
        """Return ``{(commercial_partner_id, state): count}`` over the allowed
        companies, whoever the salesperson (reliability is about the customer)."""
        groups = self.sudo()._read_group(
            [
                ("partner_id", "in", partners.commercial_partner_id.ids),
                ("state", "in", list(states)),
                ("company_id", "in", self.env.companies.ids),
            ],
            ["partner_id", "state"],
            ["__count"],
        )
        counts = defaultdict(int)
        for partner, state, count in groups:
            counts[partner.id, state] = count
        return counts
