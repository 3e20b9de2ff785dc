from odoo import api, fields, models
from odoo.exceptions import ValidationError


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

    def _collection_first_stage(self):
        self.ensure_one()
        return self.stage_ids.sorted("day_offset")[:1]
