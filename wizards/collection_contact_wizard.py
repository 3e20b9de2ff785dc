from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.collection_contact import CONTACT_CHANNELS, CONTACT_OUTCOMES


class CollectionContactWizard(models.TransientModel):
    """Log a contact with a customer about one or several of their open invoices."""

    _name = "collection.contact.wizard"
    _description = "Log a Collection Contact"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        readonly=True,
        check_company=True,
    )
    move_ids = fields.Many2many(
        "account.move",
        "collection_contact_wizard_account_move_rel",
        "wizard_id",
        "move_id",
        string="Invoices",
        required=True,
        domain="[('commercial_partner_id', '=', partner_id), "
        "('company_id', '=', company_id), ('move_type', '=', 'out_invoice'), "
        "('state', '=', 'posted'), ('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    activity_id = fields.Many2one(
        "mail.activity",
        readonly=True,
        help="The collection activity this contact answers: it is marked done.",
    )
    renegotiate_promise_id = fields.Many2one(
        "collection.promise",
        string="Replaces Promise",
        readonly=True,
        help="The open promise to pay this contact renegotiates: it is cancelled "
        "when the new promise is recorded.",
    )
    channel = fields.Selection(CONTACT_CHANNELS, required=True, default="call")
    outcome = fields.Selection(CONTACT_OUTCOMES, required=True, default="reached")
    note = fields.Text()
    attachment_ids = fields.Many2many(
        "ir.attachment",
        "collection_contact_wizard_ir_attachment_rel",
        "wizard_id",
        "attachment_id",
        string="Attachments",
    )
    currency_id = fields.Many2one("res.currency", compute="_compute_amounts")
    amount_residual = fields.Monetary(
        string="Open Amount", compute="_compute_amounts", currency_field="currency_id"
    )
    promised_date = fields.Date(string="Payment Date")
    promise_amount = fields.Monetary(
        string="Promised Amount",
        currency_field="currency_id",
        compute="_compute_promise_amount",
        store=True,
        readonly=False,
        precompute=True,
    )
    promise_date_max = fields.Date(
        string="Latest Payment Date",
        compute="_compute_promise_limits",
        help="The latest payment date of the invoices' limits (their collection "
        "policy's, else their company's, else the defaults): only a collection "
        "manager records a later one.",
    )
    promise_amount_min = fields.Monetary(
        string="Smallest Promise",
        compute="_compute_promise_limits",
        currency_field="currency_id",
        help="The smallest amount of the invoices' limits (a share of their "
        "amount due): only a collection manager records a smaller one.",
    )
    plan_installment_ids = fields.One2many(
        "collection.contact.wizard.installment",
        "wizard_id",
        string="Installments",
    )
    plan_amount = fields.Monetary(
        string="Installments Total",
        compute="_compute_plan_amount",
        currency_field="currency_id",
    )
    exclude = fields.Boolean(
        string="Exclude from Collection",
        default=True,
        help="While the dispute lasts, the invoices get no collection activity.",
    )

    @api.depends("move_ids", "company_id")
    def _compute_amounts(self):
        for wizard in self:
            currencies = wizard.move_ids.currency_id
            wizard.currency_id = (
                currencies if len(currencies) == 1 else wizard.company_id.currency_id
            )
            wizard.amount_residual = sum(wizard.move_ids.mapped("amount_residual"))

    @api.depends("move_ids")
    def _compute_promise_amount(self):
        for wizard in self:
            wizard.promise_amount = sum(wizard.move_ids.mapped("amount_residual"))

    @api.depends("move_ids")
    def _compute_promise_limits(self):
        receivable = self.env["collection.receivable"]
        for wizard in self:
            limits = receivable._collection_promise_limits(wizard.move_ids)
            wizard.promise_date_max = limits["last_date"]
            wizard.promise_amount_min = limits["minimum"]

    @api.depends("plan_installment_ids.amount")
    def _compute_plan_amount(self):
        for wizard in self:
            wizard.plan_amount = sum(wizard.plan_installment_ids.mapped("amount"))

    @api.model
    def _collection_action_open(
        self, moves=None, partner=None, activity=None, renegotiate=None
    ):
        """Return the wizard's action on ``moves``, or on the open invoices of
        ``partner`` in the current company; ``activity`` is the one it answers,
        ``renegotiate`` the open promise its new promise replaces."""
        moves = moves or self.env["account.move"]
        if partner and not moves:
            moves = self.env["account.move"].search(
                [
                    ("commercial_partner_id", "=", partner.commercial_partner_id.id),
                    ("company_id", "=", self.env.company.id),
                    *self.env["collection.receivable"]._collection_unpaid_domain(),
                ]
            )
            if not moves:
                raise UserError(
                    self.env._(
                        "%(partner)s has no open invoice in %(company)s.",
                        partner=partner.commercial_partner_id.display_name,
                        company=self.env.company.display_name,
                    )
                )
        self.env["collection.contact"]._collection_check_moves(moves)
        context = {
            "default_company_id": moves.company_id.id,
            "default_partner_id": moves.commercial_partner_id.id,
            "default_move_ids": [fields.Command.set(moves.ids)],
            "default_activity_id": activity.id if activity else False,
        }
        if renegotiate:
            context.update(
                default_renegotiate_promise_id=renegotiate.id,
                default_outcome="promise",
                default_promised_date=fields.Date.to_string(renegotiate.promised_date),
                default_promise_amount=min(
                    renegotiate.amount, sum(moves.mapped("amount_residual"))
                ),
            )
        return {
            "type": "ir.actions.act_window",
            "name": (
                self.env._("Renegotiate a Promise to Pay")
                if renegotiate
                else self.env._("Log a Contact")
            ),
            "res_model": self._name,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": context,
        }

    @api.model
    def _collection_action_open_from_activities(self, activities):
        """Open the wizard from a collection activity (server action on activities)."""
        if len(activities) != 1 or activities.res_model != "account.move":
            raise UserError(
                self.env._(
                    "Select one activity on a customer invoice to log a contact."
                )
            )
        move = self.env["account.move"].browse(activities.res_id)
        return self._collection_action_open(moves=move, activity=activities)

    def action_log(self):
        """Record the contact (and the promise to pay, if any)."""
        self.ensure_one()
        self.env["collection.contact"]._collection_log(
            self.move_ids,
            self.channel,
            self.outcome,
            note=self.note,
            attachments=self.attachment_ids,
            promised_date=self.promised_date,
            promise_amount=self.promise_amount,
            activities=self.activity_id,
            exclude=self.exclude,
            renegotiate=self.renegotiate_promise_id,
            plan_installments=[
                (line.date, line.amount)
                for line in self.plan_installment_ids.sorted(
                    lambda line: (line.date, line.id)
                )
            ],
        )
        return {"type": "ir.actions.act_window_close"}


class CollectionContactWizardInstallment(models.TransientModel):
    """An installment of the payment plan agreed during the contact."""

    _name = "collection.contact.wizard.installment"
    _description = "Log a Collection Contact: Plan Installment"
    _order = "date, id"

    wizard_id = fields.Many2one(
        "collection.contact.wizard", required=True, ondelete="cascade"
    )
    date = fields.Date(required=True)
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    amount = fields.Monetary(required=True)
