from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL


class CollectionPolicy(models.Model):
    _name = "collection.policy"
    _description = "Collection Policy"
    _inherit = ["mail.thread"]
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company",
        index=True,
        help="Leave empty to share the policy between all companies.",
    )
    stage_ids = fields.One2many(
        "collection.stage", "policy_id", string="Stages", copy=True
    )
    stage_count = fields.Integer(compute="_compute_stage_count")
    note = fields.Html(translate=True)
    promise_max_days = fields.Integer(
        string="Longest Promise (Days)",
        default=30,
        tracking=True,
        help="A salesperson may record a promise to pay due at most this many days "
        "after the day it is made; only a collection manager may record a later "
        "one.",
    )
    promise_min_percent = fields.Float(
        string="Smallest Promise (% of Amount Due)",
        default=10.0,
        digits=(16, 2),
        tracking=True,
        help="A salesperson may record a promise to pay of at least this share of "
        "the open amount of its invoices; only a collection manager may record a "
        "smaller one.",
    )

    mail_interval_days = fields.Integer(
        string="Minimum Days Between Emails",
        default=3,
        tracking=True,
        help="The daily run sends a customer at most one collection email within "
        "this many days; a stage email that falls inside the interval is held and "
        "its invoices go in the customer's next email. 0: no minimum.",
    )

    plan_grace_days = fields.Integer(
        string="Payment Plan Grace (Days)",
        default=3,
        tracking=True,
        help="An installment of a payment plan still unpaid this many days after "
        "its date breaks the plan.",
    )
    plan_max_installments = fields.Integer(
        string="Most Installments",
        default=6,
        tracking=True,
        help="A salesperson may record a payment plan of at most this many "
        "installments; only a collection manager may record a longer one.",
    )
    plan_max_days = fields.Integer(
        string="Longest Payment Plan (Days)",
        default=180,
        tracking=True,
        help="A salesperson may record a payment plan whose last installment is at "
        "most this many days away; only a collection manager may record a longer "
        "one.",
    )
    dispute_pause_days = fields.Integer(
        string="Dispute Pause (Days)",
        default=14,
        tracking=True,
        help="When a customer disputes an invoice on the portal, its collection "
        "escalation pauses this many days, or until the salesperson accepts or "
        "rejects the dispute.",
    )
    payment_claim_pause_days = fields.Integer(
        string="Payment Claim Pause (Days)",
        default=5,
        tracking=True,
        help="When a customer says on the portal that they already paid, the "
        "collection of their open invoices pauses this many days, while the "
        "payment is found and reconciled.",
    )

    # a company's cases go only to recipients set for that company: a policy of
    # the company (its managers' alone), recipients of that company
    legal_user_id = fields.Many2one(
        "res.users",
        string="Legal Responsible",
        tracking=True,
        check_company=True,
        domain="[('share', '=', False)]",
        help="The user who takes over the customers reaching a stage of phase legal: "
        "they get the handover activity and the case file. Only on a policy of "
        "one company.",
    )
    legal_partner_id = fields.Many2one(
        "res.partner",
        string="Law Firm",
        tracking=True,
        check_company=True,
        help="An external contact (a law firm) who receives the case file by email "
        "when a customer reaches a stage of phase legal. Only on a policy of one "
        "company.",
    )

    @api.depends("stage_ids")
    def _compute_stage_count(self):
        for policy in self:
            policy.stage_count = len(policy.stage_ids)

    @api.constrains("stage_ids", "active")
    def _check_has_stage(self):
        for policy in self:
            if policy.active and not policy.stage_ids:
                raise ValidationError(
                    self.env._(
                        "The collection policy '%(policy)s' must have at least one stage.",
                        policy=policy.display_name,
                    )
                )

    @api.constrains("company_id", "legal_user_id", "legal_partner_id")
    def _check_legal_recipients(self):
        for policy in self:
            if not policy.company_id and (
                policy.legal_user_id or policy.legal_partner_id
            ):
                raise ValidationError(
                    self.env._(
                        "The collection policy '%(policy)s' is shared by all the "
                        "companies: it cannot have a legal responsible or a law "
                        "firm, who would receive every company's cases. Set them "
                        "on a policy of one company.",
                        policy=policy.display_name,
                    )
                )

    @api.constrains("company_id")
    def _check_company_followers(self):
        """A policy followed in other companies stays shared: as one company's,
        that company's managers would set up the collection of the others."""
        for policy in self.filtered("company_id"):
            others = policy._collection_followed_in() - policy.company_id
            if others:
                raise ValidationError(
                    self.env._(
                        "The collection policy '%(policy)s' is followed in "
                        "%(companies)s: it cannot become a policy of %(company)s "
                        "only.",
                        policy=policy.display_name,
                        companies=", ".join(others.mapped("name")),
                        company=policy.company_id.name,
                    )
                )

    def _collection_followed_in(self):
        """The companies where this policy is followed: their default policy, a
        customer's policy there, their segments' and experiments' policies."""
        self.ensure_one()
        companies = (
            self.env["res.company"]
            .sudo()
            .with_context(active_test=False)
            .search([("collection_policy_id", "=", self.id)])
        )
        self.env["res.partner"].flush_model(["collection_policy_id"])
        company_ids = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT v.key::integer
                  FROM res_partner p, jsonb_each_text(p.collection_policy_id) v
                 WHERE p.collection_policy_id IS NOT NULL AND v.value = %s
                """,
                str(self.id),
            )
        )
        companies |= companies.browse(row[0] for row in company_ids)
        segments = (
            self.env["collection.segment"]
            .sudo()
            .with_context(active_test=False)
            .search([("policy_id", "=", self.id)])
        )
        experiments = (
            self.env["collection.experiment"]
            .sudo()
            .search(
                [
                    "|",
                    ("control_policy_id", "=", self.id),
                    ("variant_policy_id", "=", self.id),
                ]
            )
        )
        return companies | segments.company_id | experiments.company_id

    @api.constrains("mail_interval_days")
    def _check_mail_interval(self):
        for policy in self:
            if policy.mail_interval_days < 0:
                raise ValidationError(
                    self.env._(
                        "The minimum interval between two collection emails of "
                        "policy '%(policy)s' cannot be a negative number of days.",
                        policy=policy.display_name,
                    )
                )

    @api.constrains(
        "promise_max_days",
        "promise_min_percent",
        "dispute_pause_days",
        "payment_claim_pause_days",
    )
    def _check_promise_limits(self):
        for policy in self:
            if policy.dispute_pause_days < 0 or policy.payment_claim_pause_days < 0:
                raise ValidationError(
                    self.env._(
                        "The pauses of policy '%(policy)s' cannot be a negative "
                        "number of days.",
                        policy=policy.display_name,
                    )
                )
            if policy.promise_max_days < 0:
                raise ValidationError(
                    self.env._(
                        "The longest promise of policy '%(policy)s' cannot be a "
                        "negative number of days.",
                        policy=policy.display_name,
                    )
                )
            if not 0 <= policy.promise_min_percent <= 100:
                raise ValidationError(
                    self.env._(
                        "The smallest promise of policy '%(policy)s' is a share of "
                        "the amount due, between 0 and 100%%.",
                        policy=policy.display_name,
                    )
                )

    @api.constrains("plan_grace_days", "plan_max_installments", "plan_max_days")
    def _check_plan_limits(self):
        for policy in self:
            if (
                policy.plan_grace_days < 0
                or policy.plan_max_installments < 1
                or policy.plan_max_days < 1
            ):
                raise ValidationError(
                    self.env._(
                        "The payment plan limits of policy '%(policy)s' must be "
                        "positive.",
                        policy=policy.display_name,
                    )
                )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_in_use(self):
        """A policy that companies, customers or invoices follow is archived, not
        deleted: its invoices would lose their stage and start over."""
        for policy in self:
            used_by = policy._collection_used_by()
            if used_by:
                raise UserError(
                    self.env._(
                        "The collection policy '%(policy)s' is in use (%(used_by)s): "
                        "archive it instead of deleting it.",
                        policy=policy.display_name,
                        used_by=used_by,
                    )
                )

    def _collection_used_by(self):
        """What follows this policy, as a short text (empty if nothing does)."""
        self.ensure_one()
        companies = (
            self.env["res.company"]
            .sudo()
            .with_context(active_test=False)
            .search([("collection_policy_id", "=", self.id)])
        )
        if companies:
            return self.env._(
                "default policy of %(companies)s",
                companies=", ".join(companies.mapped("name")),
            )
        # a customer's policy is company dependent: any company counts
        self.env["res.partner"].flush_model(["collection_policy_id"])
        customers = self.env.execute_query(
            SQL(
                """
                SELECT COUNT(*)
                  FROM res_partner p, jsonb_each_text(p.collection_policy_id) v
                 WHERE p.collection_policy_id IS NOT NULL
                   AND v.value = %s
                """,
                str(self.id),
            )
        )[0][0]
        if customers:
            return self.env._("policy of %(count)s customers", count=customers)
        segments = (
            self.env["collection.segment"]
            .sudo()
            .with_context(active_test=False)
            .search([("policy_id", "=", self.id)])
        )
        if segments:
            return self.env._(
                "policy of the segments %(segments)s",
                segments=", ".join(segments.mapped("display_name")),
            )
        stage_use = self.with_context(active_test=False).stage_ids._collection_used_by()
        return (
            self.env._(
                "stage %(stage)s %(used_by)s",
                stage=stage_use[0].display_name,
                used_by=stage_use[1],
            )
            if stage_use
            else ""
        )

    def _collection_first_stage(self):
        self.ensure_one()
        return self.stage_ids.sorted("day_offset")[:1]
