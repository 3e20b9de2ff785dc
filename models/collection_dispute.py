from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_date, plaintext2html

DISPUTE_REASONS = [
    ("wrong_amount", "Wrong amount"),
    ("not_received", "Goods or service not received"),
    ("returned", "Already returned"),
    ("other", "Other"),
]
DISPUTE_STATES = [
    ("open", "To Decide"),
    ("accepted", "Accepted"),
    ("rejected", "Rejected"),
]
# the only field a collection user types in: why the dispute is rejected (the
# rest is the customer's answer, or set by the actions)
DISPUTE_USER_FIELDS = {"reject_reason"}
DEFAULT_DISPUTE_PAUSE_DAYS = 14


class CollectionDispute(models.Model):
    """A customer's dispute of an invoice, raised on the portal.

    The invoice's escalation pauses for the policy's number of days; the
    salesperson accepts it (the invoice is excluded from collection, reason
    dispute) or rejects it (the process resumes, the customer is told why).
    """

    _name = "collection.dispute"
    _description = "Invoice Dispute"
    _inherit = ["mail.thread", "mail.activity.mixin", "collection.system.fields"]
    # the customer's answer on the portal, and what the actions decide
    _collection_system_fields = frozenset(
        {
            "company_id",
            "move_id",
            "partner_id",
            "author_id",
            "user_id",
            "reason",
            "message",
            "attachment_ids",
            "state",
            "paused_until",
            "date_closed",
        }
    )
    _order = "create_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one("res.company", required=True, index=True)
    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        index=True,
        readonly=True,
        check_company=True,
        ondelete="cascade",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        readonly=True,
    )
    author_id = fields.Many2one(
        "res.partner",
        string="Raised By",
        readonly=True,
        help="Who answered on the portal: the portal user, or the customer when "
        "the link of a collection email was followed.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        index=True,
        readonly=True,
        help="Decides the dispute: the invoice's salesperson.",
    )
    reason = fields.Selection(DISPUTE_REASONS, required=True, readonly=True)
    message = fields.Text(readonly=True)
    attachment_ids = fields.Many2many(
        "ir.attachment",
        "collection_dispute_ir_attachment_rel",
        "dispute_id",
        "attachment_id",
        string="Attachments",
        readonly=True,
    )
    state = fields.Selection(
        DISPUTE_STATES,
        required=True,
        default="open",
        readonly=True,
        index=True,
        tracking=True,
    )
    paused_until = fields.Date(
        readonly=True,
        help="The invoice's escalation is paused until this day included, unless "
        "the dispute is decided before.",
    )
    reject_reason = fields.Text(
        string="Why Rejected",
        tracking=True,
        help="Sent to the customer by email when the dispute is rejected.",
    )
    date_closed = fields.Date(string="Decided On", readonly=True)
    currency_id = fields.Many2one(related="move_id.currency_id")
    amount_residual = fields.Monetary(
        related="move_id.amount_residual", string="Amount Due"
    )

    @api.depends("move_id.name", "partner_id.name")
    def _compute_name(self):
        for dispute in self:
            dispute.name = self.env._(
                "Dispute of %(invoice)s",
                invoice=dispute.move_id.name or "",
            )

    # -------------------------------------------------------------------------
    # CRUD: raised on the portal, decided by the actions
    # -------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(
                self.env._("Disputes are raised by customers on the portal.")
            )
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            if set(vals) - DISPUTE_USER_FIELDS:
                raise AccessError(
                    self.env._(
                        "A dispute is the customer's answer: only why it is "
                        "rejected can be written; accept or reject it with its "
                        "buttons."
                    )
                )
            if any(dispute.state != "open" for dispute in self):
                raise UserError(self.env._("This dispute was already decided."))
        return super().write(vals)

    # -------------------------------------------------------------------------
    # Actions
    # -------------------------------------------------------------------------

    def _collection_check_decidable(self):
        self.check_access("write")
        if not self.env.user.has_group("account_collections.group_collection_user"):
            raise AccessError(self.env._("Only collection users decide disputes."))
        decided = self.filtered(lambda d: d.state != "open")
        if decided:
            raise UserError(
                self.env._(
                    "%(dispute)s was already decided.",
                    dispute=decided[0].display_name,
                )
            )

    def action_accept(self):
        """Accept the disputes: their invoices are excluded from collection with
        reason dispute (as the exclusion wizard does)."""
        self._collection_check_decidable()
        for dispute in self:
            note = self.env._(
                "Dispute accepted: %(reason)s. %(message)s",
                reason=dispute._collection_reason_label(),
                message=dispute.message or "",
            )
            dispute.move_id._collection_exclude("dispute", note)
        self._collection_close("accepted")
        return True

    def action_reject(self):
        """Reject the disputes: the collection process of the invoices resumes
        and the customer is told why by email."""
        self._collection_check_decidable()
        missing = self.filtered(lambda d: not (d.reject_reason or "").strip())
        if missing:
            raise UserError(
                self.env._(
                    "Say why the dispute is rejected (Why Rejected): the customer "
                    "receives it by email."
                )
            )
        self._collection_close("rejected")
        for dispute in self:
            body = Markup("<p>%s</p>") % self.env._(
                "Dispute rejected by %(user)s: the collection process resumes.",
                user=self.env.user.name,
            ) + plaintext2html(dispute.reject_reason)
            dispute.move_id.sudo()._message_log(body=body)
        self.env["collection.portal.answer"]._collection_send_answer_mail(
            self, "account_collections.collection_portal_dispute_rejected_mail"
        )
        return True

    def _collection_close(self, state):
        today = fields.Date.context_today(self)
        self.sudo().write({"state": state, "date_closed": today})
        self.activity_feedback(
            ["account_collections.mail_activity_type_collection_dispute"],
            feedback=dict(self._fields["state"]._description_selection(self.env))[
                state
            ],
        )
        self.env["collection.portal.answer"]._collection_refresh_pause(self.move_id)

    def _collection_reason_label(self):
        self.ensure_one()
        return dict(self._fields["reason"]._description_selection(self.env))[
            self.reason
        ]

    def _collection_summary(self):
        """The answer in one line, for the activity and the chatter."""
        self.ensure_one()
        return self.env._(
            "%(customer)s disputes %(invoice)s: %(reason)s (collection paused until "
            "%(date)s)",
            customer=self.partner_id.name,
            invoice=self.move_id.name,
            reason=self._collection_reason_label(),
            date=format_date(self.env, self.paused_until),
        )

    def action_view_invoice(self):
        """Open the disputed invoice."""
        self.ensure_one()
        return self.move_id._collection_action_view_invoices()
