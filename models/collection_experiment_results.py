"""The results of a policy experiment: the arms compared on the invoices that
became due after its start (one query), with a 95% confidence interval of the
difference in days to pay and in emails per customer (Welch's t, normal
approximation), and in CEI (the portfolio KPI's formula over the arm's
customers; interval by the delta method of a ratio over customers)."""

import math
from datetime import timedelta

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.tools import SQL, format_date

from ..report.collection_portfolio_query import SUM_COLUMNS

# the normal quantile of a two-sided 95% interval
Z95 = 1.959963984540054


def welch_interval(first, second):
    """Mean of ``first`` minus mean of ``second`` and its 95% interval (Welch's
    standard error, normal quantile); None when an arm has under 2 values."""
    if len(first) < 2 or len(second) < 2:
        return None
    mean_1, mean_2 = sum(first) / len(first), sum(second) / len(second)
    var_1 = sum((x - mean_1) ** 2 for x in first) / (len(first) - 1)
    var_2 = sum((x - mean_2) ** 2 for x in second) / (len(second) - 1)
    error = math.sqrt(var_1 / len(first) + var_2 / len(second))
    diff = mean_1 - mean_2
    return diff, diff - Z95 * error, diff + Z95 * error


def ratio_variance(numerators, denominators):
    """Variance of ``sum(numerators) / sum(denominators)`` over the customers
    (one pair each), by the delta method; None without a positive denominator
    or with under 2 customers."""
    count, total = len(numerators), sum(denominators)
    if count < 2 or round(total, 6) <= 0:
        return None
    ratio = sum(numerators) / total
    residuals = sum(
        (a - ratio * b) ** 2 for a, b in zip(numerators, denominators, strict=True)
    )
    return count / (count - 1) * residuals / total**2


def difference_interval(first, second):
    """``(difference, low, high)`` of two ``(value, variance)`` estimates (the
    second minus the first), None when either is missing."""
    if first is None or second is None or None in first or None in second:
        return None
    diff = second[0] - first[0]
    error = math.sqrt(first[1] + second[1])
    return diff, diff - Z95 * error, diff + Z95 * error


