from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

# A stage more than this many days from the due date is almost certainly a typo.
MIN_DAY_OFFSET = -90
MAX_DAY_OFFSET = 730

# The four phases of collection, in their order. A stage's phase follows from its
# day offset unless set by hand (legal only ever is): up to the due date
# preventive, then administrative, from COLLECTION_NEGOTIATION_DAYS negotiation.
COLLECTION_PHASES = [
    ("preventive", "Preventive"),
    ("administrative", "Administrative"),
    ("negotiation", "Negotiation"),
    ("legal", "Legal"),
]
COLLECTION_NEGOTIATION_DAYS = 30


class CollectionStage(models.Model):
    _name = "collection.stage"
    _description = "Collection Stage"
    _order = "policy_id, day_offset, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    policy_id = fields.Many2one(
        "collection.policy", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="policy_id.company_id", store=True, index=True, precompute=True
    )
    day_offset = fields.Integer(
        string="Days from Due Date",
        required=True,
        aggregator=False,  # offsets of several stages add up to nothing
        help="Days relative to the invoice's due date when this stage is "
        "executed; negative values run before the due date.",
    )
    phase = fields.Selection(
        COLLECTION_PHASES,
        required=True,
        compute="_compute_phase",
        store=True,
        readonly=False,
        precompute=True,
        help="The phase of collection the stage belongs to: preventive (before the "
        "due date), administrative (the customer is late), negotiation (collect or "
        "agree a new arrangement) or legal (the case is handed over). Follows the "
        "days from the due date unless set by hand.",
    )
    responsible = fields.Selection(
        [("salesperson", "Salesperson"), ("manager", "Manager")],
        required=True,
        default="salesperson",
        help="Who receives the activity: the invoice's salesperson, or the "
        "salesperson's manager (the leader of their sales team, else the "
        "company's collection manager).",
    )
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        required=True,
        ondelete="restrict",
        domain="[('res_model', 'in', (False, 'account.move'))]",
    )
    summary = fields.Char(translate=True)
    note = fields.Html(translate=True)
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Customer Email",
        domain="[('model', '=', 'account.move')]",
        help="Optional email sent to the customer when the stage is executed.",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "day_offset_policy_uniq",
            "unique(policy_id, day_offset)",
            "Two stages of the same policy cannot have the same day offset.",
        ),
    ]

    @api.depends("day_offset")
    def _compute_phase(self):
        for stage in self:
            if stage.day_offset <= 0:
                stage.phase = "preventive"
            elif stage.day_offset < COLLECTION_NEGOTIATION_DAYS:
                stage.phase = "administrative"
            else:
                stage.phase = "negotiation"

    @api.constrains("day_offset")
    def _check_day_offset(self):
        for stage in self:
            if not MIN_DAY_OFFSET <= stage.day_offset <= MAX_DAY_OFFSET:
                raise ValidationError(
                    self.env._(
                        "The day offset of stage '%(stage)s' must be between "
                        "%(min)s and %(max)s days.",
                        stage=stage.name,
                        min=MIN_DAY_OFFSET,
                        max=MAX_DAY_OFFSET,
                    )
                )

    @api.constrains("activity_type_id")
    def _check_activity_type_model(self):
        for stage in self:
            if stage.activity_type_id.res_model not in (False, "account.move"):
                raise ValidationError(
                    self.env._(
                        "The activity type of stage '%(stage)s' must be usable on "
                        "invoices; '%(type)s' is made for another model.",
                        stage=stage.name,
                        type=stage.activity_type_id.name,
                    )
                )

    @api.constrains("mail_template_id")
    def _check_mail_template_model(self):
        for stage in self:
            template = stage.mail_template_id
            if template and template.model != "account.move":
                raise ValidationError(
                    self.env._(
                        "The customer email template of stage '%(stage)s' must be "
                        "made for invoices; '%(template)s' is made for another model.",
                        stage=stage.name,
                        template=template.name,
                    )
                )

    def write(self, vals):
        policies = self.policy_id
        result = super().write(vals)
        if "active" in vals or "policy_id" in vals:
            # archiving or moving a policy's last stage would stop its follow-up
            policies._check_has_stage()
        return result

    @api.depends("policy_id", "day_offset")
    def _compute_display_name(self):
        for stage in self:
            stage.display_name = stage.name

    @api.ondelete(at_uninstall=False)
    def _unlink_except_in_use(self):
        """A stage invoices reached is archived, not deleted: they would go back
        to an earlier stage, and its open activities would no longer be closed
        on payment."""
        used_by = self._collection_used_by()
        if used_by:
            raise UserError(
                self.env._(
                    "The collection stage '%(stage)s' is in use (%(used_by)s): "
                    "archive it instead of deleting it.",
                    stage=used_by[0].display_name,
                    used_by=used_by[1],
                )
            )

    def _collection_used_by(self):
        """The first of these stages in use and what uses it, as a short text;
        empty when none is."""
        if not self:
            return ()
        invoices = (
            self.env["account.move"]
            .sudo()
            ._read_group(
                [("collection_stage_id", "in", self.ids)],
                ["collection_stage_id"],
                ["__count"],
            )
        )
        if invoices:
            stage, count = invoices[0]
            return stage, self.env._("reached by %(count)s invoices", count=count)
        activities = (
            self.env["mail.activity"]
            .sudo()
            ._read_group(
                [("collection_stage_id", "in", self.ids)],
                ["collection_stage_id"],
                ["__count"],
            )
        )
        if activities:
            stage, count = activities[0]
            return stage, self.env._("%(count)s open activities", count=count)
        return ()

    @api.ondelete(at_uninstall=False)
    def _unlink_except_last_stage(self):
        for policy in self.policy_id:
            if policy.active and not (policy.stage_ids - self):
                raise UserError(
                    self.env._(
                        "The collection policy '%(policy)s' must keep at least one stage.",
                        policy=policy.display_name,
                    )
                )
