from odoo import fields, models
from odoo.tools import SQL


class CollectionPortfolioLine(models.Model):
    """Open receivable items today, for the managers' dashboard (graph, pivot)."""

    _name = "collection.portfolio.line"
    _description = "Open Receivable (Collections Dashboard)"
    _auto = False
    _order = "days_overdue desc, id"
    _rec_name = "move_id"

    move_id = fields.Many2one("account.move", string="Journal Entry", readonly=True)
    move_type = fields.Selection(
        selection=lambda self: self.env["account.move"]._fields["move_type"].selection,
        string="Type",
        readonly=True,
    )
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    stage_id = fields.Many2one(
        "collection.stage", string="Collection Stage", readonly=True
    )
    policy_id = fields.Many2one(
        "collection.policy", string="Collection Policy", readonly=True
    )
    date_maturity = fields.Date(string="Due Date", readonly=True)
    days_overdue = fields.Integer(readonly=True, aggregator="max")
    bucket = fields.Selection(
        [
            ("0_not_due", "Not due"),
            ("1_30", "1-30"),
            ("2_60", "31-60"),
            ("3_90", "61-90"),
            ("4_120", "91-120"),
            ("5_older", "Over 120"),
        ],
        string="Aging Bucket",
        readonly=True,
    )
    amount = fields.Monetary(string="Open Amount", readonly=True, aggregator="sum")
    overdue_amount = fields.Monetary(readonly=True, aggregator="sum")
    excluded = fields.Boolean(string="Excluded from Collection", readonly=True)

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT l.id,
                   l.move_id,
                   m.move_type,
                   COALESCE(p.commercial_partner_id, l.partner_id) AS partner_id,
                   COALESCE(m.invoice_user_id, cp.user_id, p.user_id) AS user_id,
                   l.company_id,
                   l.company_currency_id AS currency_id,
                   m.collection_stage_id AS stage_id,
                   COALESCE(
                       (cp.collection_policy_id ->> l.company_id::text)::integer,
                       c.collection_policy_id
                   ) AS policy_id,
                   due.date_maturity,
                   GREATEST(CURRENT_DATE - due.date_maturity, 0) AS days_overdue,
                   CASE
                       WHEN due.date_maturity >= CURRENT_DATE THEN '0_not_due'
                       WHEN CURRENT_DATE - due.date_maturity <= 30 THEN '1_30'
                       WHEN CURRENT_DATE - due.date_maturity <= 60 THEN '2_60'
                       WHEN CURRENT_DATE - due.date_maturity <= 90 THEN '3_90'
                       WHEN CURRENT_DATE - due.date_maturity <= 120 THEN '4_120'
                       ELSE '5_older'
                   END AS bucket,
                   l.amount_residual AS amount,
                   CASE WHEN due.date_maturity < CURRENT_DATE
                        THEN l.amount_residual ELSE 0 END AS overdue_amount,
                   COALESCE(m.collection_excluded, FALSE) AS excluded
              FROM account_move_line l
              JOIN account_account a ON a.id = l.account_id
              JOIN account_move m ON m.id = l.move_id
              JOIN res_company c ON c.id = l.company_id
         LEFT JOIN res_partner p ON p.id = l.partner_id
         LEFT JOIN res_partner cp ON cp.id = p.commercial_partner_id
             CROSS JOIN LATERAL (
                   SELECT COALESCE(l.date_maturity, l.date) AS date_maturity
                   ) due
             WHERE a.account_type = 'asset_receivable'
               AND l.parent_state = 'posted'
               AND l.amount_residual != 0
            """
        )
