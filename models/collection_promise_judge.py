from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL, format_amount, format_date

from .collection_tools import log_failure, run_isolated


class CollectionPromiseJudge(models.AbstractModel):
    """Judges promises to pay against the payments actually made: the daily run's
    verdicts (kept, broken, cancelled), the promises settled at once when their
    invoices are, and the closing of a promise with its chatter notes.

    A service without records: its methods take the promises (or invoices) they
    work on, and none is public (no remote call reaches them)."""

    _name = "collection.promise.judge"
    _description = "Promise to Pay Judgment"

    @api.model
    def _collection_paid_amounts(self, promises):
        """Return ``{promise_id: amount}``: what paid the promise's invoices
        (collection.receivable's rule: money, not credit notes), dated between
        the day of the promise and its payment date, in the promise's
        currency."""
        promise_ids = [pid for pid in promises.ids if pid]
        if not promise_ids:
            return {}
        self.env["account.partial.reconcile"].flush_model(
            ["debit_move_id", "credit_move_id", "debit_amount_currency", "max_date"]
        )
        self.env["account.move.line"].flush_model(["move_id", "display_type"])
        self.env["account.move"].flush_model(["move_type"])
        promises.flush_model(["date", "promised_date", "move_ids"])
        query = SQL(
            """
            SELECT p.id, SUM(pay.amount)
              FROM collection_promise p
              JOIN collection_promise_account_move_rel rel ON rel.promise_id = p.id
              JOIN (%(payments)s) pay ON pay.move_id = rel.move_id
             WHERE p.id = ANY(%(ids)s)
               AND pay.date BETWEEN p.date AND p.promised_date
          GROUP BY p.id
            """,
            ids=promise_ids,
            payments=self.env["collection.receivable"]._collection_payments_sql(),
        )
        return dict(self.env.execute_query(query))

    @api.model
    def _collection_verdict(self, promise, paid):
        """``'kept'``, ``'cancelled'`` or ``False`` (not met): the promise
        judged by collection.receivable's rule of what pays an invoice."""
        return self.env["collection.receivable"]._collection_commitment_verdict(
            promise.move_ids,
            promise.amount,
            paid.get(promise.id, 0.0),
            promise.currency_id,
        )

    @api.model
    def _collection_judge_due(self, today):
        """Judge the open promises whose payment date has passed (daily run).

        Kept when what paid the invoices between the promise and its date
        reaches the promised amount, less what credit notes took off (or
        nothing is owed any more); broken otherwise, with an activity for the
        salesperson; cancelled when the invoices were reversed in full, are no
        longer followed (excluded), or no longer posted at all (reset to
        draft, deleted), whatever the date: collection.receivable's
        ``_collection_commitment_verdict``, the rule of payment plans too. Each promise is judged
        on its own: one that cannot be is logged, and judged again the next day.
        Returns the number of promises judged.
        """
        self._collection_cancel_void()
        promises = (
            self.env["collection.promise"]
            .sudo()
            .search([("state", "=", "open"), ("promised_date", "<", today)])
        )
        if not promises:
            return 0
        paid = self._collection_paid_amounts(promises)
        verdicts = {}
        for promise in promises:
            verdict = self._collection_verdict(promise, paid)
            if verdict:
                verdicts[promise.id] = verdict
            elif not any(move._collection_is_open() for move in promise.move_ids):
                verdicts[promise.id] = "cancelled"
            else:
                verdicts[promise.id] = "broken"
        run_isolated(
            promises,
            lambda batch: self._collection_apply_verdicts(batch, verdicts, paid),
            lambda promise, error: log_failure(
                promise,
                self.env._(
                    "The collection run could not judge this promise to pay; it "
                    "will try again tomorrow."
                ),
                error,
            ),
        )
        return len(promises)

    @api.model
    def _collection_apply_verdicts(self, promises, verdicts, paid):
        """Close the promises as ``verdicts`` (``{promise_id: state}``) says."""
        kept = promises.filtered(lambda p: verdicts[p.id] == "kept")
        void = promises.filtered(lambda p: verdicts[p.id] == "cancelled")
        broken = promises.filtered(lambda p: verdicts[p.id] == "broken")
        self._collection_close(
            kept,
            "kept",
            self.env._("Promise to pay of %(amount)s by %(date)s kept: %(paid)s paid."),
            paid,
        )
        self._collection_close(
            void,
            "cancelled",
            self.env._(
                "Promise to pay of %(amount)s by %(date)s cancelled: the invoices "
                "were settled otherwise."
            ),
            paid,
        )
        self._collection_close(
            broken,
            "broken",
            self.env._(
                "Promise to pay of %(amount)s by %(date)s broken: %(paid)s paid. The "
                "collection process resumes."
            ),
            paid,
        )
        self._collection_schedule_broken_activities(broken)

    @api.model
    def _collection_cancel_void(self):
        """Cancel the open promises none of whose invoices is posted any more
        (reset to draft, or deleted): nothing is left to judge them against, and
        a promise without invoices would otherwise count as kept."""
        promises = (
            self.env["collection.promise"]
            .sudo()
            .search(
                [
                    ("state", "=", "open"),
                    ("move_ids", "not any", [("state", "=", "posted")]),
                ]
            )
        )
        message = self.env._(
            "Promise to pay of %(amount)s by %(date)s cancelled: its invoices were "
            "reset to draft or deleted."
        )
        run_isolated(
            promises,
            lambda batch: self._collection_close(batch, "cancelled", message, log=True),
            lambda promise, error: log_failure(
                promise,
                self.env._(
                    "The collection run could not cancel this promise to pay; it "
                    "will try again tomorrow."
                ),
                error,
            ),
        )

    @api.model
    def _collection_judge_settled(self, moves):
        """Close at once the open promises whose invoices no longer need collecting:
        kept when paid (:meth:`_collection_verdict`), cancelled when settled
        otherwise (reversed in full, excluded)."""
        if not moves:
            return
        promises = (
            self.env["collection.promise"]
            .sudo()
            .search([("state", "=", "open"), ("move_ids", "in", moves.ids)])
        )
        settled = promises.filtered(
            lambda p: not any(move._collection_is_open() for move in p.move_ids)
        )
        if not settled:
            return
        paid = self._collection_paid_amounts(settled)
        kept = settled.filtered(lambda p: self._collection_verdict(p, paid) == "kept")
        self._collection_close(
            kept,
            "kept",
            self.env._(
                "Promise to pay of %(amount)s by %(date)s kept: the invoices are paid."
            ),
            paid,
        )
        self._collection_close(
            settled - kept,
            "cancelled",
            self.env._(
                "Promise to pay of %(amount)s by %(date)s cancelled: the invoices "
                "were settled otherwise."
            ),
            paid,
        )

    @api.model
    def _collection_close(self, promises, state, message, paid=None, log=False):
        """Set the final ``state`` of ``promises`` (with superuser rights: the
        callers checked what the user may do) and log ``message`` (with
        %(amount)s, %(date)s, %(paid)s, %(user)s placeholders filled) on each
        invoice, and on the promise itself with ``log``."""
        if not promises:
            return
        if paid is None:
            paid = self._collection_paid_amounts(promises)
        today = fields.Date.context_today(promises)
        promises.sudo().write({"state": state, "date_closed": today})
        env = promises.env
        bodies = {
            promise: message
            % {
                "amount": format_amount(env, promise.amount, promise.currency_id),
                "date": format_date(env, promise.promised_date),
                "paid": format_amount(
                    env, paid.get(promise.id, 0.0), promise.currency_id
                ),
                "user": env.user.name,
            }
            for promise in promises
        }
        promises._collection_log_on_invoices(bodies)
        if log:
            promises.sudo()._message_log_batch(
                {
                    promise.id: Markup("<p>%s</p>") % body
                    for promise, body in bodies.items()
                }
            )

    @api.model
    def _collection_schedule_broken_activities(self, promises):
        """One activity per open invoice of each broken promise, for its salesperson."""
        activity_type = self.env.ref(
            "account_collections.mail_activity_type_collection_promise_broken"
        )
        model_id = self.env["ir.model"]._get_id("account.move")
        today = fields.Date.context_today(self)
        env = promises.env
        vals_list = []
        for promise in promises:
            for move in promise.move_ids.filtered(lambda m: m._collection_is_open()):
                user = move._collection_assignee(
                    "promise_broken", holder=promise.user_id
                )
                vals_list.append(
                    {
                        "res_model_id": model_id,
                        "res_id": move.id,
                        "activity_type_id": activity_type.id,
                        "summary": self.env._(
                            "Promise to pay broken: %(amount)s was promised by "
                            "%(date)s",
                            amount=format_amount(
                                env, promise.amount, promise.currency_id
                            ),
                            date=format_date(env, promise.promised_date),
                        ),
                        "date_deadline": today,
                        "user_id": user.id,
                        "automated": True,
                        "collection_promise_id": promise.id,
                    }
                )
        if vals_list:
            self.env["mail.activity"].sudo().create(vals_list)
