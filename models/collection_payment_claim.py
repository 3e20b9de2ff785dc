from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_amount, format_date

CLAIM_STATES = [("open", "To Find"), ("done", "Found")]
DEFAULT_PAYMENT_CLAIM_PAUSE_DAYS = 5


class CollectionPaymentClaim(models.Model):
    """A customer says on the portal that they already paid: reminders to them
    pause for the policy's number of days while the payment is found and
    reconciled."""

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
    paused_until = fields.Date(readonly=True)

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
            raise AccessError(
                self.env._(
                    "A payment claim is the customer's answer: mark it found with "
                    "its button once the payment is reconciled."
                )
            )
        return super().write(vals)

    def action_done(self):
        """The payment was found (and reconciled): the pause ends."""
        self.check_access("write")
        if not self.env.user.has_group("account_collections.group_collection_user"):
            raise AccessError(self.env._("Only collection users handle payments."))
        if any(claim.state != "open" for claim in self):
            raise UserError(self.env._("This payment was already found."))
        self.sudo().write({"state": "done"})
        self.activity_feedback(
            ["account_collections.mail_activity_type_collection_payment_claim"]
        )
        self.env["collection.portal.answer"]._collection_refresh_pause(self.move_ids)
        return True
