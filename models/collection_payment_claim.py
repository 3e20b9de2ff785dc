from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_amount, format_date, plaintext2html

CLAIM_STATES = [("open", "To Find"), ("done", "Found"), ("rejected", "Not Found")]
DEFAULT_PAYMENT_CLAIM_PAUSE_DAYS = 5
# the only field a collection user types in: why no payment was found (the rest
# is the customer's answer, or set by the actions)
CLAIM_USER_FIELDS = {"reject_reason"}
# claims whose money was not found, within the last CLAIM_REJECTED_DAYS, after
# which a customer's new claims no longer pause the reminders
CLAIM_REJECTED_LIMIT = 2
CLAIM_REJECTED_DAYS = 365


class CollectionPaymentClaim(models.Model):
    """A customer says on the portal that they already paid: reminders to them
    pause for the policy's number of days while the payment is found and
    reconciled. One claim at a time pauses, and none once the customer's
    claims were not found too often (``_collection_pause_refusal``); staff
    mark a claim found, or not found (the customer is told why)."""

    _name = "collection.payment.claim"
    _description = "Payment Claimed by a Customer"
    _inherit = ["mail.thread", "mail.activity.mixin", "collection.system.fields"]
    # the customer's claim on the portal, and what the actions decide
    _collection_system_fields = frozenset(
        {
            "company_id",
            "partner_id",
            "author_id",
            "move_ids",
            "user_id",
            "salesperson_id",
            "payment_date",
            "currency_id",
            "amount",
            "reference",
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
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, readonly=True
    )
    author_id = fields.Many2one("res.partner", string="Claimed By", readonly=True)
    move_ids = fields.Many2many(
        "account.move",
        "collection_payment_claim_account_move_rel",
        "claim_id",
        "move_id",
        string="Invoices",
        readonly=True,
        check_company=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        index=True,
        readonly=True,
        help="Finds and reconciles the payment: the company's collection manager, "
        "else the salesperson.",
    )
    salesperson_id = fields.Many2one("res.users", index=True, readonly=True)
    payment_date = fields.Date(required=True, readonly=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    amount = fields.Monetary(required=True, readonly=True)
    reference = fields.Char(readonly=True)
    attachment_ids = fields.Many2many(
        "ir.attachment",
        "collection_payment_claim_ir_attachment_rel",
        "claim_id",
        "attachment_id",
        string="Proof of Payment",
        readonly=True,
    )
    state = fields.Selection(
        CLAIM_STATES, required=True, default="open", readonly=True, tracking=True
    )
    paused_until = fields.Date(
        readonly=True,
        help="The customer's reminders are paused until this day included, unless "
        "the claim is decided before. Empty: this claim did not pause them (an "
        "earlier claim was still open, or the customer's claims were not found "
        "too often).",
    )
    reject_reason = fields.Text(
        string="Why Not Found",
        tracking=True,
        help="Sent to the customer by email when no payment is found.",
    )
    date_closed = fields.Date(string="Decided On", readonly=True)

    @api.depends("partner_id.name", "amount", "payment_date")
    def _compute_name(self):
        for claim in self:
            claim.name = self.env._(
                "%(customer)s paid %(amount)s on %(date)s",
                customer=claim.partner_id.name or "",
                amount=format_amount(self.env, claim.amount, claim.currency_id)
                if claim.currency_id
                else "",
                date=format_date(self.env, claim.payment_date),
            )

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(self.env._("Customers say they paid on the portal."))
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            if set(vals) - CLAIM_USER_FIELDS:
                raise AccessError(
                    self.env._(
                        "A payment claim is the customer's answer: only why no "
                        "payment was found can be written; mark it found or not "
                        "found with its buttons."
                    )
                )
            if any(claim.state != "open" for claim in self):
                raise UserError(self.env._("This payment claim was already decided."))
        return super().write(vals)

    # -------------------------------------------------------------------------
    # Rules
    # -------------------------------------------------------------------------

    @api.model
    def _collection_pause_refusal(self, partner, company, today):
        """Why a new claim of ``partner``'s customer in ``company`` does not
        pause the reminders (a text for the customer), or None when it does: an
        earlier claim is still open, or ``CLAIM_REJECTED_LIMIT`` claims were not
        found in the last ``CLAIM_REJECTED_DAYS`` days."""
        claims = self.sudo()
        domain = [
            ("partner_id", "=", partner.commercial_partner_id.id),
            ("company_id", "=", company.id),
        ]
        if claims.search_count([*domain, ("state", "=", "open")], limit=1):
            return self.env._(
                "a payment you reported earlier is still being looked for."
            )
        rejected = claims.search_count(
            [
                *domain,
                ("state", "=", "rejected"),
                ("date_closed", ">", today - timedelta(days=CLAIM_REJECTED_DAYS)),
            ]
        )
        if rejected >= CLAIM_REJECTED_LIMIT:
            return self.env._("the last payments you reported could not be found.")
        return None

    @api.model
    def _collection_rejected_counts(self, partners):
        """``{commercial partner id: claims not found}`` over the allowed
        companies, whoever follows them (reliability is about the customer)."""
        return {
            partner.id: count
            for partner, count in self.sudo()._read_group(
                [
                    ("partner_id", "in", partners.commercial_partner_id.ids),
                    ("state", "=", "rejected"),
                    ("company_id", "in", self.env.companies.ids),
                ],
                ["partner_id"],
                ["__count"],
            )
        }

    # -------------------------------------------------------------------------
    # Actions
    # -------------------------------------------------------------------------

    def _collection_check_decidable(self):
        self.check_access("write")
        if not self.env.user.has_group("account_collections.group_collection_user"):
            raise AccessError(self.env._("Only collection users handle payments."))
        if any(claim.state != "open" for claim in self):
            raise UserError(self.env._("This payment claim was already decided."))

    def _collection_close(self, state):
        self.sudo().write(
            {"state": state, "date_closed": fields.Date.context_today(self)}
        )
        self.activity_feedback(
            ["account_collections.mail_activity_type_collection_payment_claim"],
            feedback=dict(self._fields["state"]._description_selection(self.env))[
                state
            ],
        )
        self.env["collection.portal.answer"]._collection_refresh_pause(
            self.sudo().move_ids
        )

    def action_done(self):
        """The payment was found (and reconciled): the pause ends."""
        self._collection_check_decidable()
        self._collection_close("done")
        return True

    def action_reject(self):
        """No payment was found: the pause ends, the collection process resumes,
        the customer is told why by email, and the claim counts against the
        customer's reliability."""
        self._collection_check_decidable()
        if any(not (claim.reject_reason or "").strip() for claim in self):
            raise UserError(
                self.env._(
                    "Say why no payment was found (Why Not Found): the customer "
                    "receives it by email."
                )
            )
        self._collection_close("rejected")
        for claim in self.sudo():
            body = Markup("<p>%s</p>") % self.env._(
                "Reported payment rejected by %(user)s, no payment was found: "
                "%(claim)s. The collection process resumes.",
                user=self.env.user.name,
                claim=claim.name,
            ) + plaintext2html(claim.reject_reason)
            claim.move_ids._message_log_batch(
                bodies={move.id: body for move in claim.move_ids}
            )
        self.env["collection.portal.answer"]._collection_send_claim_rejected_mail(self)
        return True
