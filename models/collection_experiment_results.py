"""The results of a policy experiment: the arms compared on the invoices that
became due after its start (one query), with a 95% confidence interval of the
difference in days to pay (Welch's t, normal approximation)."""

import math

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.tools import SQL

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
                SELECT a.arm, m.amount_total_signed,
                       CASE WHEN m.payment_state IN ('paid', 'in_payment', 'reversed')
                            THEN 0 ELSE m.amount_residual_signed END,
                       CASE WHEN m.payment_state IN ('paid', 'in_payment')
                            THEN (SELECT MAX(apr.max_date)
                                    FROM account_move_line l
                                    JOIN account_partial_reconcile apr
                                      ON apr.debit_move_id = l.id
                                   WHERE l.move_id = m.id
                                     AND l.display_type = 'payment_term')
                                 - m.invoice_date_due
                       END,
                       m.invoice_date_due,
                       (SELECT COUNT(*) FROM mail_message msg
                         WHERE msg.model = 'account.move' AND msg.res_id = m.id
                           AND msg.mail_activity_type_id IS NOT NULL)
                       + (SELECT COUNT(*) FROM mail_activity act
                           WHERE act.res_model = 'account.move'
                             AND act.res_id = m.id)
                  FROM collection_experiment_assignment a
                  JOIN account_move m
                    ON m.commercial_partner_id = a.partner_id
                   AND m.company_id = a.company_id
                 WHERE a.experiment_id = %(experiment)s
                   AND m.move_type = 'out_invoice'
                   AND m.state = 'posted'
                   AND m.invoice_date_due >= %(start)s
                   AND m.invoice_date_due <= %(today)s
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
            }
        interval = welch_interval(arms["control"]["days"], arms["variant"]["days"])
        result["days_faster"] = interval[0] if interval else None
        result["days_faster_ci"] = interval[1:] if interval else None
        result["verdict"] = self._collection_verdict(interval)
        return result

    @api.model
    def _collection_verdict(self, interval):
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

        labels = [
            (self.env._("Customers"), lambda r: str(r["customers"])),
            (self.env._("Invoices due since the start"), lambda r: str(r["invoices"])),
            (self.env._("Invoices paid"), lambda r: str(r["paid"])),
            (
                self.env._("Average days from due date to payment"),
                lambda r: number(r["avg_days"]),
            ),
            (self.env._("Paid by +30 days"), lambda r: percent(r["paid_30_share"])),
            (self.env._("Overdue ratio"), lambda r: percent(r["overdue_ratio"])),
            (
                self.env._("Promises kept"),
                lambda r: f"{r['promises_kept']} / {r['promises_judged']}",
            ),
            (self.env._("Activities created"), lambda r: str(r["activities"])),
        ]
        rows = Markup("").join(
            Markup("<tr><td>%s</td><td>%s</td><td>%s</td></tr>")
            % (label, value(result["control"]), value(result["variant"]))
            for label, value in labels
        )
        return Markup(
            "<p><strong>%s</strong></p><table class='table table-sm'>"
            "<thead><tr><th></th><th>%s</th><th>%s</th></tr></thead>"
            "<tbody>%s</tbody></table>"
        ) % (
            escape(result["verdict"][:1].upper() + result["verdict"][1:]),
            self.env._("Control"),
            self.env._("Variant"),
            rows,
        )
