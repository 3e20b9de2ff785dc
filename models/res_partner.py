from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

from .collection_tools import without_defaults

MANAGER_GROUP = "account_collections.group_collection_manager"
# refreshed by the daily run only (set-based SQL): no user writes them
PARTNER_SYSTEM_FIELDS = {"collection_avg_days_late", "collection_segment_id"}


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "collection.system.fields"]
    # (the experiments' assignments are written by the experiments only)
    _collection_system_fields = frozenset(
        PARTNER_SYSTEM_FIELDS | {"collection_experiment_assignment_ids"}
    )

    collection_policy_id = fields.Many2one(
        "collection.policy",
        company_dependent=True,
        domain="[('company_id', 'in', (False, current_company_id))]",
        help="Overrides the company's default collection policy for this customer. "
        "Only a collection manager sets or changes it; each change is written in "
        "the customer's chatter.",
        groups="account_collections.group_collection_user",
    )
    # set by the daily run's evaluation of the segments (set-based SQL)
    collection_segment_id = fields.Many2one(
        "collection.segment",
        company_dependent=True,
        readonly=True,
        copy=False,
        help="The first segment of the company whose conditions the customer "
        "meets, as the daily collection run last found it. Its policy applies "
        "unless a policy is set on the customer.",
        groups="account_collections.group_collection_user",
    )
    collection_experiment_assignment_ids = fields.One2many(
        "collection.experiment.assignment",
        "partner_id",
        string="Collection Experiments",
        readonly=True,
        groups="account_collections.group_collection_manager",
    )
    collection_mail_contact = fields.Boolean(
        string="Receives Collection Emails",
        help="Collection emails go to this contact when the invoice's own contact "
        "has no email address.",
    )
    collection_invoice_count = fields.Integer(
        string="Invoices in Collection",
        compute="_compute_collection_invoice_count",
        groups="account_collections.group_collection_user",
    )
    collection_promise_kept_count = fields.Integer(
        string="Promises Kept",
        compute="_compute_collection_reliability",
        groups="account_collections.group_collection_user",
    )
    collection_promise_broken_count = fields.Integer(
        string="Promises Broken",
        compute="_compute_collection_reliability",
        groups="account_collections.group_collection_user",
    )
    collection_claim_rejected_count = fields.Integer(
        string="Payments Reported, Not Found",
        compute="_compute_collection_reliability",
        help="Payments the customer said on the portal they had made, and that "
        "were not found.",
        groups="account_collections.group_collection_user",
    )
    collection_reliability = fields.Float(
        string="Promise Reliability (%)",
        compute="_compute_collection_reliability",
        digits=(16, 0),
        help="Share of the customer's judged promises to pay that were kept; a "
        "payment they reported on the portal that was not found counts as a "
        "broken promise.",
        groups="account_collections.group_collection_user",
    )
    # computed (0: no history) when the customer is created, then refreshed by
    # the daily run's SQL; being computed also keeps it out of a merge of customers
    collection_avg_days_late = fields.Float(
        string="Average Days Late",
        compute="_compute_collection_avg_days_late",
        store=True,
        digits=(16, 1),
        readonly=True,
        copy=False,
        help="Amount-weighted average days between the due date and the payment of "
        "the customer's paid invoices. Refreshed by the daily collection run.",
        groups="account_collections.group_collection_user",
    )
    collection_promise_count = fields.Integer(
        string="Promises to Pay",
        compute="_compute_collection_counts",
        groups="account_collections.group_collection_user",
    )
    collection_contact_count = fields.Integer(
        string="Collection Contacts",
        compute="_compute_collection_counts",
        groups="account_collections.group_collection_user",
    )

    @api.depends()
    def _compute_collection_avg_days_late(self):
        # a new customer has no paid invoices yet: the daily run fills it in
        for partner in self:
            partner.collection_avg_days_late = 0.0

    @api.depends_context("allowed_company_ids")
    def _compute_collection_reliability(self):
        counts = self.env["collection.promise"]._collection_counts_by_partner(
            self, ("kept", "broken")
        )
        not_found = self.env["collection.payment.claim"]._collection_rejected_counts(
            self
        )
        for partner in self:
            commercial = partner.commercial_partner_id.id
            kept = counts[commercial, "kept"]
            broken = counts[commercial, "broken"]
            rejected = not_found.get(commercial, 0)
            partner.collection_promise_kept_count = kept
            partner.collection_promise_broken_count = broken
            partner.collection_claim_rejected_count = rejected
            judged = kept + broken + rejected
            partner.collection_reliability = 100.0 * kept / judged if judged else 0.0

    @api.depends_context("uid", "allowed_company_ids")
    def _compute_collection_counts(self):
        counts = {}
        for model, fname in (
            ("collection.promise", "collection_promise_count"),
            ("collection.contact", "collection_contact_count"),
        ):
            if self.env[model].has_access("read"):
                counts[fname] = dict(
                    self.env[model]._read_group(
                        [("partner_id", "in", self.commercial_partner_id.ids)],
                        ["partner_id"],
                        ["__count"],
                    )
                )
            else:
                counts[fname] = {}
        for partner in self:
            for fname, by_partner in counts.items():
                partner[fname] = by_partner.get(partner.commercial_partner_id, 0)

    # -------------------------------------------------------------------------
    # CRUD: the customer's policy is a manager's choice, its history the run's
    # -------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        fallback = self._collection_policy_fallback()
        manager = self.env.su or self.env.user.has_group(MANAGER_GROUP)
        if not self.env.su:
            self._collection_check_system_fields(vals_list)
            if not manager:
                given = [
                    self._collection_policy_of(vals["collection_policy_id"])
                    for vals in vals_list
                    if "collection_policy_id" in vals
                ]
                if any(policy != fallback for policy in given):
                    self._collection_raise_policy()
                # nor through the context's default (the system fields take
                # none: collection.system.fields)
                self = without_defaults(self, {"collection_policy_id"})  # noqa: PLW0642
        partners = super().create(vals_list)
        if not manager:
            # nor through a personal default (ir.default): a salesperson's new
            # customers follow the company's default policy
            personal = partners.sudo().filtered(
                lambda partner: partner.collection_policy_id != fallback
            )
            if personal:
                super(ResPartner, personal).write({"collection_policy_id": fallback.id})
        partners._collection_log_policy_changes(dict.fromkeys(partners.ids, fallback))
        return partners

    def write(self, vals):
        restricted = not (self.env.su or self.env.user.has_group(MANAGER_GROUP))
        if not self.env.su:
            self._collection_check_system_fields([vals])
        customers = None
        if restricted and {"parent_id", "is_company"}.intersection(vals):
            customers = {partner: partner.commercial_partner_id for partner in self}
        if "collection_policy_id" not in vals:
            result = super().write(vals)
            if customers:
                self._collection_check_invoices_policy(customers)
            return result
        before = {partner.id: partner.collection_policy_id for partner in self.sudo()}
        new = self._collection_policy_of(vals["collection_policy_id"])
        # saving a form or an import with the same policy is no change
        if restricted and any(policy != new for policy in before.values()):
            self._collection_raise_policy()
        result = super().write(vals)
        if customers:
            self._collection_check_invoices_policy(customers)
        self._collection_log_policy_changes(before)
        return result

    def _collection_check_invoices_policy(self, customers):
        """Refuse, to a user who may not change policies, moving a contact with
        customer invoices under another customer (``customers``: each partner's
        commercial partner before the change) that follows another policy: the
        invoices would follow it."""
        moved = self.filtered(
            lambda partner: (
                partner.commercial_partner_id != customers[partner]
                and self._collection_policy_differences(
                    partner.commercial_partner_id | customers[partner]
                )
            )
        )
        if not moved:
            return
        invoiced = (
            self.env["account.move"]
            .sudo()
            .search_count(
                [
                    ("partner_id", "child_of", moved.ids),
                    ("move_type", "in", ("out_invoice", "out_refund")),
                    ("state", "=", "posted"),
                ],
                limit=1,
            )
        )
        if invoiced:
            raise AccessError(
                self.env._(
                    "%(contact)s has customer invoices: moving it under %(customer)s, "
                    "which follows another collection policy, would change the "
                    "policy of these invoices; only a collection manager can do it.",
                    contact=moved[0].display_name,
                    customer=moved[0].commercial_partner_id.display_name,
                )
            )

    @api.model
    def _collection_policy_differences(self, customers):
        """The companies in which ``customers`` do not all have the same
        collection policy."""
        customers = customers.sudo()
        return (
            self.env["res.company"]
            .sudo()
            .search([])
            .filtered(
                lambda company: (
                    len(
                        {
                            customer.with_company(company).collection_policy_id.id
                            for customer in customers
                        }
                    )
                    > 1
                )
            )
        )

    def _collection_check_merge(self):
        """Refuse, to a user who may not change policies, merging customers that
        follow different collection policies: the invoices of some of them would
        follow another one."""
        if self.env.su or self.env.user.has_group(MANAGER_GROUP):
            return
        companies = self._collection_policy_differences(self.commercial_partner_id)
        if companies:
            raise AccessError(
                self.env._(
                    "%(partners)s follow different collection policies (in "
                    "%(companies)s): only a collection manager can merge them.",
                    partners=", ".join(self.mapped("display_name")),
                    companies=", ".join(companies.mapped("name")),
                )
            )

    @api.model
    def _collection_check_system_fields(self, vals_list):
        given = PARTNER_SYSTEM_FIELDS.intersection(
            fname for vals in vals_list for fname in vals
        )
        if given == {"collection_segment_id"}:
            raise AccessError(
                self.env._(
                    "The collection segment of a customer is set by the daily "
                    "collection run from the segments' conditions; it cannot be "
                    "written."
                )
            )
        if given:
            raise AccessError(
                self.env._(
                    "The payment history of a customer (%(fields)s) is computed by "
                    "the daily collection run; it cannot be written.",
                    fields=", ".join(
                        self._fields[fname]._description_string(self.env)
                        for fname in sorted(given)
                    ),
                )
            )

    def _collection_raise_policy(self):
        raise AccessError(
            self.env._(
                "Only a collection manager can set or change the collection policy "
                "of a customer: ask one to do it."
            )
        )

    @api.model
    def _collection_policy_fallback(self):
        """The policy of a customer who has none of their own in the current
        company: the default set for customers there (``ir.default``), if any."""
        return (
            self._fields["collection_policy_id"]
            .get_company_dependent_fallback(self)
            .sudo()
        )

    def _collection_effective_policy(self, arms=None):
        """The collection policy the customer (a commercial partner, in the
        current company) follows: its own, when set by hand (different from the
        company's default for customers); else its arm's in a running experiment
        of the company; else its segment's; else the default
        for customers; else the company's default policy. The SQL form is
        collection.receivable's _collection_partner_policy_sql().

        :param arms: the experiments' policies of many customers, read at once
            (``_collection_experiment_policies()``), else read for this one."""
        self.ensure_one()
        partner = self.sudo()
        own = partner.collection_policy_id
        if own and own != self._collection_policy_fallback():
            return own
        if arms is None:
            arms = self._collection_experiment_policies()
        experiment_policy = arms.get(self.id)
        if experiment_policy:
            return experiment_policy
        segment = partner.collection_segment_id
        if segment.active and segment.company_id == self.env.company:
            return segment.policy_id
        return own or self.env.company.sudo().collection_policy_id

    def _collection_experiment_policies(self):
        """``{partner id: policy}`` of these customers' arms in the latest
        running experiment of the current company they are assigned to (those
        not assigned are left out), in one query. The latest is the one of the
        highest id, as in the SQL form (ordering by ``experiment_id desc``
        would reverse the experiments' own order, their start date first)."""
        assignments = (
            self.env["collection.experiment.assignment"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", self.ids),
                    ("company_id", "=", self.env.company.id),
                    ("experiment_id.state", "=", "running"),
                ]
            )
        )
        policies = {}
        for assignment in assignments.sorted(
            lambda a: a.experiment_id.id, reverse=True
        ):
            experiment = assignment.experiment_id
            policies.setdefault(
                assignment.partner_id.id,
                experiment.variant_policy_id
                if assignment.arm == "variant"
                else experiment.control_policy_id,
            )
        return policies

    def action_collection_payment_plan(self):
        """A new payment plan on the customer's open invoices (those the user
        sees, of the current company)."""
        self.ensure_one()
        moves = self.env["account.move"].search(
            self.env["collection.receivable"]._collection_open_domain()
            + [
                ("commercial_partner_id", "=", self.commercial_partner_id.id),
                ("company_id", "=", self.env.company.id),
            ]
        )
        return self.env["collection.plan"]._collection_action_new(moves)

    @api.model
    def _collection_policy_of(self, value):
        """The policy that ``value`` (a value of ``create``/``write``) stands for."""
        if isinstance(value, models.BaseModel):
            return value.sudo()
        return self.env["collection.policy"].sudo().browse(value or ())

    def _collection_log_policy_changes(self, before):
        """Write in each customer's chatter whose collection policy differs from
        ``before`` (``{partner id: policy}``) who changed it, from what to what,
        in which company, whatever the caller's context."""
        company = self.env.company
        bodies = {}
        for partner in self.sudo():
            old = before.get(partner.id, partner.collection_policy_id)
            new = partner.collection_policy_id
            if old != new:
                bodies[partner.id] = Markup("<p>%s</p>") % self.env._(
                    "Collection policy in %(company)s changed by %(user)s: from "
                    "%(old)s to %(new)s.",
                    company=company.name,
                    user=self.env.user.name,
                    old=self._collection_policy_label(old),
                    new=self._collection_policy_label(new),
                )
        if bodies:
            self.browse(list(bodies))._message_log_batch(bodies)

    @api.model
    def _collection_policy_label(self, policy):
        if policy:
            return policy.display_name
        default = self.env.company.sudo().collection_policy_id
        if default:
            return self.env._(
                "the company's default (%(policy)s)", policy=default.display_name
            )
        return self.env._("none")

    @api.model
    def _collection_refresh_payment_history(self):
        """Set-based refresh of ``collection_avg_days_late`` on commercial partners:
        amount-weighted average of the days between due date and last payment of
        their paid customer invoices (payments made early count as zero)."""
        self.env["account.move"].flush_model(
            [
                "commercial_partner_id",
                "move_type",
                "state",
                "payment_state",
                "invoice_date_due",
                "amount_total_signed",
            ]
        )
        self.env["account.move.line"].flush_model(["move_id", "display_type"])
        self.env["account.partial.reconcile"].flush_model(["debit_move_id", "max_date"])
        self.flush_model(["collection_avg_days_late"])
        query = SQL(
            """
            WITH history AS (
                SELECT partner_id,
                       ROUND(SUM(amount * days) / NULLIF(SUM(amount), 0), 1)
                           AS days_late
                  FROM (%s) AS paid
              GROUP BY partner_id
            )
            UPDATE res_partner p
               SET collection_avg_days_late = COALESCE(h.days_late, 0)
              FROM res_partner p2
         LEFT JOIN history h ON h.partner_id = p2.id
             WHERE p2.id = p.id
               AND (h.partner_id IS NOT NULL OR p2.collection_avg_days_late != 0)
               AND p2.collection_avg_days_late IS DISTINCT FROM COALESCE(h.days_late, 0)
            """,
            self.env["collection.receivable"]._collection_late_invoices_sql(),
        )
        self.env.cr.execute(query)
        if self.env.cr.rowcount:
            self.invalidate_model(["collection_avg_days_late"])

    # -------------------------------------------------------------------------
    # Actions
    # -------------------------------------------------------------------------

    def action_collection_log_contact(self):
        """Open the "Log a Contact" wizard on the customer's open invoices."""
        self.ensure_one()
        wizard = self.env["collection.contact.wizard"]
        return wizard._collection_action_open(partner=self)

    def action_collection_view_promises(self):
        """Open the promises to pay of these records."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_collections.collection_promise_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"create": False}
        return action

    def action_collection_view_contacts(self):
        """Open the collection contacts of these records."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_collections.collection_contact_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"create": False}
        return action

    @api.constrains("collection_policy_id")
    def _check_collection_policy_company(self):
        # the policy is set per company: it must be shared or the current company's
        company = self.env.company
        for partner in self:
            policy = partner.collection_policy_id.sudo()
            if policy.company_id and policy.company_id != company:
                raise ValidationError(
                    self.env._(
                        "The collection policy '%(policy)s' belongs to another "
                        "company (%(company)s) than %(current)s.",
                        policy=policy.display_name,
                        company=policy.company_id.name,
                        current=company.name,
                    )
                )

    @api.depends_context("company")
    def _compute_collection_invoice_count(self):
        counts = dict(
            self.env["account.move"]._read_group(
                self._collection_invoice_domain(),
                ["commercial_partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.collection_invoice_count = counts.get(
                partner.commercial_partner_id, 0
            )

    def _collection_invoice_domain(self):
        return [
            ("commercial_partner_id", "in", self.commercial_partner_id.ids),
            *self.env["account.move"]._collection_open_domain(),
        ]

    def action_view_collection_invoices(self):
        """Open the customer's invoices still to be collected."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_collections.account_move_action_collection"
        )
        action["domain"] = self._collection_invoice_domain()
        action["context"] = {
            "default_move_type": "out_invoice",
            "default_partner_id": self.commercial_partner_id.id,
            "search_default_group_collection_stage": 1,
        }
        action["display_name"] = self.env._(
            "Invoices in Collection: %(customer)s",
            customer=self.commercial_partner_id.display_name,
        )
        return action

    def signup_prepare(self, signup_type="signup"):
        """Skip writing an unchanged signup type: emailing a customer from an
        invoice's chatter prepares their portal signup, and a write, even of the same
        value, locks the customer's row until the end of the transaction (two
        collection runs emailing one customer would wait for each other)."""
        changed = self.filtered(
            lambda partner: partner.sudo().signup_type != signup_type
        )
        return super(ResPartner, changed).signup_prepare(signup_type=signup_type)
