from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_amount, format_date, plaintext2html

CONTACT_CHANNELS = [
    ("call", "Call"),
    ("email", "Email"),
    ("visit", "Visit"),
    ("whatsapp", "WhatsApp"),
    ("letter", "Letter"),
    ("other", "Other"),
]
CONTACT_OUTCOMES = [
    ("reached", "Reached"),
    ("no_answer", "No Answer"),
    ("promise", "Promise to Pay"),
    ("refused", "Refused"),
    ("dispute", "Dispute"),
]


class CollectionContact(models.Model):
    """One collection action with a customer (a call, an email, a visit...)
    about one or several of their open invoices, and what came out of it."""

    _name = "collection.contact"
    _description = "Collection Contact"
    _order = "date desc, id desc"
    _check_company_auto = True

    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
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
    ):
        """Record a contact about ``moves`` and everything it implies, all or nothing.

        The promise (outcome ``promise``) is validated first; then the contact is
        stored, posted on every invoice's chatter with copies of ``attachments``,
        the triggering ``activities`` and the user's own open collection activities
        on the invoices are marked done, and a dispute with ``exclude`` excludes
        the invoices from collection. Returns the new ``collection.contact``.
        """
        self._collection_check_moves(moves)
        attachments = attachments or self.env["ir.attachment"]
        promise = self.env["collection.promise"]
        if outcome == "promise":
            if not promised_date:
                raise UserError(
                    self.env._("Enter the date by which the customer promised to pay.")
                )
            promise = promise.with_context(collection_promise_no_log=True).create(
                {
                    "move_ids": [fields.Command.set(moves.ids)],
                    "partner_id": moves.commercial_partner_id.id,
                    "company_id": moves.company_id.id,
                    "promised_date": promised_date,
                    "amount": promise_amount,
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
                "promise_id": promise.id,
                "amount_due": sum(moves.mapped("amount_residual_signed")),
            }
        )
        if promise:
            promise.contact_id = contact
        if attachments:
            attachments.write({"res_model": self._name, "res_id": contact.id})
            contact.attachment_ids = [fields.Command.set(attachments.ids)]
        contact._collection_post_on_invoices()
        contact._collection_close_activities(activities)
        if outcome == "dispute" and exclude:
            moves._collection_exclude("dispute", note)
        return contact

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
        own = self.move_ids._collection_followup_activities().filtered(
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
