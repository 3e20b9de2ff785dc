from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import (
    clean_context,
    format_amount,
    format_date,
    format_datetime,
    plaintext2html,
)

CONTACT_CHANNELS = [
    ("call", "Call"),
    ("email", "Email"),
    ("visit", "Visit"),
    ("whatsapp", "WhatsApp"),
    ("letter", "Letter"),
    ("other", "Other"),
]
# set when the contact is logged (with superuser rights, after the checks)
CONTACT_SYSTEM_FIELDS = {"promise_id", "plan_id", "amount_due"}
# what the contact was about: the link to the invoices is made once, by the contact
CONTACT_SUBJECT_FIELDS = {"move_ids", "partner_id", "company_id"}
MANAGER_GROUP = "account_collections.group_collection_manager"
# a salesperson logs a contact made up to this many days ago (the calls of a week
# of visits); an older one, only a collection manager: the contacts of weeks
# already reported are not rewritten
CONTACT_MAX_BACKDATE_DAYS = 7
# a contact is something that happened: "now" on a clock a little ahead is not
# the future
CONTACT_CLOCK_MARGIN = timedelta(minutes=5)
CONTACT_OUTCOMES = [
    ("reached", "Reached"),
    ("no_answer", "No Answer"),
    ("promise", "Promise to Pay"),
    ("refused", "Refused"),
    ("dispute", "Dispute"),
    ("plan", "Payment Plan"),
]


