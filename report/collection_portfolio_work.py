from odoo import api, models
from odoo.tools import SQL


class CollectionPortfolioWork(models.AbstractModel):
    """The collection work the portfolio KPIs count, as sources of the KPI
    query (collection.portfolio.query): escalations, promises to pay and
    contacts in a period, per salesperson and policy.

    Each source is ``(FROM clause, {column: SQL expression})``: the query sums
    the expressions per ``salesperson_id``, ``policy_id``, ``segment_id`` and
    ``phase``; ``params`` are the period's (``company_ids``, ``date_from``,
    ``date_to``). Promises, disputes and contacts may cover several invoices:
    they have no phase (they count under "no phase").
    """

    _name = "collection.portfolio.work"
    _description = "Collection Portfolio KPI Work Sources"

    @api.model
    def _collection_escalation_source(self, params):
        """Invoices that reached a manager stage of their policy in the period.

        The day an invoice reached it is its collection due date plus the offset
        of the policy's first manager stage (what the daily run follows); done
        activities are not kept, so they cannot be counted instead.
        """
        receivable = self.env["collection.receivable"]
        return (
            SQL(
                """
                FROM account_move m
                JOIN collection_stage cur ON cur.id = m.collection_stage_id
                JOIN LATERAL (
                        SELECT MIN(s.day_offset) AS day_offset
                          FROM collection_stage s
                         WHERE s.policy_id = cur.policy_id
                           AND s.responsible = 'manager'
                     ) esc ON esc.day_offset <= cur.day_offset
                %s
               WHERE m.move_type = 'out_invoice'
                 AND m.state = 'posted'
                 AND m.company_id = ANY(%s)
                 AND m.collection_date_due + esc.day_offset BETWEEN %s AND %s
                """,
                receivable._collection_invoice_joins("m", alias="rcv"),
                params["company_ids"],
                params["date_from"],
                params["date_to"],
            ),
            {
                "salesperson_id": receivable._collection_salesperson_sql("rcv"),
                "policy_id": SQL("cur.policy_id"),
                "segment_id": receivable._collection_segment_sql("rcv"),
                "phase": SQL("cur.phase"),
                "escalations": SQL("1"),
            },
        )

    @api.model
    def _collection_promise_source(self, params):
        """Promises made (promised on a day) and judged kept or broken in the
        period; amounts in company currency at the rate of their invoices."""
        date_from, date_to = params["date_from"], params["date_to"]
        made = SQL("pr.date BETWEEN %s AND %s", date_from, date_to)
        closed = SQL("pr.date_closed BETWEEN %s AND %s", date_from, date_to)
        kept = SQL("pr.state = 'kept' AND %s", closed)
        broken = SQL("pr.state = 'broken' AND %s", closed)
        amount = SQL(
            "CASE WHEN pr.currency_id = c.currency_id THEN pr.amount "
            "ELSE pr.amount * COALESCE(rate.rate, 1) END"
        )
        return (
            SQL(
                """
                FROM collection_promise pr
                JOIN res_company c ON c.id = pr.company_id
           LEFT JOIN res_partner p ON p.id = pr.partner_id
           LEFT JOIN res_partner cp ON cp.id = p.commercial_partner_id
           LEFT JOIN LATERAL (
                    SELECT SUM(m.amount_total_signed) / NULLIF(SUM(m.amount_total), 0)
                           AS rate
                      FROM collection_promise_account_move_rel rel
                      JOIN account_move m ON m.id = rel.move_id
                     WHERE rel.promise_id = pr.id
                ) rate ON pr.currency_id != c.currency_id
               WHERE pr.company_id = ANY(%s) AND ((%s) OR (%s))
                """,
                params["company_ids"],
                made,
                closed,
            ),
            {
                "salesperson_id": SQL("pr.user_id"),
                "policy_id": self.env[
                    "collection.receivable"
                ]._collection_partner_policy_sql("cp", "c"),
                "segment_id": self.env[
                    "collection.receivable"
                ]._collection_partner_segment_sql("cp", "c"),
                "promises_made": SQL("CASE WHEN %s THEN 1 ELSE 0 END", made),
                "portal_promises": SQL(
                    "CASE WHEN %s AND pr.source = 'portal' THEN 1 ELSE 0 END", made
                ),
                "promises_made_amount": SQL(
                    "CASE WHEN %s THEN %s ELSE 0 END", made, amount
                ),
                "promises_kept": SQL("CASE WHEN %s THEN 1 ELSE 0 END", kept),
                "promises_kept_amount": SQL(
                    "CASE WHEN %s THEN %s ELSE 0 END", kept, amount
                ),
                "promises_broken": SQL("CASE WHEN %s THEN 1 ELSE 0 END", broken),
                "promises_broken_amount": SQL(
                    "CASE WHEN %s THEN %s ELSE 0 END", broken, amount
                ),
            },
        )

    @api.model
    def _collection_dispute_source(self, params):
        """Disputes customers opened on the portal in the period, and those the
        salespeople accepted or rejected in it."""
        date_from, date_to = params["date_from"], params["date_to"]
        opened = SQL("d.create_date::date BETWEEN %s AND %s", date_from, date_to)
        closed = SQL("d.date_closed BETWEEN %s AND %s", date_from, date_to)
        return (
            SQL(
                """
                FROM collection_dispute d
                JOIN res_company c ON c.id = d.company_id
           LEFT JOIN res_partner cp ON cp.id = d.partner_id
               WHERE d.company_id = ANY(%s) AND ((%s) OR (%s))
                """,
                params["company_ids"],
                opened,
                closed,
            ),
            {
                "salesperson_id": SQL("d.user_id"),
                "policy_id": self.env[
                    "collection.receivable"
                ]._collection_partner_policy_sql("cp", "c"),
                "segment_id": self.env[
                    "collection.receivable"
                ]._collection_partner_segment_sql("cp", "c"),
                "disputes_opened": SQL("CASE WHEN %s THEN 1 ELSE 0 END", opened),
                "disputes_accepted": SQL(
                    "CASE WHEN d.state = 'accepted' AND %s THEN 1 ELSE 0 END", closed
                ),
                "disputes_rejected": SQL(
                    "CASE WHEN d.state = 'rejected' AND %s THEN 1 ELSE 0 END", closed
                ),
            },
        )

    @api.model
    def _collection_contact_source(self, params):
        """Contacts logged in the period."""
        return (
            SQL(
                """
                FROM collection_contact co
                JOIN res_company c ON c.id = co.company_id
           LEFT JOIN res_partner p ON p.id = co.partner_id
           LEFT JOIN res_partner cp ON cp.id = p.commercial_partner_id
               WHERE co.company_id = ANY(%s)
                 AND co.date::date BETWEEN %s AND %s
                """,
                params["company_ids"],
                params["date_from"],
                params["date_to"],
            ),
            {
                "salesperson_id": SQL("co.user_id"),
                "policy_id": self.env[
                    "collection.receivable"
                ]._collection_partner_policy_sql("cp", "c"),
                "segment_id": self.env[
                    "collection.receivable"
                ]._collection_partner_segment_sql("cp", "c"),
                "contacts": SQL("1"),
            },
        )
