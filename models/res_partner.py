from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL


class ResPartner(models.Model):
    _inherit = "res.partner"

    collection_policy_id = fields.Many2one(
        "collection.policy",
        company_dependent=True,
        domain="[('company_id', 'in', (False, current_company_id))]",
        help="Overrides the company's default collection policy for this customer.",
        groups="account_collections.group_collection_user",
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
    collection_reliability = fields.Float(
        string="Promise Reliability (%)",
        compute="_compute_collection_reliability",
        digits=(16, 0),
        help="Share of the customer's judged promises to pay that were kept.",
        groups="account_collections.group_collection_user",
    )
    collection_avg_days_late = fields.Float(
        string="Average Days Late",
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

    @api.depends_context("allowed_company_ids")
    def _compute_collection_reliability(self):
        counts = self.env["collection.promise"]._collection_counts_by_partner(
            self, ("kept", "broken")
        )
        for partner in self:
            commercial = partner.commercial_partner_id.id
            kept = counts[commercial, "kept"]
            broken = counts[commercial, "broken"]
            partner.collection_promise_kept_count = kept
            partner.collection_promise_broken_count = broken
            partner.collection_reliability = (
                100.0 * kept / (kept + broken) if kept + broken else 0.0
            )

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
            WITH paid AS (
                SELECT m.commercial_partner_id AS partner_id,
                       m.amount_total_signed AS amount,
                       GREATEST(MAX(apr.max_date) - m.invoice_date_due, 0) AS days_late
                  FROM account_move m
                  JOIN account_move_line l
                    ON l.move_id = m.id
                   AND l.display_type = 'payment_term'
                  JOIN account_partial_reconcile apr ON apr.debit_move_id = l.id
                 WHERE m.move_type = 'out_invoice'
                   AND m.state = 'posted'
                   AND m.payment_state IN ('paid', 'in_payment')
                   AND m.invoice_date_due IS NOT NULL
              GROUP BY m.id
            ), history AS (
                SELECT partner_id,
                       ROUND(SUM(amount * days_late) / NULLIF(SUM(amount), 0), 1)
                           AS days_late
                  FROM paid
              GROUP BY partner_id
            )
            UPDATE res_partner p
               SET collection_avg_days_late = COALESCE(h.days_late, 0)
              FROM res_partner p2
         LEFT JOIN history h ON h.partner_id = p2.id
             WHERE p2.id = p.id
               AND (h.partner_id IS NOT NULL OR p2.collection_avg_days_late != 0)
               AND p2.collection_avg_days_late IS DISTINCT FROM COALESCE(h.days_late, 0)
            """
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
