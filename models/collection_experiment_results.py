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
    def _collection_invoice_rows(self, experiment, today):
        """Per invoice of the assigned customers due from the start on: arm,
        amount, open amount, days from due date to full payment (None when not
        paid), due date, activities created on it, promises kept / judged."""
        self.env.flush_all()
        return self.env.execute_query(
            SQL(
                """
                WITH moves AS (
                    SELECT a.arm, m.id, m.amount_total_signed, m.amount_residual_signed,
                           m.payment_state, m.invoice_date_due
                      FROM collection_experiment_assignment a
                      JOIN account_move m
                        ON m.commercial_partner_id = a.partner_id
                       AND m.company_id = a.company_id
                     WHERE a.experiment_id = %(experiment)s
                       AND m.move_type = 'out_invoice'
                       AND m.state = 'posted'
                       AND m.invoice_date_due >= %(start)s
                       AND m.invoice_date_due <= %(today)s
                ), paid AS (
                    SELECT l.move_id, MAX(apr.max_date) AS paid_on
                      FROM account_move_line l
                      JOIN account_partial_reconcile apr ON apr.debit_move_id = l.id
                     WHERE l.move_id IN (SELECT id FROM moves)
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
                SELECT moves.arm, moves.amount_total_signed,
                       CASE WHEN moves.payment_state IN ('paid', 'in_payment', 'reversed')
                            THEN 0 ELSE moves.amount_residual_signed END,
                       CASE WHEN moves.payment_state IN ('paid', 'in_payment')
                            THEN paid.paid_on - moves.invoice_date_due
                       END,
                       moves.invoice_date_due,
                       COALESCE(work.done, 0) + COALESCE(planned.open, 0)
                  FROM moves
             LEFT JOIN paid ON paid.move_id = moves.id
             LEFT JOIN work ON work.res_id = moves.id
             LEFT JOIN planned ON planned.res_id = moves.id
                """,
                experiment=experiment.id,
                start=experiment.date_start,
                today=today,
            )
        )

    @api.model
    def _collection_promise_rows(self, experiment):
        rows = self.env.execute_query(
            SQL(
                """
                SELECT a.arm, COUNT(*) FILTER (WHERE p.state = 'kept'),
                       COUNT(*) FILTER (WHERE p.state IN ('kept', 'broken'))
                  FROM collection_experiment_assignment a
                  JOIN collection_promise p
                    ON p.partner_id = a.partner_id
                   AND p.company_id = a.company_id
                 WHERE a.experiment_id = %s
                   AND p.create_date >= %s
              GROUP BY a.arm
                """,
                experiment.id,
                experiment.date_start,
            )
        )
        return {arm: (kept, judged) for arm, kept, judged in rows}

    @api.model
    def _collection_cei_rows(self, experiment, today):
        """Per assigned customer: arm and the sums of the CEI over the period
        from the start to ``today`` (the KPI engine's): receivable open the day
        before the start, credit sales in the period, receivable open at its
        end, and the part of it not yet due."""
        receivable = self.env["collection.receivable"]
        company_ids = experiment.company_id.ids
        opening_day = experiment.date_start - timedelta(days=1)
        return self.env.execute_query(
            SQL(
                """
                WITH open_items AS (
                    SELECT rp.commercial_partner_id AS partner_id,
                           SUM(item.amount) FILTER (WHERE item.at = 'opening')
                               AS opening,
                           SUM(item.amount) FILTER (WHERE item.at = 'closing')
                               AS closing,
                           SUM(item.amount) FILTER (
                               WHERE item.at = 'closing'
                                 AND COALESCE(item.date_maturity, item.date)
                                     >= %(today)s
                           ) AS not_due
                      FROM (
                            SELECT 'opening' AS at, o.* FROM (%(opening)s) o
                             UNION ALL
                            SELECT 'closing' AS at, c.* FROM (%(closing)s) c
                           ) item
                      JOIN res_partner rp ON rp.id = item.partner_id
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
                  GROUP BY 1
                )
                SELECT a.arm, COALESCE(o.opening, 0), COALESCE(s.amount, 0),
                       COALESCE(o.closing, 0), COALESCE(o.not_due, 0)
                  FROM collection_experiment_assignment a
             LEFT JOIN open_items o ON o.partner_id = a.partner_id
             LEFT JOIN sales s ON s.partner_id = a.partner_id
                 WHERE a.experiment_id = %(experiment)s
                """,
                opening=receivable._collection_open_items_sql(opening_day, company_ids),
                closing=receivable._collection_open_items_sql(today, company_ids),
                lines=receivable._collection_receivable_item_sql(
                    "l", company_ids, date_to=today
                ),
                start=experiment.date_start,
                today=today,
                experiment=experiment.id,
            )
        )

    @api.model
    def _collection_email_rows(self, experiment, today):
        """Per arm, the number of collection emails each of its customers was
        sent since the start: the emails posted on its invoices (comments with
        one of the customer's contacts among the recipients), as the daily run
        posts them from its stages' templates. ``{arm: [count per customer]}``,
        customers sent nothing included."""
        comment = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment")
        rows = self.env.execute_query(
            SQL(
                """
                SELECT a.arm,
                       (SELECT COUNT(*)
                          FROM account_move m
                          JOIN mail_message msg
                            ON msg.model = 'account.move' AND msg.res_id = m.id
                         WHERE m.commercial_partner_id = a.partner_id
                           AND m.company_id = a.company_id
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
                                  AND rp.commercial_partner_id = a.partner_id))
                  FROM collection_experiment_assignment a
                 WHERE a.experiment_id = %(experiment)s
                """,
                comment=comment,
                start=experiment.date_start,
                end=today + timedelta(days=1),
                experiment=experiment.id,
            )
        )
        counts = {"control": [], "variant": []}
        for arm, count in rows:
            counts[arm].append(count)
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
        for arm, count in (
            self.env["collection.experiment.assignment"]
            .sudo()
            ._read_group([("experiment_id", "=", experiment.id)], ["arm"], ["__count"])
        ):
            arms[arm]["customers"] = count
        for (
            arm,
            amount,
            residual,
            days,
            due,
            activities,
        ) in self._collection_invoice_rows(experiment, today):
            figures = arms[arm]
            figures["invoices"] += 1
            figures["amount"] += amount
            figures["activities"] += activities
            if residual and due < today:
                figures["overdue"] += residual
            if days is not None:
                figures["days"].append(days)
            if (today - due).days >= 30:
                figures["due_30"] += 1
                if days is not None and days <= 30:
                    figures["paid_30"] += 1
        promises = self._collection_promise_rows(experiment)
        period_days = (today - experiment.date_start).days + 1
        cei_rows = {"control": [], "variant": []}
        for arm, *sums in self._collection_cei_rows(experiment, today):
            cei_rows[arm].append([float(value) for value in sums])
        ceis = {
            arm: self._collection_cei(rows, period_days)
            for arm, rows in cei_rows.items()
        }
        emails = self._collection_email_rows(experiment, today)
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
