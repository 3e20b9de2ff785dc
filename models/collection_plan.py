"""Payment plans (the negotiation phase): a customer pays some of its open
invoices in installments. While the plan is open the invoices' escalation
pauses; the daily run judges each installment from the payments reconciled with
the invoices (collection.receivable's rule of what pays an invoice, the promises'
too), in the order of the installments, and makes the plan kept (all paid),
broken (an installment unpaid after the policy's grace period) or cancelled (its
invoices reversed in full)."""

import logging
from collections import defaultdict
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, float_compare, float_is_zero, format_date

_logger = logging.getLogger(__name__)

MANAGER_GROUP = "account_collections.group_collection_manager"
PLAN_STATES = [
    ("open", "Open"),
    ("kept", "Kept"),
    ("broken", "Broken"),
    ("cancelled", "Cancelled"),
]
INSTALLMENT_STATES = [("open", "Open"), ("paid", "Paid"), ("late", "Late")]
# what the system sets on an installment: its plan and rank, and its payment
INSTALLMENT_SYSTEM_FIELDS = {"plan_id", "sequence", "amount_paid", "state"}
# what a user may change on a plan once recorded; the rest is the system's
PLAN_USER_FIELDS = {"note"}
# what the system sets when a plan is recorded and judged
SYSTEM_FIELDS = {
    "company_id",
    "partner_id",
    "user_id",
    "currency_id",
    "amount_paid",
    "date",
    "date_closed",
    "state",
}