class CollectionContact(models.Model):
    """One collection action with a customer (a call, an email, a visit...)
    about one or several of their open invoices, and what came out of it."""

    _name = "collection.contact"
    _description = "Collection Contact"
    _inherit = ["collection.system.fields"]
    # (the date and the user: when and by whom it is logged, unless given)
    _collection_system_fields = frozenset(CONTACT_SYSTEM_FIELDS | {"date", "user_id"})
    _order = "date desc, id desc"
    _check_company_auto = True

    date = fields.Datetime(
        required=True,
        default=fields.Datetime.now,
        copy=False,
        index=True,
        help="When the customer was contacted: now by default, or up to "
        "7 days ago. Only a collection manager can change it afterwards.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        required=True,
        index=True,
        default=lambda self: self.env.user,
        domain="[('share', '=', False)]",
        help="Who contacted the customer.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, check_company=True
    )
    move_ids = fields.Many2many(
        "account.move",
        "collection_contact_account_move_rel",
        "contact_id",
        "move_id",
        string="Invoices",
        required=True,
    )
    channel = fields.Selection(CONTACT_CHANNELS, required=True, default="call")
    outcome = fields.Selection(CONTACT_OUTCOMES, required=True, default="reached")
    note = fields.Text()
    attachment_ids = fields.Many2many(
        "ir.attachment",
        "collection_contact_ir_attachment_rel",
        "contact_id",
        "attachment_id",
        string="Attachments",
    )
    promise_id = fields.Many2one(
        "collection.promise",
        string="Promise to Pay",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )
    plan_id = fields.Many2one(
        "collection.plan",
        string="Payment Plan",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )
    promise_state = fields.Selection(
        related="promise_id.state", string="Promise Status"
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_due = fields.Monetary(
        string="Open Amount",
        readonly=True,
        copy=False,
        aggregator="sum",
        help="Open amount of the invoices when the contact was logged, in company "
        "currency.",
    )

    @api.depends("partner_id", "channel", "date")
    def _compute_display_name(self):
        channels = dict(self._fields["channel"]._description_selection(self.env))
        for contact in self:
            contact.display_name = self.env._(
                "%(channel)s with %(partner)s",
                channel=channels.get(contact.channel, ""),
                partner=contact.partner_id.name or "",
            )

    # -------------------------------------------------------------------------
    # CRUD: what was logged stays what it was about
    # -------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if self.env.su:
            return super().create(vals_list)
        if any(CONTACT_SYSTEM_FIELDS & set(vals) for vals in vals_list):
            self._collection_raise_system()
        manager = self.env.user.has_group(MANAGER_GROUP)
        if not manager and any(
            vals.get("user_id", self.env.uid) != self.env.uid for vals in vals_list
        ):
            self._collection_raise_user()
        # (nor through a default: collection.system.fields)
        contacts = super().create(vals_list)
        contacts._collection_check_date(manager)
        return contacts

    def write(self, vals):
        if not self.env.su:
            if CONTACT_SYSTEM_FIELDS & set(vals):
                self._collection_raise_system()
            if CONTACT_SUBJECT_FIELDS & set(vals):
                raise UserError(
                    self.env._(
                        "The customer and invoices of a logged contact cannot be "
                        "changed: log a new contact."
                    )
                )
            if "user_id" in vals and not self.env.user.has_group(MANAGER_GROUP):
                self._collection_raise_user()
            if "date" in vals:
                return self._collection_redate(vals)
        return super().write(vals)

    def _collection_check_date(self, manager):
        """A contact happened: not in the future; and, unless a collection manager
        logs it, within the last ``CONTACT_MAX_BACKDATE_DAYS`` days."""
        now = fields.Datetime.now()
        for contact in self:
            if contact.date > now + CONTACT_CLOCK_MARGIN:
                raise ValidationError(
                    self.env._(
                        "A contact is logged once it took place: %(date)s is in the "
                        "future.",
                        date=format_datetime(self.env, contact.date),
                    )
                )
            if not manager and contact.date < now - timedelta(
                days=CONTACT_MAX_BACKDATE_DAYS
            ):
                raise AccessError(
                    self.env._(
                        "A contact can be logged up to %(days)s days after it took "
                        "place; only a collection manager can log an older one "
                        "(%(date)s).",
                        days=CONTACT_MAX_BACKDATE_DAYS,
                        date=format_datetime(self.env, contact.date),
                    )
                )

    def _collection_redate(self, vals):
        """A collection manager corrects when contacts took place; the invoices'
        chatter keeps the correction."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._(
                    "The date of a logged contact cannot be changed; only a "
                    "collection manager can correct it."
                )
            )
        before = {contact: contact.date for contact in self}
        result = super().write(vals)
        self._collection_check_date(manager=True)
        bodies = {}
        for contact, old in before.items():
            if contact.date == old:
                continue
            text = self.env._(
                "Date of the contact %(contact)s corrected by %(user)s: from "
                "%(old)s to %(new)s.",
                contact=contact.display_name,
                user=self.env.user.name,
                old=format_datetime(self.env, old),
                new=format_datetime(self.env, contact.date),
            )
            for move in contact.sudo().move_ids:
                bodies.setdefault(move.id, Markup())
                bodies[move.id] += Markup("<p>%s</p>") % text
        if bodies:
            moves = self.env["account.move"].browse(list(bodies))
            moves._message_log_batch(bodies)
        return result

    def _collection_raise_system(self):
        raise AccessError(
            self.env._(
                "The promise to pay and the open amount of a contact are recorded "
                "when the contact is logged; they cannot be written."
            )
        )

    def _collection_raise_user(self):
        raise AccessError(
            self.env._(
                "A contact is logged by the salesperson who made it: only a "
                "collection manager can log or reassign one for someone else."
            )
        )

    # -------------------------------------------------------------------------
    # Logging a contact
    # -------------------------------------------------------------------------

    @api.constrains("move_ids", "partner_id", "company_id")
    def _check_collection_moves(self):
        """A contact is about open invoices of its customer in its company (also
        when created without the wizard)."""
        for contact in self:
            moves = contact.move_ids
            self._collection_check_moves(moves)
            if moves.commercial_partner_id != contact.partner_id.commercial_partner_id:
                raise ValidationError(
                    self.env._(
                        "The invoices of the contact belong to %(move_partner)s, not "
                        "to %(partner)s.",
                        move_partner=moves.commercial_partner_id.display_name,
                        partner=contact.partner_id.display_name,
                    )
                )
            if moves.company_id != contact.company_id:
                raise ValidationError(
                    self.env._(
                        "The invoices of the contact belong to company %(move_company)s, "
                        "not to %(company)s.",
                        move_company=moves.company_id.display_name,
                        company=contact.company_id.display_name,
                    )
                )

    @api.model
    def _collection_check_moves(self, moves):
        """Raise a clear error unless ``moves`` are open posted customer invoices of
        one customer and one company."""
        if not moves:
            raise UserError(self.env._("Select at least one invoice for the contact."))
        wrong = moves - moves.filtered_domain(
            self.env["collection.receivable"]._collection_unpaid_domain()
        )
        if wrong:
            raise UserError(
                self.env._(
                    "A collection contact is about open customer invoices; %(moves)s "
                    "is not one.",
                    moves=", ".join(wrong.mapped("display_name")),
                )
            )
        if len(moves.commercial_partner_id) > 1:
            raise UserError(
                self.env._(
                    "The invoices belong to several customers (%(partners)s): log one "
                    "contact per customer.",
                    partners=", ".join(
                        moves.commercial_partner_id.mapped("display_name")
                    ),
                )
            )
        if len(moves.company_id) > 1:
            raise UserError(
                self.env._(
                    "The invoices belong to several companies: log one contact per "
                    "company."
                )
            )

    @api.model
    def _collection_log(
        self,
        moves,
        channel,
        outcome,
        note=False,
        attachments=None,
        promised_date=False,
        promise_amount=0.0,
        activities=None,
        exclude=False,
        renegotiate=None,
        plan_installments=None,
    ):
        """Record a contact about ``moves`` and everything it implies, all or nothing.

        The promise (outcome ``promise``) is validated first, replacing the open
        promise ``renegotiate`` if given (which is cancelled, with a note); then
        the contact is stored, posted on every invoice's chatter with copies of
        ``attachments`` (files of other documents stay there), the triggering
        ``activities`` and the user's own open collection activities on the
        invoices are marked done, and a dispute with ``exclude`` excludes the
        invoices from collection. The payment plan (outcome ``plan``, with
        ``plan_installments`` [(date, amount)]) is recorded first too, through
        the plan's own creation, its rules checked as the user. Returns the new
        ``collection.contact``.
        """
        self._collection_check_moves(moves)
        attachments = attachments or self.env["ir.attachment"]
        promise = self.env["collection.promise"]
        if renegotiate:
            self._collection_check_renegotiation(renegotiate, moves, outcome)
            self.env["collection.promise.judge"]._collection_close(
                renegotiate,
                "cancelled",
                self.env._(
                    "Promise to pay of %(amount)s by %(date)s renegotiated by "
                    "%(user)s: a new promise replaces it."
                ),
            )
        if outcome == "promise":
            if not promised_date:
                raise UserError(
                    self.env._("Enter the date by which the customer promised to pay.")
                )
            promise.check_access("create")
            # with superuser rights, so that the contact's note alone tells the
            # invoices about the promise; the promise's constraints still apply,
            # its limits as the user (a caller's default values do not)
            promise = (
                promise.sudo()
                .with_context(
                    clean_context(self.env.context), collection_promise_no_log=True
                )
                .create(
                    {
                        "move_ids": [fields.Command.set(moves.ids)],
                        "partner_id": moves.commercial_partner_id.id,
                        "company_id": moves.company_id.id,
                        "promised_date": promised_date,
                        "amount": promise_amount,
                        "note": note,
                    }
                )
                .sudo(False)
            )
        plan = self.env["collection.plan"]
        if outcome == "plan":
            plan = plan.with_context(clean_context(self.env.context)).create(
                {
                    "move_ids": [fields.Command.set(moves.ids)],
                    "installment_ids": [
                        fields.Command.create({"date": date, "amount": amount})
                        for date, amount in plan_installments or []
                    ],
                    "note": note,
                }
            )
        contact = self.create(
            {
                "user_id": self.env.user.id,
                "company_id": moves.company_id.id,
                "partner_id": moves.commercial_partner_id.id,
                "move_ids": [fields.Command.set(moves.ids)],
                "channel": channel,
                "outcome": outcome,
                "note": note,
            }
        )
        contact.sudo().write(
            {
                "promise_id": promise.id,
                "plan_id": plan.id,
                "amount_due": sum(moves.mapped("amount_residual_signed")),
            }
        )
        if promise:
            promise.sudo().contact_id = contact
        if attachments:
            contact._collection_attach(attachments)
        contact._collection_post_on_invoices()
        contact._collection_close_activities(activities)
        if outcome == "dispute" and exclude:
            moves._collection_exclude("dispute", note)
        return contact

    @api.model
    def _collection_check_renegotiation(self, promise, moves, outcome):
        """A renegotiation replaces an open promise of the same customer, that the
        user may change, by a new promise."""
        if outcome != "promise":
            raise UserError(
                self.env._(
                    "A renegotiation records a new promise to pay: choose the "
                    "outcome Promise to Pay."
                )
            )
        promise._collection_check_open("renegotiated")
        if promise.partner_id.commercial_partner_id != moves.commercial_partner_id:
            raise UserError(
                self.env._(
                    "The promise %(promise)s is not a promise of %(partner)s.",
                    promise=promise.display_name,
                    partner=moves.commercial_partner_id.display_name,
                )
            )

    def _collection_attach(self, attachments):
        """Give the contact the files: those uploaded in the Log a Contact form
        become its own, those of other documents are copied (they stay where
        they are)."""
        self.ensure_one()
        uploads = attachments.filtered(
            lambda a: a.res_model == "collection.contact.wizard"
        )
        uploads.write({"res_model": self._name, "res_id": self.id})
        copies = self.env["ir.attachment"]
        for attachment in attachments - uploads:
            copies |= attachment.copy({"res_model": self._name, "res_id": self.id})
        self.attachment_ids = [fields.Command.set((uploads | copies).ids)]

    def _collection_message_body(self):
        self.ensure_one()
        channels = dict(self._fields["channel"]._description_selection(self.env))
        outcomes = dict(self._fields["outcome"]._description_selection(self.env))
        body = Markup("<p><strong>%s</strong></p>") % self.env._(
            "Collection contact (%(channel)s): %(outcome)s",
            channel=channels[self.channel],
            outcome=outcomes[self.outcome],
        )
        if self.promise_id:
            body += Markup("<p>%s</p>") % self.env._(
                "Promise to pay %(amount)s by %(date)s. Collection escalation is "
                "paused until then.",
                amount=format_amount(
                    self.env, self.promise_id.amount, self.promise_id.currency_id
                ),
                date=format_date(self.env, self.promise_id.promised_date),
            )
        if self.note:
            body += plaintext2html(self.note)
        if len(self.move_ids) > 1:
            body += Markup("<p>%s</p>") % self.env._(
                "Invoices concerned: %(moves)s",
                moves=", ".join(self.move_ids.mapped("name")),
            )
        return body

    def _collection_post_on_invoices(self):
        """Post each contact on its invoices, each with its own copy of the files
        (so that whoever reads the invoice can open them)."""
        for contact in self:
            body = contact._collection_message_body()
            for move in contact.move_ids:
                copies = self.env["ir.attachment"]
                for attachment in contact.attachment_ids:
                    copies |= attachment.copy(
                        {"res_model": "account.move", "res_id": move.id}
                    )
                move.message_post(
                    body=body,
                    attachment_ids=copies.ids,
                    message_type="comment",
                    subtype_xmlid="mail.mt_note",
                )

    def _collection_close_activities(self, activities=None):
        """Mark done the given activities and the user's open collection activities
        on the contact's invoices: the contact is the follow-up they asked for."""
        self.ensure_one()
        engine = self.env["collection.engine"]
        own = engine._collection_followup_activities(self.move_ids).filtered(
            lambda a: a.user_id == self.env.user
        )
        todo = ((activities or self.env["mail.activity"]) | own).filtered("active")
        if todo:
            todo.action_feedback(
                feedback=self.env._(
                    "Contact logged: %(contact)s", contact=self.display_name
                )
            )

    # -------------------------------------------------------------------------
    # Actions
    # -------------------------------------------------------------------------

    def action_view_invoices(self):
        """Open the invoices concerned."""
        self.ensure_one()
        return self.move_ids._collection_action_view_invoices()