class CollectionExperimentResults(models.AbstractModel):
    _name = "collection.experiment.results"
    _description = "Collection Experiment Results"

    @api.model
    def _collection_assignments(self, experiment):
        """``{(customer id, company id): arm}`` of the experiment's customers,
        in the order of their assignment, read once for every figure. The
        figures' queries name the customers rather than join the
        assignments: an experiment's assignments are often written in the same
        transaction as the figures are read (or before PostgreSQL's statistics
        knew them), and a join to them is then planned for a handful of rows
        (nested loops that read the aggregated invoices, items or emails again
        for each customer)."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT partner_id, company_id, arm
                  FROM collection_experiment_assignment
                 WHERE experiment_id = %s
              ORDER BY id
                """,
                experiment.id,
            )
        )
        return {(partner_id, company_id): arm for partner_id, company_id, arm in rows}

    @api.model
    def _collection_customers_sql(self, assignments, partner, company):
        """SQL condition: ``partner`` and ``company`` (SQL) are those of one of
        the ``assignments`` (a superset: the pair is checked in Python)."""
        return SQL(
            "%s = ANY(%s) AND %s = ANY(%s)",
            partner,
            sorted({partner_id for partner_id, _company in assignments}),
            company,
            sorted({company_id for _partner, company_id in assignments}),
        )

    @api.model
    def _collection_invoice_rows(self, experiment, today, assignments=None):
        """Per invoice of the assigned customers due from the start on: arm,
        amount, open amount, days from due date to full payment (None when not
        paid), days from due date to ``today``, activities created on it."""
        if assignments is None:
            assignments = self._collection_assignments(experiment)
        if not assignments:
            return []
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                WITH moves AS (
                    SELECT m.commercial_partner_id, m.company_id, m.id,
                           m.amount_total_signed, m.amount_residual_signed,
                           m.payment_state, m.invoice_date_due
                      FROM account_move m
                     WHERE %(customers)s
                       AND m.move_type = 'out_invoice'
                       AND m.state = 'posted'
                       AND m.invoice_date_due >= %(start)s
                       AND m.invoice_date_due <= %(today)s
                ), paid AS (
                    -- the day each paid invoice was paid: its last matching
                    -- (the others' days to pay are not counted)
                    SELECT l.move_id, MAX(apr.max_date) AS paid_on
                      FROM account_move_line l
                      JOIN account_partial_reconcile apr ON apr.debit_move_id = l.id
                     WHERE l.move_id IN (
                               SELECT id FROM moves
                                WHERE payment_state IN ('paid', 'in_payment'))
                       AND l.display_type = 'payment_term'
                  GROUP BY l.move_id
                ), work AS (
                    SELECT res_id, COUNT(*) AS done
                      FROM mail_message
                     WHERE model = 'account.move'
                       AND res_id IN (SELECT id FROM moves)
                       AND mail_activity_type_id IS NOT NULL
                  GROUP BY res_id
                ), planned AS (
                    SELECT res_id, COUNT(*) AS open
                      FROM mail_activity
                     WHERE res_model = 'account.move'
                       AND res_id IN (SELECT id FROM moves)
                  GROUP BY res_id
                )
                SELECT moves.commercial_partner_id, moves.company_id,
                       moves.amount_total_signed,
                       CASE WHEN moves.payment_state IN ('paid', 'in_payment', 'reversed')
                            THEN 0 ELSE moves.amount_residual_signed END,
                       CASE WHEN moves.payment_state IN ('paid', 'in_payment')
                            THEN paid.paid_on - moves.invoice_date_due
                       END,
                       %(today)s::date - moves.invoice_date_due,
                       COALESCE(work.done, 0) + COALESCE(planned.open, 0)
                  FROM moves
             LEFT JOIN paid ON paid.move_id = moves.id
             LEFT JOIN work ON work.res_id = moves.id
             LEFT JOIN planned ON planned.res_id = moves.id
              ORDER BY moves.id
                """,
                customers=self._collection_customers_sql(
                    assignments, SQL("m.commercial_partner_id"), SQL("m.company_id")
                ),
                start=experiment.date_start,
                today=today,
            )
        )
        return [
            (assignments[partner_id, company_id], *figures)
            for partner_id, company_id, *figures in rows
            if (partner_id, company_id) in assignments
        ]

    @api.model
    def _collection_promise_rows(self, experiment, assignments=None):
        """``{arm: (promises kept, promises judged)}`` of the promises the
        assigned customers made since the start."""
        if assignments is None:
            assignments = self._collection_assignments(experiment)
        if not assignments:
            return {}
        rows = self.env.execute_query(
            SQL(
                """
                SELECT p.partner_id, p.company_id,
                       COUNT(*) FILTER (WHERE p.state = 'kept'),
                       COUNT(*) FILTER (WHERE p.state IN ('kept', 'broken'))
                  FROM collection_promise p
                 WHERE %(customers)s
                   AND p.create_date >= %(start)s
              GROUP BY 1, 2
                """,
                customers=self._collection_customers_sql(
                    assignments, SQL("p.partner_id"), SQL("p.company_id")
                ),
                start=experiment.date_start,
            )
        )
        promises = {}
        for partner_id, company_id, kept, judged in rows:
            arm = assignments.get((partner_id, company_id))
            if arm:
                arm_kept, arm_judged = promises.get(arm, (0, 0))
                promises[arm] = (arm_kept + kept, arm_judged + judged)
        return promises

    @api.model
    def _collection_cei_rows(self, experiment, today, assignments=None):
        """Per assigned customer: arm and the sums of the CEI over the period
        from the start to ``today`` (the KPI engine's): receivable open the day
        before the start, credit sales in the period, receivable open at its
        end, and the part of it not yet due.

        The items open on either day are read once, with the matchings dated
        after the opening day (a superset of those dated after ``today``):
        the items open now, and the settled ones matched after one of the
        days; an item's open amount on a day is its residual plus what the
        matchings dated after that day took off it (collection.receivable's
        ``_collection_open_items_sql()`` for one day)."""
        if assignments is None:
            assignments = self._collection_assignments(experiment)
        if not assignments:
            return []
        receivable = self.env["collection.receivable"]
        company_ids = experiment.company_id.ids
        opening_day = experiment.date_start - timedelta(days=1)
        item = receivable._collection_receivable_item_sql(
            "aml", company_ids, date_to=today
        )
        partner_ids = sorted({partner_id for partner_id, _company in assignments})
        rows = self.env.execute_query(
            SQL(
                """
                WITH later AS (
                    -- per item, what the matchings dated after each day took
                    -- off it (NULL: none after that day)
                    SELECT line_id, SUM(amount) AS after_opening,
                           SUM(amount) FILTER (WHERE max_date > %(today)s)
                               AS after_closing
                      FROM (%(matchings)s) p
                  GROUP BY line_id
                ),
                items AS (
                    -- open now, with what was matched after each day
                    SELECT aml.partner_id, aml.date,
                           COALESCE(aml.date_maturity, aml.date) AS due,
                           aml.amount_residual, later.after_opening,
                           later.after_closing, TRUE AS open_now
                      FROM account_move_line aml
                 LEFT JOIN later ON later.line_id = aml.id
                     WHERE %(item)s AND aml.reconciled IS NOT TRUE
                     UNION ALL
                    -- settled now, open at the end of the opening day (dated
                    -- on or before it) or of today (matched after it)
                    SELECT aml.partner_id, aml.date,
                           COALESCE(aml.date_maturity, aml.date),
                           aml.amount_residual, later.after_opening,
                           later.after_closing, FALSE
                      FROM later
                      JOIN account_move_line aml ON aml.id = later.line_id
                     WHERE %(item)s AND aml.reconciled
                       AND (aml.date <= %(opening_day)s
                            OR later.after_closing IS NOT NULL)
                ),
                open_items AS (
                    SELECT rp.commercial_partner_id AS partner_id,
                           SUM(%(opening_amount)s)
                               FILTER (WHERE item.date <= %(opening_day)s)
                               AS opening,
                           SUM(%(closing_amount)s) FILTER (WHERE %(open_closing)s)
                               AS closing,
                           SUM(%(closing_amount)s) FILTER (
                               WHERE %(open_closing)s AND item.due >= %(today)s
                           ) AS not_due
                      FROM items item
                      JOIN res_partner rp ON rp.id = item.partner_id
                     WHERE rp.commercial_partner_id = ANY(%(partners)s)
                  GROUP BY 1
                ),
                sales AS (
                    SELECT m.commercial_partner_id AS partner_id,
                           SUM(l.balance) AS amount
                      FROM account_move_line l
                      JOIN account_move m ON m.id = l.move_id
                     WHERE %(lines)s
                       AND m.move_type IN ('out_invoice', 'out_refund')
                       AND m.invoice_date BETWEEN %(start)s AND %(today)s
                       AND m.commercial_partner_id = ANY(%(partners)s)
                  GROUP BY 1
                )
                SELECT COALESCE(o.partner_id, s.partner_id),
                       COALESCE(o.opening, 0), COALESCE(s.amount, 0),
                       COALESCE(o.closing, 0), COALESCE(o.not_due, 0)
                  FROM open_items o
             FULL JOIN sales s ON s.partner_id = o.partner_id
                """,
                matchings=receivable._collection_matchings_sql(
                    experiment.date_start, company_ids
                ),
                item=item,
                opening_amount=receivable._collection_amount_at_sql(
                    "item", SQL("item.after_opening")
                ),
                closing_amount=receivable._collection_amount_at_sql(
                    "item", SQL("item.after_closing")
                ),
                # open at the end of today: open now, or matched after it
                open_closing=SQL("(item.open_now OR item.after_closing IS NOT NULL)"),
                lines=receivable._collection_receivable_item_sql(
                    "l", company_ids, date_to=today
                ),
                opening_day=opening_day,
                start=experiment.date_start,
                today=today,
                partners=partner_ids,
            )
        )
        sums = {partner_id: figures for partner_id, *figures in rows}
        zero = [0.0, 0.0, 0.0, 0.0]
        return [
            (arm, *sums.get(partner_id, zero))
            for (partner_id, _company), arm in assignments.items()
        ]

    @api.model
    def _collection_email_rows(self, experiment, today, assignments=None):
        """Per arm, the number of collection emails each of its customers was
        sent since the start: the emails posted on its invoices (comments with
        one of the customer's contacts among the recipients), as the daily run
        posts them from its stages' templates. ``{arm: [count per customer]}``,
        customers sent nothing included. The emails of the period are read
        once and counted per customer (not looked up customer by customer)."""
        if assignments is None:
            assignments = self._collection_assignments(experiment)
        counts = {"control": [], "variant": []}
        if not assignments:
            return counts
        comment = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment")
        rows = self.env.execute_query(
            SQL(
                """
                    SELECT m.commercial_partner_id, m.company_id, COUNT(*)
                      FROM mail_message msg
                      JOIN account_move m ON m.id = msg.res_id
                     WHERE msg.model = 'account.move'
                       AND %(customers)s
                       AND m.move_type = 'out_invoice'
                       AND msg.message_type = 'comment'
                       AND msg.subtype_id = %(comment)s
                       AND msg.date >= %(start)s
                       AND msg.date < %(end)s
                       AND EXISTS (
                           SELECT 1
                             FROM mail_message_res_partner_rel rel
                             JOIN res_partner rp ON rp.id = rel.res_partner_id
                            WHERE rel.mail_message_id = msg.id
                              AND rp.commercial_partner_id = m.commercial_partner_id)
                  GROUP BY 1, 2
                """,
                customers=self._collection_customers_sql(
                    assignments, SQL("m.commercial_partner_id"), SQL("m.company_id")
                ),
                comment=comment,
                start=experiment.date_start,
                end=today + timedelta(days=1),
            )
        )
        sent = {
            (partner_id, company_id): count for partner_id, company_id, count in rows
        }
        for customer, arm in assignments.items():
            counts[arm].append(sent.get(customer, 0))
        return counts

    @api.model
    def _collection_cei(self, rows, days):
        """CEI of the customers' summed ``rows`` (opening, sales, closing, not
        due), by the KPI engine's formula, and its variance (delta method over
        the customers, in percent points squared)."""
        sums = dict.fromkeys(SUM_COLUMNS, 0.0)
        for opening, sales, closing, not_due in rows:
            sums["opening_receivable"] += opening
            sums["credit_sales"] += sales
            sums["receivable"] += closing
            sums["not_due"] += not_due
        cei = self.env["collection.portfolio.report"]._collection_figures(sums, days)[
            "cei"
        ]
        if cei is None:
            return None, None
        variance = ratio_variance(
            [o + s - c for o, s, c, _n in rows], [o + s - n for o, s, _c, n in rows]
        )
        return cei, None if variance is None else variance * 100.0**2

    @api.model
    def _collection_compute(self, experiment):
        """A dict: per arm (``control``, ``variant``) the customers, invoices,
        average days to pay (and how many paid), share paid by +30, overdue
        ratio, promises kept and activities per invoice; ``days_faster`` (how
        many days sooner the variant's invoices are paid than the control's),
        ``days_faster_ci`` (its 95% interval), and ``verdict``, a sentence."""
        today = experiment.date_end or fields.Date.context_today(experiment)
        arms = {
            arm: {
                "customers": 0,
                "invoices": 0,
                "days": [],
                "due_30": 0,
                "paid_30": 0,
                "amount": 0.0,
                "overdue": 0.0,
                "activities": 0,
            }
            for arm in ("control", "variant")
        }
        assignments = self._collection_assignments(experiment)
        for arm in assignments.values():
            arms[arm]["customers"] += 1
        for (
            arm,
            amount,
            residual,
            days,
            days_due,
            activities,
        ) in self._collection_invoice_rows(experiment, today, assignments):
            figures = arms[arm]
            figures["invoices"] += 1
            figures["amount"] += amount
            figures["activities"] += activities
            if residual and days_due > 0:
                figures["overdue"] += residual
            if days is not None:
                figures["days"].append(days)
            if days_due >= 30:
                figures["due_30"] += 1
                if days is not None and days <= 30:
                    figures["paid_30"] += 1
        promises = self._collection_promise_rows(experiment, assignments)
        period_days = (today - experiment.date_start).days + 1
        cei_rows = {"control": [], "variant": []}
        for arm, *sums in self._collection_cei_rows(experiment, today, assignments):
            cei_rows[arm].append([float(value) for value in sums])
        ceis = {
            arm: self._collection_cei(rows, period_days)
            for arm, rows in cei_rows.items()
        }
        emails = self._collection_email_rows(experiment, today, assignments)
        result = {}
        for arm, figures in arms.items():
            days = figures["days"]
            kept, judged = promises.get(arm, (0, 0))
            result[arm] = {
                "customers": figures["customers"],
                "invoices": figures["invoices"],
                "paid": len(days),
                "avg_days": sum(days) / len(days) if days else None,
                "paid_30_share": figures["paid_30"] / figures["due_30"]
                if figures["due_30"]
                else None,
                "overdue_ratio": figures["overdue"] / figures["amount"]
                if figures["amount"]
                else None,
                "promises_kept": kept,
                "promises_judged": judged,
                "activities": figures["activities"],
                "cei": ceis[arm][0],
                "emails": sum(emails[arm]),
                "emails_per_customer": sum(emails[arm]) / len(emails[arm])
                if emails[arm]
                else None,
            }
        interval = welch_interval(arms["control"]["days"], arms["variant"]["days"])
        result["days_faster"] = interval[0] if interval else None
        result["days_faster_ci"] = interval[1:] if interval else None
        # the variant minus the control, with its 95% interval
        result["differences"] = {
            "avg_days": welch_interval(
                arms["variant"]["days"], arms["control"]["days"]
            ),
            "cei": difference_interval(ceis["control"], ceis["variant"]),
            "emails_per_customer": welch_interval(emails["variant"], emails["control"]),
        }
        result["planned_end"] = experiment._collection_planned_end()
        result["verdict"] = self._collection_verdict(
            interval, result["planned_end"], today, stopped=bool(experiment.date_end)
        )
        return result

    @api.model
    def _collection_verdict(
        self, interval, planned_end=None, today=None, stopped=False
    ):
        """The plain sentence: too early before the minimum duration (whatever
        the figures say), else what the interval of days to pay says."""
        if planned_end and today and today < planned_end:
            if stopped:
                return self.env._(
                    "stopped before its minimum duration (until %(date)s): too "
                    "early to conclude",
                    date=format_date(self.env, planned_end),
                )
            return self.env._(
                "too early to conclude: keep it running until %(date)s",
                date=format_date(self.env, planned_end),
            )
        if interval is None:
            return self.env._(
                "not enough paid invoices in each arm yet: keep it running"
            )
        diff, low, high = interval
        if low > 0:
            return self.env._(
                "the variant is faster by %(days).1f days (%(low).1f to %(high).1f): "
                "roll it out",
                days=diff,
                low=low,
                high=high,
            )
        if high < 0:
            return self.env._(
                "the variant is slower by %(days).1f days (%(low).1f to %(high).1f): "
                "stop it",
                days=-diff,
                low=-high,
                high=-low,
            )
        return self.env._("no difference detected yet: keep it running")

    @api.model
    def _collection_render(self, result):
        """The results as an HTML table, for the experiment's form."""

        def number(value, pattern="%.1f"):
            return "–" if value is None else pattern % value

        def percent(value):
            return "–" if value is None else "%.0f%%" % (100 * value)

        def difference(key, pattern="%+.1f"):
            interval = result.get("differences", {}).get(key)
            if interval is None:
                return "–"
            diff, low, high = interval
            return self.env._(
                "%(diff)s (%(low)s to %(high)s)",
                diff=pattern % diff,
                low=pattern % low,
                high=pattern % high,
            )

        labels = [
            (self.env._("Customers"), lambda r: str(r["customers"]), None),
            (
                self.env._("Invoices due since the start"),
                lambda r: str(r["invoices"]),
                None,
            ),
            (self.env._("Invoices paid"), lambda r: str(r["paid"]), None),
            (
                self.env._("Average days from due date to payment"),
                lambda r: number(r["avg_days"]),
                "avg_days",
            ),
            (
                self.env._("Paid by +30 days"),
                lambda r: percent(r["paid_30_share"]),
                None,
            ),
            (
                self.env._("Overdue ratio"),
                lambda r: percent(r["overdue_ratio"]),
                None,
            ),
            (
                self.env._("CEI (collection effectiveness index)"),
                lambda r: number(r["cei"], "%.1f%%"),
                "cei",
            ),
            (
                self.env._("Promises kept"),
                lambda r: f"{r['promises_kept']} / {r['promises_judged']}",
                None,
            ),
            (self.env._("Activities created"), lambda r: str(r["activities"]), None),
            (
                self.env._("Emails sent (per customer)"),
                lambda r: f"{r['emails']} ({number(r['emails_per_customer'], '%.2f')})",
                "emails_per_customer",
            ),
        ]
        patterns = {"emails_per_customer": "%+.2f"}
        rows = Markup("").join(
            Markup("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>")
            % (
                label,
                value(result["control"]),
                value(result["variant"]),
                difference(key, patterns.get(key, "%+.1f")) if key else "",
            )
            for label, value, key in labels
        )
        return Markup(
            "<p><strong>%s</strong></p><table class='table table-sm'>"
            "<thead><tr><th></th><th>%s</th><th>%s</th><th>%s</th></tr></thead>"
            "<tbody>%s</tbody></table>"
        ) % (
            escape(result["verdict"][:1].upper() + result["verdict"][1:]),
            self.env._("Control"),
            self.env._("Variant"),
            self.env._("Variant - control (95% interval)"),
            rows,
        )