class CollectionPlan(models.Model):
    _name = "collection.plan"
    _description = "Payment Plan"
    _inherit = ["mail.thread", "collection.system.fields"]
    _collection_system_fields = frozenset(SYSTEM_FIELDS)
    _order = "date desc, id desc"
    _check_company_auto = True

    # the invoices' company, customer and currency: shown in the form as soon as
    # the invoices are chosen (the create checks and writes them)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        index=True,
        compute="_compute_from_invoices",
        store=True,
        precompute=True,
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        readonly=True,
        index=True,
        compute="_compute_from_invoices",
        store=True,
        precompute=True,
    )
    user_id = fields.Many2one(
        "res.users", string="Salesperson", readonly=True, index=True
    )
    move_ids = fields.Many2many(
        "account.move",
        "collection_plan_account_move_rel",
        "plan_id",
        "move_id",
        string="Invoices",
        required=True,
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), "
        "('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    installment_ids = fields.One2many(
        "collection.plan.installment", "plan_id", string="Installments"
    )
    currency_id = fields.Many2one(
        "res.currency",
        readonly=True,
        compute="_compute_from_invoices",
        store=True,
        precompute=True,
    )
    amount_total = fields.Monetary(
        string="Total", compute="_compute_amounts", store=True
    )
    amount_due = fields.Monetary(
        string="Left to Pay",
        compute="_compute_amount_due",
        help="What is left to pay on the plan's invoices: the installments of a "
        "new plan add up to it.",
    )
    # the "split into N" helper of the form: it fills the installments
    split_count = fields.Integer(
        string="Split Into",
        compute="_compute_split",
        readonly=False,
        help="Number of installments: the amount left to pay is split evenly "
        "into that many installments (edit them afterwards if needed).",
    )
    split_first_date = fields.Date(
        string="First Installment",
        compute="_compute_split",
        readonly=False,
    )
    split_every = fields.Selection(
        [
            ("week", "Every week"),
            ("2weeks", "Every two weeks"),
            ("month", "Every month"),
        ],
        string="Then",
        compute="_compute_split",
        readonly=False,
    )
    amount_paid = fields.Monetary(string="Paid", readonly=True)
    date = fields.Date(
        string="Agreed On", required=True, readonly=True, default=fields.Date.today
    )
    date_closed = fields.Date(readonly=True)
    state = fields.Selection(
        PLAN_STATES, required=True, default="open", readonly=True, tracking=True
    )
    note = fields.Text()

    @api.depends("installment_ids.amount")
    def _compute_amounts(self):
        for plan in self:
            plan.amount_total = sum(plan.installment_ids.mapped("amount"))

    @api.depends("move_ids")
    def _compute_from_invoices(self):
        for plan in self:
            moves = plan.move_ids
            plan.company_id = (
                moves.company_id[:1] or plan.company_id or self.env.company
            )
            plan.partner_id = (
                moves.commercial_partner_id
                if len(moves.commercial_partner_id) == 1
                else plan.partner_id
            )
            plan.currency_id = (
                moves.currency_id
                if len(moves.currency_id) == 1
                else plan.currency_id or plan.company_id.currency_id
            )

    @api.depends("move_ids.amount_residual")
    def _compute_amount_due(self):
        for plan in self:
            plan.amount_due = sum(plan.move_ids.mapped("amount_residual"))

    def _compute_split(self):
        today = fields.Date.context_today(self)
        for plan in self:
            plan.split_count = 0
            plan.split_first_date = today + timedelta(days=7)
            plan.split_every = "month"

    @api.onchange("split_count", "split_first_date", "split_every")
    def _onchange_split(self):
        """Split the amount left to pay into ``split_count`` installments, the
        last one taking the rounding difference."""
        count = self.split_count
        if count < 1 or not self.move_ids:
            return
        first = self.split_first_date or fields.Date.context_today(self) + timedelta(
            days=7
        )
        currency = self.currency_id or self.company_id.currency_id
        due = self.amount_due
        share = currency.round(due / count)
        amounts = [share] * (count - 1) + [currency.round(due - share * (count - 1))]
        step = {
            "week": relativedelta(weeks=1),
            "2weeks": relativedelta(weeks=2),
            "month": relativedelta(months=1),
        }[self.split_every or "month"]
        self.installment_ids = [Command.clear()] + [
            Command.create({"date": first + step * index, "amount": amount})
            for index, amount in enumerate(amounts)
        ]

    @api.depends("partner_id", "date")
    def _compute_display_name(self):
        for plan in self:
            if not plan.partner_id:
                plan.display_name = self.env._("New Payment Plan")
                continue
            plan.display_name = self.env._(
                "Payment plan of %(customer)s (%(date)s)",
                customer=plan.partner_id.display_name,
                date=format_date(self.env, plan.date) if plan.date else "",
            )

    # -------------------------------------------------------------------------
    # CRUD: recorded once, checked, then the system's
    # -------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if self.env.su:
            return super().create(vals_list)
        self.check_access("create")
        today = fields.Date.context_today(self)
        checked = []
        for vals in vals_list:
            if set(vals) & SYSTEM_FIELDS:
                raise AccessError(
                    self.env._(
                        "A payment plan is made of invoices, installments and a note; "
                        "the rest is set by the system."
                    )
                )
            moves = self._collection_moves_of(vals.get("move_ids"))
            installments = self._collection_installments_of(vals.get("installment_ids"))
            values = self._collection_validate(moves, installments, today)
            checked.append(dict(values, note=vals.get("note")))
        # checked with the user's rights: written by the system
        plans = super(CollectionPlan, self.sudo()).create(checked)
        plans._collection_after_create()
        return plans.with_env(self.env)

    def write(self, vals):
        if not self.env.su and set(vals) - PLAN_USER_FIELDS:
            raise AccessError(
                self.env._(
                    "A payment plan is not changed once agreed: cancel it and record "
                    "a new one. Its status is set by the daily run from the payments."
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_judged(self):
        if any(plan.state in ("kept", "broken") for plan in self):
            raise UserError(
                self.env._("Kept and broken payment plans cannot be deleted.")
            )

    @api.model
    def _collection_moves_of(self, commands):
        """The invoices named by the x2many ``commands`` (read with the user's
        rights: a plan is only made on invoices the user can see)."""
        ids = set()
        for command in commands or []:
            if command[0] == 6:
                ids.update(command[2])
            elif command[0] == 4:
                ids.add(command[1])
            else:
                raise UserError(self.env._("Choose the invoices of the payment plan."))
        moves = self.env["account.move"].browse(sorted(ids))
        moves.check_access("read")
        return moves

    @api.model
    def _collection_installments_of(self, commands):
        installments = []
        for command in commands or []:
            if command[0] != 0:
                raise UserError(
                    self.env._("The installments are entered with the payment plan.")
                )
            values = command[2] or {}
            if set(values) & INSTALLMENT_SYSTEM_FIELDS:
                raise AccessError(
                    self.env._("An installment is a date and an amount, nothing else.")
                )
            installments.append(
                (fields.Date.to_date(values.get("date")), values.get("amount") or 0.0)
            )
        return installments

    @api.model
    def _collection_validate(self, moves, installments, today):
        """Refuse a plan that does not hold together (clear messages, nothing
        written) and return the values of the plan to create."""
        if not moves:
            raise ValidationError(
                self.env._("Choose the invoices of the payment plan.")
            )
        moves = moves.sudo()
        receivable = self.env["collection.receivable"]
        if any(not receivable._collection_is_open(move) for move in moves):
            raise ValidationError(
                self.env._(
                    "A payment plan covers open customer invoices only: %(invoices)s "
                    "has nothing left to pay or is not a posted customer invoice.",
                    invoices=", ".join(
                        moves.filtered(
                            lambda m: not receivable._collection_is_open(m)
                        ).mapped("display_name")
                    ),
                )
            )
        if len(moves.commercial_partner_id) > 1 or len(moves.company_id) > 1:
            raise ValidationError(
                self.env._(
                    "The invoices of a payment plan belong to one customer and one "
                    "company."
                )
            )
        if len(moves.currency_id) > 1:
            raise ValidationError(
                self.env._("The invoices of a payment plan share one currency.")
            )
        busy = self.sudo().search(
            [("move_ids", "in", moves.ids), ("state", "=", "open")], limit=1
        )
        if busy:
            raise ValidationError(
                self.env._(
                    "%(invoices)s already have an open payment plan: cancel it first.",
                    invoices=", ".join((busy.move_ids & moves).mapped("display_name")),
                )
            )
        currency = moves.currency_id
        if not installments:
            raise ValidationError(self.env._("A payment plan needs installments."))
        dates = [date for date, _amount in installments]
        if any(not date for date in dates):
            raise ValidationError(self.env._("Each installment needs a date."))
        if any(date < today for date in dates):
            raise ValidationError(
                self.env._("The installments of a payment plan cannot be in the past.")
            )
        if any(
            later <= earlier for earlier, later in zip(dates, dates[1:], strict=False)
        ):
            raise ValidationError(
                self.env._(
                    "The installments of a payment plan are in the order of their "
                    "dates, one per date."
                )
            )
        amounts = [currency.round(amount) for _date, amount in installments]
        if any(
            float_compare(amount, 0, precision_rounding=currency.rounding) <= 0
            for amount in amounts
        ):
            raise ValidationError(
                self.env._("Each installment of a payment plan is a positive amount.")
            )
        due = sum(moves.mapped("amount_residual"))
        if not float_is_zero(sum(amounts) - due, precision_rounding=currency.rounding):
            raise ValidationError(
                self.env._(
                    "The installments add up to %(total)s, but the invoices have "
                    "%(due)s left to pay: they must be equal.",
                    total=currency.format(sum(amounts)),
                    due=currency.format(due),
                )
            )
        policy = moves[0].with_company(moves.company_id).collection_policy_id
        if policy and not self.env.user.has_group(MANAGER_GROUP):
            if len(installments) > policy.plan_max_installments or (
                dates[-1] > today + timedelta(days=policy.plan_max_days)
            ):
                raise AccessError(
                    self.env._(
                        "A payment plan of more than %(count)s installments or "
                        "longer than %(days)s days (policy %(policy)s) can only be "
                        "recorded by a collection manager.",
                        count=policy.plan_max_installments,
                        days=policy.plan_max_days,
                        policy=policy.display_name,
                    )
                )
        return {
            "company_id": moves.company_id.id,
            "partner_id": moves.commercial_partner_id.id,
            "user_id": moves[0]._collection_assignee("plan").id,
            "currency_id": currency.id,
            "move_ids": [(6, 0, moves.ids)],
            "date": today,
            "installment_ids": [
                (0, 0, {"sequence": index, "date": date, "amount": amount})
                for index, (date, amount) in enumerate(
                    zip(dates, amounts, strict=True), start=1
                )
            ],
        }

    def _collection_after_create(self):
        for plan in self:
            body = Markup("<p>%s</p><ul>%s</ul>") % (
                self.env._(
                    "Payment plan agreed by %(user)s: the escalation of these invoices "
                    "pauses while the customer pays its installments.",
                    user=self.env.user.name,
                ),
                Markup().join(
                    Markup("<li>%s: %s</li>")
                    % (
                        installment.date,
                        plan.currency_id.format(installment.amount),
                    )
                    for installment in plan.installment_ids
                ),
            )
            for move in plan.move_ids:
                move.message_post(body=body, subtype_xmlid="mail.mt_note")
            plan.message_post(body=body, subtype_xmlid="mail.mt_note")
        self._collection_send("account_collections.mail_template_collection_plan")

    def _collection_send(self, template_xmlid):
        """Email the customers (queued), each in its language."""
        template = self.env.ref(template_xmlid, raise_if_not_found=False)
        if not template:
            return
        for plan in self.sudo():
            if not plan.partner_id.email:
                plan.message_post(
                    body=self.env._(
                        "The customer has no email address: the payment plan was not "
                        "emailed."
                    ),
                    subtype_xmlid="mail.mt_note",
                )
                continue
            plan.message_post_with_source(
                template, message_type="comment", subtype_xmlid="mail.mt_comment"
            )

    # -------------------------------------------------------------------------
    # Actions
    # -------------------------------------------------------------------------

    @api.model
    def _collection_action_new(self, moves):
        """The form of a new payment plan on ``moves`` (every entry point: the
        invoice, the customer, the worklist's rows), less the invoices an open
        plan already covers."""
        customer = moves.commercial_partner_id
        busy_plans_sudo = self.sudo().search(
            [("move_ids", "in", moves.ids), ("state", "=", "open")]
        )
        busy = busy_plans_sudo.move_ids
        if moves and not moves - busy:
            # every invoice is in an open plan already: show it, or say whose
            plans = busy_plans_sudo.with_env(self.env)
            if len(plans) == 1 and plans.has_access("read"):
                return {
                    "type": "ir.actions.act_window",
                    "name": plans.display_name,
                    "res_model": "collection.plan",
                    "res_id": plans.id,
                    "view_mode": "form",
                    "views": [(False, "form")],
                    "target": "current",
                }
            raise UserError(
                self.env._(
                    "%(invoices)s already in an open payment plan (%(plans)s): "
                    "cancel it first to record a new one.",
                    invoices=", ".join(moves.mapped("display_name")),
                    plans=", ".join(busy_plans_sudo.mapped("display_name")),
                )
            )
        moves -= busy
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Payment Plan: %(customer)s", customer=customer.name)
            if len(customer) == 1
            else self.env._("Payment Plan"),
            "res_model": "collection.plan",
            "view_mode": "form",
            "target": "current",
            "context": {"default_move_ids": [(6, 0, moves.ids)]},
        }

    @api.model
    def _collection_overdue_moves(self, partner, company):
        """The customer's overdue invoices in ``company`` that the user sees: what
        a plan from the worklist covers by default."""
        return self.env["account.move"].search(
            [
                ("commercial_partner_id", "=", partner.commercial_partner_id.id),
                ("company_id", "=", company.id),
                *self.env["collection.receivable"]._collection_open_domain(),
                ("collection_days_overdue", ">", 0),
            ]
        )

    def action_cancel(self):
        """Cancel open plans (their salesperson or a collection manager): the
        escalation of their invoices resumes."""
        self.check_access("write")
        if any(plan.state != "open" for plan in self):
            raise UserError(self.env._("Only open payment plans can be cancelled."))
        today = fields.Date.context_today(self)
        self.sudo().write({"state": "cancelled", "date_closed": today})
        for plan in self.sudo():
            plan._collection_log(
                self.env._(
                    "Payment plan cancelled by %(user)s: the collection process "
                    "resumes.",
                    user=self.env.user.name,
                )
            )
        return True

    def _collection_log(self, text):
        body = Markup("<p>%s</p>") % text
        self.message_post(body=body, subtype_xmlid="mail.mt_note")
        for move in self.move_ids:
            move.message_post(body=body, subtype_xmlid="mail.mt_note")

    # -------------------------------------------------------------------------
    # Judging (the daily run)
    # -------------------------------------------------------------------------

    @api.model
    def _collection_judge_due(self, today):
        """Judge every open plan as of ``today``: each installment's payment, and
        the plan kept, broken or cancelled. One query for the payments of all open
        plans; each plan in a savepoint (one bad record does not stop the run)."""
        plans = self.sudo().search([("state", "=", "open")])
        if not plans:
            return
        self.env.flush_all()
        # what pays an invoice is collection.receivable's rule (money, not
        # credit notes), the promises' too
        rows = self.env.execute_query(
            SQL(
                """
                SELECT plan.id, pay.date, SUM(pay.amount)
                  FROM collection_plan plan
                  JOIN collection_plan_account_move_rel rel ON rel.plan_id = plan.id
                  JOIN (%(payments)s) pay ON pay.move_id = rel.move_id
                 WHERE plan.id = ANY(%(ids)s)
                   AND pay.date >= plan.date
                   AND pay.date <= %(today)s
              GROUP BY plan.id, pay.date
              ORDER BY plan.id, pay.date
                """,
                ids=plans.ids,
                today=today,
                payments=self.env["collection.receivable"]._collection_payments_sql(),
            )
        )
        payments = defaultdict(list)
        for plan_id, day, amount in rows:
            payments[plan_id].append((day, amount))
        # what judging reads, for every plan at once (plan by plan, the
        # invoices, the installments and the policy cost some 10 ms a plan)
        existing = plans.move_ids.exists()
        existing.fetch(["state", "payment_state"])
        plans.installment_ids.fetch(
            ["sequence", "date", "amount", "amount_paid", "state"]
        )
        grace_days = self._collection_grace_days(plans)
        for plan in plans:
            try:
                with self.env.cr.savepoint():
                    plan._collection_judge(
                        payments[plan.id],
                        today,
                        moves=plan.move_ids & existing,
                        grace_days=grace_days.get(plan.id, 0),
                    )
            except Exception:  # noqa: BLE001 - logged, the others go on
                _logger.exception("Payment plan %s could not be judged", plan.id)

    @api.model
    def _collection_grace_days(self, plans):
        """``{plan id: grace days}``: the ``plan_grace_days`` of the policy of
        each plan's first invoice, read for every plan in one query (the
        invoices' policy rule in SQL, collection.receivable's)."""
        first_moves = {plan.id: plan.move_ids[:1].id for plan in plans if plan.move_ids}
        if not first_moves:
            return {}
        receivable = self.env["collection.receivable"]
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT m.id, pol.plan_grace_days
                  FROM account_move m
                  %(joins)s
             LEFT JOIN collection_policy pol ON pol.id = %(policy)s
                 WHERE m.id = ANY(%(ids)s)
                """,
                joins=receivable._collection_invoice_joins("m", alias="rcv"),
                policy=receivable._collection_policy_sql("rcv"),
                ids=list(set(first_moves.values())),
            )
        )
        days = {move_id: grace or 0 for move_id, grace in rows}
        return {
            plan_id: days.get(move_id, 0) for plan_id, move_id in first_moves.items()
        }

    def _collection_judge(self, payments, today, moves=None, grace_days=None):
        """Judge one plan from ``payments`` ([(date, amount)] in date order).
        ``moves`` (its invoices that still exist) and ``grace_days`` (of its
        first invoice's policy) are read for every plan at once by
        :meth:`_collection_judge_due`; read here when not given."""
        self.ensure_one()
        currency = self.currency_id
        if moves is None:
            moves = self.move_ids.exists()
        moves = moves.filtered(lambda m: m.state == "posted")
        if not moves:
            self.write({"state": "cancelled", "date_closed": today})
            self.message_post(
                body=self.env._(
                    "Payment plan cancelled: its invoices were reset to draft or "
                    "deleted."
                ),
                subtype_xmlid="mail.mt_note",
            )
            return

        def paid_by(day):
            return sum(amount for date, amount in payments if date <= day)

        total_paid = paid_by(today)
        # what pays an invoice, and what a credit note does, is
        # collection.receivable's rule, the promises' too
        verdict = self.env["collection.receivable"]._collection_commitment_verdict(
            moves, self.amount_total, total_paid, currency
        )
        if verdict == "cancelled":
            self.write({"state": "cancelled", "date_closed": today})
            self._collection_log(
                self.env._(
                    "Payment plan cancelled: its invoices were reversed by credit "
                    "notes, nothing was paid."
                )
            )
            return
        # a credit note is not a payment but what it credits is no longer owed:
        # the installments never ask more than what was paid plus what is owed
        # (the last ones are the ones credited)
        owed = max(sum(moves.mapped("amount_residual")), 0.0)
        limit = total_paid + owed
        if grace_days is None:
            grace_days = self.move_ids[0].collection_policy_id.plan_grace_days or 0
        grace = timedelta(days=grace_days)
        covered, broken = 0.0, False
        for installment in self.installment_ids.sorted("sequence"):
            before = covered
            covered += installment.amount
            due = min(covered, limit)
            paid = min(installment.amount, max(total_paid - before, 0.0))
            if (
                float_compare(total_paid, due, precision_rounding=currency.rounding)
                >= 0
            ):
                state = "paid"
            elif installment.date < today:
                state = "late"
                deadline = installment.date + grace
                if (
                    deadline < today
                    and float_compare(
                        paid_by(deadline), due, precision_rounding=currency.rounding
                    )
                    < 0
                ):
                    broken = True
            else:
                state = "open"
            if (installment.state, installment.amount_paid) != (state, paid):
                installment.write({"state": state, "amount_paid": paid})
        values = {"amount_paid": min(total_paid, self.amount_total)}
        if verdict == "kept" or all(i.state == "paid" for i in self.installment_ids):
            values.update(state="kept", date_closed=today)
            self.write(values)
            self._collection_log(
                self.env._("Payment plan kept: every installment was paid.")
            )
        elif broken:
            values.update(state="broken", date_closed=today)
            self.write(values)
            self._collection_broken()
        elif values["amount_paid"] != self.amount_paid:
            self.write(values)

    def _collection_broken(self):
        """A broken plan: the salesperson gets an activity, the escalation of the
        invoices resumes (the plan is no longer open), the customer is emailed."""
        self.ensure_one()
        late = self.installment_ids.filtered(lambda i: i.state == "late")
        self._collection_log(
            self.env._(
                "Payment plan broken: the installment of %(date)s was not paid within "
                "the grace period. The collection process resumes.",
                date=late[:1].date,
            )
        )
        move = (
            self.move_ids.filtered(
                lambda m: m.payment_state in ("not_paid", "partial")
            )[:1]
            or self.move_ids[:1]
        )
        user = move._collection_assignee("plan_broken", holder=self.user_id)
        if user:
            move.activity_schedule(
                "account_collections.mail_activity_type_collection_plan_broken",
                user_id=user.id,
                summary=self.env._(
                    "Payment plan broken: call %(customer)s",
                    customer=self.partner_id.display_name,
                ),
                note=self.env._(
                    "The customer missed the installment of %(date)s of its payment "
                    "plan (%(amount)s).",
                    date=late[:1].date,
                    amount=self.currency_id.format(late[:1].amount),
                ),
            )
        self._collection_send(
            "account_collections.mail_template_collection_plan_broken"
        )


class CollectionPlanInstallment(models.Model):
    _name = "collection.plan.installment"
    _description = "Payment Plan Installment"
    _inherit = ["collection.system.fields"]
    _collection_system_fields = frozenset(INSTALLMENT_SYSTEM_FIELDS)
    _order = "plan_id, sequence, date, id"

    plan_id = fields.Many2one(
        "collection.plan", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="plan_id.company_id", store=True)
    sequence = fields.Integer(default=1, readonly=True)
    date = fields.Date(required=True)
    currency_id = fields.Many2one(related="plan_id.currency_id")
    amount = fields.Monetary(required=True)
    amount_paid = fields.Monetary(string="Paid", readonly=True)
    state = fields.Selection(
        INSTALLMENT_STATES, required=True, default="open", readonly=True
    )

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(
                self.env._("The installments are entered with the payment plan.")
            )
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            raise AccessError(
                self.env._(
                    "A payment plan is not changed once agreed: cancel it and record "
                    "a new one."
                )
            )
        return super().write(vals)
