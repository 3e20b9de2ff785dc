from odoo import fields, models
from odoo.tools import SQL

from ..models.collection_receivable import COLLECTION_AGING_LIMITS


class CollectionPortfolioLine(models.Model):
    """Open receivable items today, for the managers' dashboard (graph, pivot):
    the items of the aging as of the user's today, in its default buckets."""

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
        # days overdue are counted to the user's today: a query, not a view
        return self._collection_query(fields.Date.context_today(self))

    def _collection_query(self, today):
        """SQL of the receivable items open at the end of ``today``, with their
        salesperson, policy and bucket (collection.receivable's rules)."""
        receivable = self.env["collection.receivable"]
        days = receivable._collection_days_sql(today, SQL("item.date_maturity"))
        buckets = [key for key, _label in self._fields["bucket"].selection]
        return SQL(
            """
            SELECT item.id,
                   item.move_id,
                   m.move_type,
                   COALESCE(p.commercial_partner_id, item.partner_id) AS partner_id,
                   %(salesperson)s AS user_id,
                   item.company_id,
                   rcv_company.currency_id,
                   m.collection_stage_id AS stage_id,
                   %(policy)s AS policy_id,
                   item.date_maturity,
                   GREATEST(%(days)s, 0) AS days_overdue,
                   (%(buckets)s::varchar[])[%(bucket)s + 1] AS bucket,
                   item.amount,
                   CASE WHEN %(days)s > 0 THEN item.amount ELSE 0 END
                       AS overdue_amount,
                   COALESCE(m.collection_excluded, FALSE) AS excluded
              FROM (
                    SELECT id, move_id, company_id, partner_id, amount,
                           COALESCE(date_maturity, date) AS date_maturity
                      FROM (%(items)s) open_item
                   ) item
              JOIN account_move m ON m.id = item.move_id
         LEFT JOIN res_partner p ON p.id = item.partner_id
              %(invoice_joins)s
            """,
            salesperson=receivable._collection_salesperson_sql("rcv"),
            policy=receivable._collection_policy_sql("rcv"),
            days=days,
            buckets=buckets,
            bucket=receivable._collection_bucket_sql(days, COLLECTION_AGING_LIMITS),
            items=receivable._collection_open_items_sql(today),
            invoice_joins=receivable._collection_invoice_joins(
                "m", SQL("COALESCE(m.partner_id, item.partner_id)"), "rcv"
            ),
        )
