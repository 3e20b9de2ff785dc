import logging
from collections import defaultdict

import psycopg2
from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL, format_date

from .collection_tools import log_failure, run_isolated

_logger = logging.getLogger(__name__)


class CollectionEngine(models.AbstractModel):
    """The daily collection run: which invoices are due for a stage, locking and
    batching them, executing their stages (activities, chatter, customer emails
    through ``collection.mailing``), and closing the activities of invoices no
    longer followed. ``account.move._cron_collection_run()`` delegates to
    :meth:`_run`.

    A service without records: its methods take the invoices they work on, and
    none is public (no remote call reaches them)."""

    _name = "collection.engine"
    _description = "Collection Run"

    @api.model
    def _run(self, batch_size=500):
        """Process one batch of the daily run (see
        ``account.move._cron_collection_run()``); return how many invoices were
        advanced."""
        if not self.env.context.get("lang"):
            # the scheduler gives no language: write the chatter notes in the
            # language of the cron user's company, not in the English source strings
            lang = self.env.company.partner_id.lang or self.env.user.lang
            self = self.with_context(lang=lang)  # noqa: PLW0642
        today = fields.Date.context_today(self)
        companies = self.env["res.company"].search([])
        # computed from today's date: not from a value cached on another day
        self.env["account.move"].invalidate_model(["collection_days_overdue"])
        self._collection_close_stale_activities()
        self.env["collection.promise.judge"]._collection_judge_due(today)
        self.env["collection.plan"]._collection_judge_due(today)
        self.env["collection.segment"]._collection_evaluate_daily(today)
        self.env["collection.experiment"]._collection_assign_due(today)
        work = self._collection_due_work(companies.ids, today)
        batch = dict(work[:batch_size])
        processed = self._collection_process_batch(batch) if batch else 0
        # the customers whose invoices reached a legal stage are handed over
        self.env["collection.legal"]._collection_handover_due(today)
        remaining = max(len(work) - len(batch), 0)
        _logger.info(
            "Collection run: %s invoices advanced, %s remaining", processed, remaining
        )
        if remaining or (batch and self._collection_due_work(companies.ids, today)):
            # invoices left, or locked by a concurrent run: the run that
            # executes the day's last stages emails the customers
            self.env["ir.cron"]._notify_progress(done=len(batch), remaining=remaining)
            return processed
        # every stage of the day executed: one email per customer, then the digests
        conversation = self.env["collection.conversation"]
        conversation._collection_report_late(companies.ids, today)
        customers = conversation._collection_owed_customers(companies.ids, today)
        mail_batch = customers[:batch_size]
        handled = conversation._collection_mail_customers(mail_batch, today)
        self._collection_trigger_statements()
        remaining = len(customers) - len(mail_batch)
        _logger.info(
            "Collection run: %s customers emailed or held, %s remaining",
            handled,
            remaining,
        )
        self.env["ir.cron"]._notify_progress(
            done=len(batch) + len(mail_batch), remaining=remaining
        )
        if not remaining:
            self.env["collection.mailing"]._collection_send_digests()
            self.env["res.partner"]._collection_refresh_payment_history()
        return processed

    @api.model
    def _collection_trigger_statements(self):
        """The statement job attaches their statement to the emails just
        queued: started as soon as the scheduler can (it renders them in
        batches, out of the run's way)."""
        if not self.env["collection.statement.queue"].sudo().search_count([], limit=1):
            return
        cron = self.env.ref(
            "account_collections.ir_cron_collection_statements",
            raise_if_not_found=False,
        )
        if cron:
            cron.sudo()._trigger()

    # -------------------------------------------------------------------------
    # Selection of the due work
    # -------------------------------------------------------------------------

    @api.model
    def _collection_due_work(self, company_ids, today):
        """Return ``[(move_id, stage_id)]``: for each open invoice whose next stage
        date is reached, the latest stage reached (so that a late start does not
        flood the salesperson with every earlier stage)."""
        self.env.flush_all()
        receivable = self.env["collection.receivable"]
        query = SQL(
            """
            SELECT DISTINCT ON (m.id) m.id, s.id
              FROM account_move m
              %(invoice_joins)s
              JOIN collection_policy pol ON pol.id = %(policy)s AND pol.active
              JOIN collection_stage s ON s.policy_id = pol.id AND s.active
         LEFT JOIN collection_stage cur ON cur.id = m.collection_stage_id
             WHERE %(open)s
               AND m.company_id = ANY(%(company_ids)s)
               AND m.collection_date_due IS NOT NULL
               AND (rcv_company.collection_start_date IS NULL
                    OR m.collection_date_due >= rcv_company.collection_start_date)
               AND m.collection_date_due + s.day_offset <= %(today)s
               AND (cur.id IS NULL OR s.day_offset > cur.day_offset)
               AND (m.collection_error_date IS NULL
                    OR m.collection_error_date < %(today)s)
               AND %(extra)s
          ORDER BY m.id, s.day_offset DESC
            """,
            open=receivable._collection_open_sql("m"),
            invoice_joins=receivable._collection_invoice_joins("m", alias="rcv"),
            policy=receivable._collection_policy_sql("rcv"),
            company_ids=list(company_ids),
            today=today,
            extra=self._collection_due_work_extra_where(today),
        )
        return self.env.execute_query(query)

    @api.model
    def _collection_due_work_extra_where(self, today):
        """Further conditions on ``m`` (account_move) for an invoice to advance:
        its collection is not paused on ``today`` (an open promise or payment
        plan, a dispute or a payment reported on the portal, an exclusion:
        ``collection.receivable._collection_pauses``)."""
        return SQL(
            "NOT EXISTS (%s)",
            self.env["collection.receivable"]._collection_pause_sql(today, "m"),
        )

    # -------------------------------------------------------------------------
    # Closing the activities of invoices no longer followed
    # -------------------------------------------------------------------------

    @api.model
    def _collection_close_stale_activities(self):
        """Close the open collection activities of invoices no longer followed."""
        self.env.flush_all()
        query = SQL(
            """
            SELECT DISTINCT m.id
              FROM mail_activity a
              JOIN account_move m ON m.id = a.res_id
             WHERE a.res_model = 'account.move'
               AND (a.collection_stage_id IS NOT NULL
                    OR a.collection_promise_id IS NOT NULL)
               AND a.active
               AND NOT %s
            """,
            self.env["collection.receivable"]._collection_open_sql("m"),
        )
        move_ids = [row[0] for row in self.env.execute_query(query)]
        if move_ids:
            run_isolated(
                self.env["account.move"].browse(move_ids),
                self._collection_close_settled,
                lambda move, error: log_failure(
                    move,
                    self.env._(
                        "The collection run could not close the collection "
                        "activities of this invoice; it will try again tomorrow."
                    ),
                    error,
                ),
            )

    @api.model
    def _collection_close_settled(self, moves):
        """Mark done the collection activities of invoices no longer followed."""
        activities = self._collection_followup_activities(moves)
        if not activities:
            return
        by_move = activities.grouped("res_id")
        by_reason = defaultdict(lambda: self.env["mail.activity"])
        for move in moves.browse(list(by_move)):
            reason = self._collection_closing_reason(move)
            if reason:
                by_reason[reason] |= by_move[move.id]
        for reason, reason_activities in by_reason.items():
            reason_activities.action_feedback(feedback=reason)

    @api.model
    def _collection_closing_reason(self, move):
        """Why the collection process no longer follows this invoice (empty if it does)."""
        move.ensure_one()
        if move.state != "posted":
            return self.env._("The invoice is no longer posted.")
        if move.payment_state == "paid":
            return self.env._("The invoice is paid.")
        if move.payment_state == "in_payment":
            return self.env._("The invoice is in payment.")
        if move.payment_state == "reversed":
            return self.env._("The invoice was reversed by a credit note.")
        if move.collection_excluded:
            return self.env._("The invoice was excluded from collection.")
        if not move._collection_is_open():
            return self.env._("The invoice has nothing left to collect.")
        return ""

    @api.model
    def _collection_open_activities(self, moves):
        """Open activities of the invoices' collection stages (sudo)."""
        return (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "account.move"),
                    ("res_id", "in", moves.ids),
                    ("collection_stage_id", "!=", False),
                ]
            )
        )

    @api.model
    def _collection_followup_activities(self, moves):
        """Open collection activities of the invoices: the stages' ones and the
        ones for broken promises (sudo)."""
        return (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "account.move"),
                    ("res_id", "in", moves.ids),
                    "|",
                    ("collection_stage_id", "!=", False),
                    ("collection_promise_id", "!=", False),
                ]
            )
        )

    # -------------------------------------------------------------------------
    # Locking, batching, executing the stages
    # -------------------------------------------------------------------------

    @api.model
    def _collection_process_batch(self, stage_by_move_id):
        """Lock and advance a batch of invoices; return how many were advanced.

        Rows locked by a concurrent run are skipped (``SKIP LOCKED``): that run
        advances them. A failure on some invoices only rolls back those invoices.
        """
        locked = self.env.execute_query(
            SQL(
                "SELECT id FROM account_move WHERE id = ANY(%s) ORDER BY id "
                "FOR UPDATE SKIP LOCKED",
                list(stage_by_move_id),
            )
        )
        todo = {row[0]: stage_by_move_id[row[0]] for row in locked}
        if not todo:
            return 0
        try:
            with self.env.cr.savepoint():
                self._collection_execute(todo)
            return len(todo)
        except psycopg2.OperationalError:
            raise
        except Exception:  # noqa: BLE001 - isolate the faulty invoices below
            _logger.info("Collection run: a batch failed, retrying invoice by invoice")
        done = 0
        for move_id, stage_id in todo.items():
            try:
                with self.env.cr.savepoint():
                    self._collection_execute({move_id: stage_id})
                done += 1
            except psycopg2.OperationalError:
                raise
            except Exception as error:  # noqa: BLE001 - logged on the invoice
                self._collection_log_error(
                    self.env["account.move"].browse(move_id), error
                )
        return done

    @api.model
    def _collection_log_error(self, move, error):
        """Flag the invoice as failed today (the run retries it tomorrow) and say
        why in its chatter and the server log."""
        move.ensure_one()
        message = str(error) or error.__class__.__name__
        try:
            with self.env.cr.savepoint():
                move._collection_write(
                    {
                        "collection_error": message,
                        "collection_error_date": fields.Date.context_today(move),
                    }
                )
        except psycopg2.OperationalError:
            raise
        except Exception as write_error:  # noqa: BLE001 - the server log says it
            _logger.warning(
                "Collection run could not flag invoice %s (id %s) as failed: %s",
                move.name,
                move.id,
                write_error,
            )
        log_failure(
            move,
            self.env._(
                "The collection run could not process this invoice; it will try "
                "again tomorrow."
            ),
            error,
        )

    @api.model
    def _collection_execute(self, stage_by_move_id):
        """Execute the given stage on each invoice: activity, stage, chatter, email."""
        stages = self.env["collection.stage"].browse(set(stage_by_move_id.values()))
        moves = self.env["account.move"].browse(list(stage_by_move_id))
        stage_of = {move: stages.browse(stage_by_move_id[move.id]) for move in moves}
        today = fields.Date.context_today(self)
        model_id = self.env["ir.model"]._get_id("account.move")

        previous = self._collection_open_activities(moves)
        previous_by_move_user = defaultdict(lambda: self.env["mail.activity"])
        for activity in previous:
            previous_by_move_user[activity.res_id, activity.user_id.id] |= activity

        stage_vals = {
            stage: {
                "activity_type_id": stage.activity_type_id.id,
                "summary": (
                    stage.summary or stage.activity_type_id.summary or stage.name
                ),
                "note": stage.note or stage.activity_type_id.default_note,
                "date_deadline": today,
                "automated": True,
                "collection_stage_id": stage.id,
                "collection_notified": False,
            }
            for stage in stages
        }
        due_labels = {}
        activity_vals, bodies = [], {}
        moved_on = defaultdict(lambda: self.env["mail.activity"])
        superseded = self.env["mail.activity"]
        for move in moves:
            stage = stage_of[move]
            user, notes = move._collection_responsible(stage)
            previous_user = previous_by_move_user[move.id, user.id]
            if previous_user:
                # the user's open collection activity on the invoice moves on to the
                # new stage: closing it and creating another would post a "done"
                # message per activity (about 7 ms each)
                moved_on[stage] |= previous_user[:1]
                superseded |= previous_user[1:]
            else:
                activity_vals.append(
                    {
                        **stage_vals[stage],
                        "res_model_id": model_id,
                        "res_id": move.id,
                        "user_id": user.id,
                    }
                )
            due = move.collection_date_due
            if due not in due_labels:
                due_labels[due] = format_date(self.env, due)
            body = Markup("<p>%s</p>") % self.env._(
                "Collection stage %(stage)s (%(offset)s days from the due date "
                "%(due)s): activity for %(user)s.",
                stage=stage.name,
                offset=stage.day_offset,
                due=due_labels[due],
                user=user.name,
            )
            for note in notes:
                body += Markup("<p>%s</p>") % note
            bodies[move.id] = body

        if superseded:
            superseded.action_feedback(
                feedback=self.env._("Superseded by the next collection stage.")
            )
        activity_model = (
            self.env["mail.activity"]
            .sudo()
            .with_context(mail_activity_quick_update=True)
        )
        for stage, activities in moved_on.items():
            activities.with_env(activity_model.env).write(stage_vals[stage])
        activity_model.create(activity_vals)
        entering = moves.filtered(lambda m: not m.collection_stage_id)
        for stage in stages:
            stage_moves = moves.filtered(lambda m, s=stage: stage_of[m] == s)
            stage_moves._collection_write(
                {
                    "collection_stage_id": stage.id,
                    "collection_error": False,
                    "collection_error_date": False,
                }
            )
        # the customer emails the stages owe, sent once per customer by the run's
        # mailing step; the stale ones noted first, under the stage's note
        conversation = self.env["collection.conversation"]
        for stage in stages.filtered("mail_template_id"):
            stage_moves = moves.filtered(lambda m, s=stage: stage_of[m] == s)
            conversation._collection_owe_mail(stage_moves, stage, entering)
        moves._message_log_batch(bodies)
