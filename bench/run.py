#!/usr/bin/env python3
"""Measure the addon on a benchmark portfolio, next to its baselines.

Usage (tools/run_bench.sh prepares the database and calls this)::

    python3 bench/run.py -c odoo.conf -d ac_bench_run_50000 --repeat 5 \\
        --json bench/results/latest.json --markdown bench/RESULTS.md

Every figure is the median of ``--repeat`` runs (the first daily run, which
changes the database, is measured on ``--first-repeat`` fresh copies made with
``createdb -T``), with the peak resident memory the measure added to the process.
Each one is printed next to a baseline measured in the same run on the same data:
the naive ORM implementation of ``naive.py`` and, when its addon is installed, the
OCA's ``account_financial_report`` aged partner balance. Work that changes the
database is rolled back, except the first daily run on its copies.
"""

import json
import os
import platform
import subprocess
import sys
from datetime import date, timedelta

import naive
from benchlib import Measure, configure, environment, median, now, odoo_args

# the model that computes the aging
AGING_REPORT = "report.account_collections.collection_aging_report_document"

TARGETS = {
    # key: (seconds, minimum ratio to the baseline, baseline key)
    "daily_steady": (3.0, 20, "naive"),
    # within 10% of the plain ordinary day: plain / this >= 0.91
    "daily_steady_plans": (3.0, 0.91, "plain"),
    "daily_first": (90.0, None, "naive"),
    # with the default policy's customer emails (issue 14): the run, the
    # statement job after it reported beside
    "daily_first_mail": (120.0, None, None),
    "daily_steady_mail": (6.0, None, None),
    "aging_today": (0.3, 15, "oca"),
    "aging_past": (0.5, 15, "oca"),
    "xlsx_summary": (0.5, None, "oca"),
    "xlsx_detail": (3.0, 4, "oca"),
    "kpis": (0.5, None, "naive"),
    "weekly_job": (3.0, None, None),
    "kpi_backfill": (30.0, None, None),
    "segments_evaluate": (1.0, None, None),
    "experiment_results": (1.0, None, None),
}
LABELS = {
    "daily_first": "First daily run (whole portfolio, stage emails off)",
    "daily_steady": "Daily run, ordinary day (stage emails off)",
    "daily_steady_plans": "Ordinary day with segments and plans active (stage emails off)",
    "daily_first_mail": "First daily run, with customer emails",
    "daily_steady_mail": "Ordinary day, with customer emails",
    "aging_today": "Aging as of today, by customer",
    "aging_today_user": "Aging as of today, by salesperson",
    "aging_past": "Aging as of 90 days ago, by customer",
    "aging_past_user": "Aging as of 90 days ago, by salesperson",
    "xlsx_summary": "XLSX of the aging by customer",
    "xlsx_detail": "XLSX with the detail sheet",
    "kpis": "Weekly KPIs of a company",
    "report_render": "Portfolio report rendering (KPIs, charts, PDF)",
    "weekly_job": "Weekly job (KPI snapshot, KPIs, charts, report, mails queued)",
    "kpi_backfill": "KPI history: backfill of 52 weeks",
    "segments_evaluate": "Segments: re-evaluating every customer (2 segments)",
    "experiment_results": "Experiment results over every customer (figures and table)",
    "statements_100": "Statement PDFs of 100 customers (wkhtmltopdf, batched)",
}


# the daily run, and the job that attaches their statement to its customer
# emails once they are queued (the run triggers it)
RUN_CRON = "account_collections.ir_cron_collection_run"
STATEMENT_CRON = "account_collections.ir_cron_collection_statements"


def log(msg, *args):
    print(("[run] " + msg) % args, flush=True)


class Runner:
    def __init__(self, args):
        self.args = args
        self.results = {}
        self.checks = []

    # -- plumbing --------------------------------------------------------------

    def measure(self, key, func, repeat=None, setup=None, rollback=True):
        """Run ``func(env)`` ``repeat`` times, each in a transaction rolled back
        afterwards; record the median time, the peak memory and the last result."""
        repeat = repeat or self.args.repeat
        measures, value = [], None
        for _ in range(repeat):
            with environment(self.registry) as env:
                state = setup(env) if setup else None
                env.flush_all()
                with Measure(env) as m:
                    value = func(env) if state is None else func(env, state)
                    env.flush_all()
                measures.append(m)
                if rollback:
                    env.cr.rollback()
        self.record(key, measures)
        return value

    @staticmethod
    def summary(measures):
        """Medians of wall and CPU time, the largest peak memory, every run."""
        peaks = [m.peak_mib for m in measures if m.peak_mib is not None]
        return {
            "seconds": median([m.seconds for m in measures]),
            "cpu_seconds": median([m.cpu_seconds for m in measures]),
            "peak_mib": round(max(peaks), 1) if peaks else None,
            "runs": [round(m.seconds, 4) for m in measures],
        }

    def record(self, key, measures, **extra):
        entry = self.results.setdefault(key, {})
        entry.update(self.summary(measures), **extra)
        log(
            "%s: %.3f s wall, %.3f s CPU (median of %s), peak +%s MiB",
            key,
            entry["seconds"],
            entry["cpu_seconds"],
            len(measures),
            entry["peak_mib"],
        )

    def baseline(self, key, kind, measures, note="", factor=1.0, **extra):
        """Record a baseline; ``factor`` scales a sample up to the whole work."""
        entry = self.results.setdefault(key, {})
        figures = self.summary(measures)
        figures["seconds"] *= factor
        figures["cpu_seconds"] *= factor
        entry.setdefault("baselines", {})[kind] = dict(figures, note=note, **extra)
        log("%s baseline %s: %.3f s %s", key, kind, figures["seconds"], note)

    # -- the daily run ---------------------------------------------------------------

    def cron_run(self, env, day, commit, cron_xmlid=RUN_CRON):
        """Call the daily action (or the scheduled action ``cron_xmlid``) as
        Odoo's cron runner does (one batch per call, progress records, a commit
        between calls) until nothing remains; return the duration of each batch
        and the resident memory after it."""
        from freezegun import freeze_time

        cron = env.ref(cron_xmlid)
        batches = []
        with freeze_time(day):
            while True:
                job, progress = cron._add_progress()
                t0 = now()
                job._callback(cron.cron_name, cron.ir_actions_server_id.id)
                if commit:
                    env.cr.commit()
                batches.append((now() - t0, _rss_mib()))
                if not progress.remaining or len(batches) > 10000:
                    break
        return batches

    def daily_first(self):
        """First run on fresh copies of the database, then the ordinary next day.

        Two variants: the policies as the portfolio has them, with the stage
        emails to customers switched off, which is the work of the naive run
        (activities, stages, chatter notes, digests) and carries the targets;
        and the same with the default policy's customer emails, once, to show
        what Odoo's mail composer adds per email."""
        for suffix, emails, repeat in (
            ("", False, self.args.first_repeat),
            ("_mail", True, 1 if self.args.mail_variant else 0),
        ):
            if repeat:
                self._daily_variant(suffix, emails, repeat)

    def _daily_variant(self, suffix, emails, repeat):
        import odoo

        today, db = self.today, self.args.database
        firsts, steadies = [], []
        info = {}
        for rep in range(repeat):
            copy = f"{db}_copy"
            _createdb(copy, db)
            registry = odoo.modules.registry.Registry(copy)
            try:
                with environment(registry) as env:
                    if not emails:
                        env.cr.execute(
                            "UPDATE collection_stage SET mail_template_id = NULL"
                        )
                        env.cr.commit()
                        env.invalidate_all()
                    before = self._customer_emails(env)
                    started = self._last_ids(env)
                    with Measure(env) as m:
                        batches = self.cron_run(env, today, commit=True)
                    firsts.append(m)
                    env.cr.execute(
                        "SELECT count(*) FROM mail_activity "
                        "WHERE collection_stage_id IS NOT NULL"
                    )
                    activities = env.cr.fetchone()[0]
                    info = {
                        "activities": activities,
                        "customer_emails": self._customer_emails(env) - before,
                        **self._mail_counts(env, started),
                        "batches": len(batches),
                        "batch_max_s": round(max(b[0] for b in batches), 2),
                        "batch_median_s": round(median([b[0] for b in batches]), 2),
                        "rss_first_batch_mib": round(batches[0][1], 1),
                        "rss_last_batch_mib": round(batches[-1][1], 1),
                    }
                    if emails:
                        info.update(self.statement_job(env, today, commit=True))
                    log("first run%s %s: %.1f s, %s", suffix, rep + 1, m.seconds, info)
                if rep == repeat - 1:
                    self.steady(registry, steadies, naive_baseline=not emails)
            finally:
                _drop_registry(copy)
                _dropdb(copy)
        self.record("daily_first" + suffix, firsts, **info)
        self.record("daily_steady" + suffix, steadies, **self.steady_info)

    # -- ordinary day with segments and plans active -----------------------------------

    # share of the customers with overdue invoices given an open payment plan
    PLAN_SHARE = 0.03

    def daily_segments_plans(self):
        """The ordinary day (stage emails off) of a copy of the database where the
        two shipped segments are active (the customers evaluated, their policies
        applied) and a few percent of the customers with overdue invoices have
        an open payment plan; next to the plain ordinary day, which must have
        run first. The plans are added to this measure's copy only, so that the
        plain ordinary day stays the same work."""
        import odoo

        db, today = self.args.database, self.today
        copy = f"{db}_plans"
        steadies = []
        _createdb(copy, db)
        registry = odoo.modules.registry.Registry(copy)
        try:
            with environment(registry) as env:
                env.cr.execute("UPDATE collection_stage SET mail_template_id = NULL")
                info = self._activate_segments_and_plans(env, today)
                env.cr.commit()
                env.invalidate_all()
                log("segments and plans: %s", info)
                self.cron_run(env, today, commit=True)
            self.steady(registry, steadies, naive_baseline=False)
        finally:
            _drop_registry(copy)
            _dropdb(copy)
        self.record("daily_steady_plans", steadies, **info, **self.steady_info)
        plain = self.results.get("daily_steady")
        if plain:
            # the plain ordinary day is this measure's yardstick
            self.results["daily_steady_plans"].setdefault("baselines", {})["plain"] = {
                "seconds": plain["seconds"],
                "cpu_seconds": plain["cpu_seconds"],
                "note": "the plain ordinary day",
            }

    def _activate_segments_and_plans(self, env, today):
        import random

        from freezegun import freeze_time

        company = env.ref("base.main_company")
        segments = env.ref("account_collections.collection_segment_high_risk") | (
            env.ref("account_collections.collection_segment_reliable")
        )
        segments.write({"active": True, "company_id": company.id})
        with freeze_time(today):
            env["collection.segment"]._collection_evaluate(company, today)
        env.cr.execute(
            """
            SELECT m.commercial_partner_id, array_agg(m.id ORDER BY m.id)
              FROM account_move m
             WHERE m.move_type = 'out_invoice' AND m.state = 'posted'
               AND m.company_id = %s AND m.currency_id = %s
               AND m.payment_state IN ('not_paid', 'partial')
               AND NOT COALESCE(m.collection_excluded, FALSE)
               AND m.invoice_date_due < %s
               AND NOT EXISTS (
                   SELECT 1 FROM collection_plan_account_move_rel r
                     JOIN collection_plan p ON p.id = r.plan_id
                    WHERE r.move_id = m.id AND p.state = 'open')
             GROUP BY m.commercial_partner_id
             ORDER BY m.commercial_partner_id
            """,
            [company.id, company.currency_id.id, today],
        )
        rows = env.cr.fetchall()
        rng = random.Random(11)
        picked = rng.sample(rows, max(round(len(rows) * self.PLAN_SHARE), 1))
        Plan = env["collection.plan"].sudo()
        currency = company.currency_id
        values = []
        with freeze_time(today):
            for _partner_id, move_ids in picked:
                moves = env["account.move"].browse(move_ids[:3])
                due = sum(moves.mapped("amount_residual"))
                part = currency.round(due / 3)
                installments = [
                    (today + timedelta(days=20 * index), amount)
                    for index, amount in enumerate(
                        (part, part, currency.round(due - 2 * part)), start=1
                    )
                ]
                # the rules of a plan a manager records, without its emails
                values.append(Plan._collection_validate(moves, installments, today))
        Plan.create(values)
        return {
            "customers_with_overdue": len(rows),
            "plans": len(values),
            "segmented_customers": env["res.partner"].search_count(
                [("collection_segment_id", "!=", False)]
            ),
        }

    @staticmethod
    def _customer_emails(env):
        """Emails to customers posted on invoices so far (the stage emails)."""
        env.cr.execute(
            "SELECT count(*) FROM mail_message WHERE model = 'account.move' "
            "AND message_type = 'comment'"
        )
        return env.cr.fetchone()[0]

    @staticmethod
    def _last_ids(env):
        """The last ids of the outgoing emails and attachments, to count the new."""
        env.cr.execute(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM mail_mail), "
            "(SELECT COALESCE(MAX(id), 0) FROM ir_attachment)"
        )
        return env.cr.fetchone()

    @staticmethod
    def _mail_counts(env, started):
        """The emails queued (mail.mail) and the customer statements attached to
        the customer emails (PDF, or HTML when wkhtmltopdf is missing) since
        ``started`` (``_last_ids``)."""
        env.cr.execute(
            """
            SELECT (SELECT count(*) FROM mail_mail WHERE id > %s),
                   (SELECT count(*) FROM ir_attachment a
                     WHERE a.id > %s AND a.res_model = 'account.move'
                       AND EXISTS (SELECT 1 FROM message_attachment_rel r
                                     JOIN mail_message m ON m.id = r.message_id
                                    WHERE r.attachment_id = a.id
                                      AND m.model = 'account.move'
                                      AND m.message_type = 'comment')),
                   (SELECT count(*) FROM ir_attachment a
                     WHERE a.id > %s AND a.mimetype = 'application/pdf'
                       AND a.res_model = 'account.move'
                       AND EXISTS (SELECT 1 FROM message_attachment_rel r
                                    WHERE r.attachment_id = a.id))
            """,
            (started[0], started[1], started[1]),
        )
        mails, statements, pdfs = env.cr.fetchone()
        return {"mails_queued": mails, "statements": statements, "statement_pdfs": pdfs}

    def statement_job(self, env, day, commit):
        """The statement job after a run with customer emails: how long it
        takes to attach their statement to the emails the run queued, and how
        many it attached."""
        started = self._last_ids(env)
        with Measure(env) as m:
            self.cron_run(env, day, commit, cron_xmlid=STATEMENT_CRON)
        attached = self._mail_counts(env, started)["statements"]
        log("statements attached after the run: %s in %.1f s", attached, m.seconds)
        return {
            "statement_job_s": round(m.seconds, 2),
            "statement_job_cpu_s": round(m.cpu_seconds, 2),
            "statements_after_run": attached,
        }

    @staticmethod
    def due_work(env, day):
        from freezegun import freeze_time

        with freeze_time(day):
            companies = env["res.company"].search([])
            return env["collection.engine"]._collection_due_work(companies.ids, day)

    def steady(self, registry, measures, naive_baseline=True):
        """The next day on the processed portfolio, rolled back after each run."""
        day = self.today + timedelta(days=1)
        for _ in range(self.args.repeat):
            with environment(registry) as env:
                advancing = len(self.due_work(env, day))
                env.cr.execute(
                    "SELECT count(*) FROM mail_activity WHERE collection_stage_id "
                    "IS NOT NULL"
                )
                before = env.cr.fetchone()[0]
                emails_before = self._customer_emails(env)
                started = self._last_ids(env)
                with Measure(env) as m:
                    batches = self.cron_run(env, day, commit=False)
                env.cr.execute(
                    "SELECT count(*) FROM mail_activity WHERE collection_stage_id "
                    "IS NOT NULL"
                )
                self.steady_info = {
                    "invoices_advanced": advancing,
                    "new_activities": env.cr.fetchone()[0] - before,
                    "customer_emails": self._customer_emails(env) - emails_before,
                    **self._mail_counts(env, started),
                    "batches": len(batches),
                }
                if self.steady_info["customer_emails"]:
                    self.steady_info.update(self.statement_job(env, day, commit=False))
                measures.append(m)
                env.cr.rollback()
        if self.args.naive and naive_baseline:
            with environment(registry) as env:
                with Measure(env) as m:
                    created, looked = naive.daily_run(env, day)
                env.cr.rollback()
            self.baseline(
                "daily_steady",
                "naive",
                [m],
                f"loop over {looked} open invoices, activity_schedule for {created}",
            )

    def naive_first(self):
        """The naive first run on a sample of the invoices to advance,
        extrapolated to the whole portfolio (it is linear in the activities)."""
        total = self.results["daily_first"].get("activities") or 0
        sample = self.args.naive_sample
        with environment(self.registry) as env:
            with Measure(env) as m:
                created, _looked = naive.daily_run(
                    env, self.today, max_activities=sample
                )
            env.cr.rollback()
        if not created:
            return
        self.baseline(
            "daily_first",
            "naive",
            [m],
            f"measured on {created} activities ({m.seconds:.1f} s), extrapolated "
            f"to {total}",
            factor=total / created,
            extrapolated=True,
            sample_seconds=m.seconds,
        )

    # -- aging, XLSX ---------------------------------------------------------------

    def wizard(self, env, date_at, group_by="partner"):
        return env["collection.aging.wizard"].create(
            {"date_at": date_at, "group_by": group_by, "company_ids": [(6, 0, [1])]}
        )

    def aging(self):
        from odoo.addons.account_collections.models.collection_receivable import (
            COLLECTION_AGING_LIMITS,
        )

        company = self.company_id
        for key, date_at in (
            ("aging_today", self.today),
            ("aging_past", self.today - timedelta(days=90)),
        ):
            for suffix, group_by in (("", "partner"), ("_user", "user")):
                result = self.measure(
                    key + suffix,
                    lambda env, d=date_at, g=group_by: env[
                        AGING_REPORT
                    ]._collection_aging(
                        [company], d, COLLECTION_AGING_LIMITS, group_by=g
                    ),
                )
                self.results[key + suffix]["total"] = round(result["total"], 2)
                self.results[key + suffix]["groups"] = len(result["rows"])
                if self.args.naive:
                    with environment(self.registry) as env, Measure(env) as m:
                        _groups, total = naive.aging(env, date_at, group_by)
                    self.baseline(key + suffix, "naive", [m], total=total)
                    self.check(
                        f"{key + suffix}: total equals the naive total",
                        result["total"],
                        total,
                    )
            if self.oca:
                self.oca_aging(key, date_at)

    def oca_wizard(self, env, date_at, details):
        accounts = env["account.account"].search(
            [("account_type", "=", "asset_receivable")]
        )
        wizard = env["aged.partner.balance.report.wizard"].create(
            {
                "date_at": date_at,
                "company_id": self.company_id,
                "target_move": "posted",
                "receivable_accounts_only": True,
                "account_ids": [(6, 0, accounts.ids)],
                "show_move_line_details": details,
            }
        )
        # as the client sends it back to the server: dates as strings
        data = json.loads(json.dumps(wizard._prepare_report_data(), default=str))
        return wizard, data

    def oca_aging(self, key, date_at):
        report = "report.account_financial_report.aged_partner_balance"

        def compute(env, state):
            wizard, data = state
            return env[report]._get_report_values(wizard.ids, data)

        measures = []
        for _ in range(self.args.repeat):
            with environment(self.registry) as env:
                state = self.oca_wizard(env, date_at, False)
                env.flush_all()
                with Measure(env) as m:
                    values = compute(env, state)
                measures.append(m)
                total = round(
                    sum(acc["residual"] for acc in values["aged_partner_balance"]), 2
                )
                env.cr.rollback()
        self.baseline(
            key,
            "oca",
            measures,
            "account_financial_report aged partner balance",
            total=total,
        )
        self.check(
            f"{key}: total equals the OCA total", self.results[key]["total"], total
        )

    def xlsx(self):
        from odoo.addons.account_collections.report.collection_aging_xlsx import (
            collection_aging_xlsx,
        )

        today = self.today

        def summary(env, wizard):
            # the summary sheet alone: the report's values, written without detail
            report = env[AGING_REPORT]
            params = wizard._collection_aging_params()
            values = report._collection_aging_values(
                params, report._collection_aging(**params)
            )
            values["company_names"] = dict.fromkeys(params["company_ids"], "")
            return len(collection_aging_xlsx(env, values, []))

        def detail(env, wizard):
            wizard.action_export_xlsx()
            return len(wizard.xlsx_file)

        size = self.measure(
            "xlsx_summary", summary, setup=lambda env: self.wizard(env, today)
        )
        self.results["xlsx_summary"]["bytes"] = size
        size = self.measure(
            "xlsx_detail", detail, setup=lambda env: self.wizard(env, today)
        )
        self.results["xlsx_detail"]["bytes_base64"] = size
        if self.oca:
            xlsx = "report.a_f_r.report_aged_partner_balance_xlsx"
            for key, details in (("xlsx_summary", False), ("xlsx_detail", True)):
                measures = []
                for _ in range(self.args.repeat):
                    with environment(self.registry) as env:
                        wizard, data = self.oca_wizard(env, today, details)
                        env.flush_all()
                        with Measure(env) as m:
                            content, _kind = (
                                env[xlsx]
                                .with_context(active_model=wizard._name)
                                .create_xlsx_report(wizard.ids, data)
                            )
                        measures.append(m)
                        env.cr.rollback()
                self.baseline(
                    key,
                    "oca",
                    measures,
                    "account_financial_report XLSX"
                    + (" with move line details" if details else ""),
                    bytes=len(content),
                )

    # -- KPIs and the weekly job -------------------------------------------------------

    def weekly(self):
        from freezegun import freeze_time

        today, company = self.today, self.company_id
        self.measure(
            "kpis",
            lambda env: env["collection.portfolio.report"]._collection_kpis(
                [company], today
            ),
        )

        def render(env):
            with freeze_time(today):
                return env["collection.portfolio.delivery"]._collection_render(
                    env["res.company"].browse(company), today, "en_US"
                )

        rendered = self.measure("report_render", render)
        self.results["report_render"]["mimetype"] = rendered["mimetype"]

        def subscribe(env):
            users = env["res.users"].search(
                [("login", "in", ("collections", "leader1", "leader2", "leader3"))]
            )
            env["res.company"].browse(company).collection_report_user_ids = users
            # the 11 weeks before the one the job stores: 12 points per chart
            history = env["collection.kpi.history"]
            history._collection_write_weeks(
                env["res.company"].browse(company),
                history._collection_week_ends(today, weeks=12)[:-1],
            )
            return env.ref("account_collections.ir_cron_collection_weekly_report")

        def job(env, cron):
            with freeze_time(today):
                while True:
                    runner, progress = cron._add_progress()
                    runner._callback(cron.cron_name, cron.ir_actions_server_id.id)
                    if not progress.remaining:
                        break
            env.cr.execute(
                "SELECT count(*) FROM collection_report_log WHERE state = 'sent'"
            )
            return env.cr.fetchone()[0]

        sent = self.measure("weekly_job", job, setup=subscribe)
        self.results["weekly_job"]["mails_queued"] = sent

        def backfill(env):
            with freeze_time(today):
                weeks = env["collection.kpi.history"]._collection_backfill(
                    env["res.company"].browse(company)
                )
            env.cr.execute("SELECT count(*) FROM collection_kpi_snapshot")
            return weeks, env.cr.fetchone()[0]

        weeks, rows = self.measure(
            "kpi_backfill", backfill, repeat=min(self.args.repeat, 3)
        )
        self.results["kpi_backfill"].update(weeks=weeks, rows=rows)
        if self.args.naive:
            with environment(self.registry) as env, Measure(env) as m:
                naive.kpis(env, env["res.company"].browse(company), today)
            self.baseline("kpis", "naive", [m], "loops over invoices and items")

    # -- customer statements -------------------------------------------------------------

    def statements(self):
        """The customer statements of 100 customers with open invoices, as the
        daily run attaches them to its emails: one wkhtmltopdf call for the 100
        (``_collection_statement_files``), the PDF cut at each customer."""
        today, company_id = self.today, self.company_id

        def customers(env):
            env.cr.execute(
                """
                SELECT DISTINCT commercial_partner_id FROM account_move
                 WHERE move_type = 'out_invoice' AND state = 'posted'
                   AND payment_state IN ('not_paid', 'partial') AND company_id = %s
              ORDER BY 1 LIMIT 100
                """,
                (company_id,),
            )
            return env["res.partner"].browse([row[0] for row in env.cr.fetchall()])

        def render(env, partners):
            report = env["report.account_collections.report_customer_statement"]
            files = report._collection_statement_files(
                partners, today, env["res.company"].browse(company_id)
            )
            return len(partners), files

        count, files = self.measure(
            "statements_100", render, repeat=min(self.args.repeat, 3), setup=customers
        )
        import io

        from odoo.tools.pdf import PdfFileReader

        self.results["statements_100"].update(
            customers=count,
            files=len(files),
            pdf=sum(1 for _content, ext in files.values() if ext == "pdf"),
            pages=sum(
                len(PdfFileReader(io.BytesIO(content)).pages)
                for content, ext in files.values()
                if ext == "pdf"
            ),
        )
        log("statements: %s", self.results["statements_100"])

    # -- segments ----------------------------------------------------------------------

    def segments(self):
        """Re-evaluating the two shipped segments (activated) for every customer
        of the company: the figures query, one query per segment, the changes
        written and logged in the customers' chatter."""
        today, company = self.today, self.company_id

        def activate(env):
            segments = env.ref(
                "account_collections.collection_segment_high_risk"
            ) | env.ref("account_collections.collection_segment_reliable")
            segments.write({"active": True, "company_id": company})
            return segments

        def evaluate(env, segments):
            changed = env["collection.segment"]._collection_evaluate(
                env["res.company"].browse(company), today
            )
            env.cr.execute(
                "SELECT count(DISTINCT m.commercial_partner_id) FROM account_move m "
                "WHERE m.company_id = %s AND m.move_type = 'out_invoice' "
                "AND m.state = 'posted'",
                [company],
            )
            return changed, env.cr.fetchone()[0]

        changed, customers = self.measure("segments_evaluate", evaluate, setup=activate)
        self.results["segments_evaluate"].update(customers=customers, changed=changed)

    # -- experiments -------------------------------------------------------------------

    def experiment(self):
        """The results of a policy experiment running for 180 days on every
        customer of the company (a segment matching all, evaluated; its
        customers assigned to the arms): the figures of both arms with their
        intervals, and the table of the experiment's form."""
        today, company = self.today, self.company_id

        def setup(env):
            policies = env["collection.policy"].search(
                [("company_id", "in", (False, company))], limit=2
            )
            segment = env["collection.segment"].create(
                {
                    "name": "Bench: every customer",
                    # tried first (the shipped examples come after)
                    "sequence": 0,
                    "company_id": company,
                    "policy_id": policies[0].id,
                    "partner_domain": "[]",
                }
            )
            env["collection.segment"]._collection_evaluate(
                env["res.company"].browse(company), today
            )
            experiment = env["collection.experiment"].create(
                {
                    "name": "Bench experiment",
                    "company_id": company,
                    "segment_id": segment.id,
                    "control_policy_id": policies[0].id,
                    "variant_policy_id": policies[1].id,
                }
            )
            # started 180 days ago: invoices fell due and were paid since
            experiment.write(
                {
                    "state": "running",
                    "seed": 19,
                    "date_start": today - timedelta(days=180),
                }
            )
            experiment._collection_assign(today)
            return experiment

        def results(env, experiment):
            from freezegun import freeze_time

            with freeze_time(today):
                result = experiment._collection_results()
                html = env["collection.experiment.results"]._collection_render(result)
            return result, len(html)

        result, html = self.measure("experiment_results", results, setup=setup)
        self.results["experiment_results"].update(
            customers=result["control"]["customers"] + result["variant"]["customers"],
            invoices=result["control"]["invoices"] + result["variant"]["invoices"],
            html_chars=html,
        )

    # -- checks and output -------------------------------------------------------------

    def check(self, name, value, expected):
        ok = (
            value is not None and expected is not None and abs(value - expected) < 0.005
        )
        self.checks.append(
            {"check": name, "value": value, "expected": expected, "ok": ok}
        )
        log("check %s: %s (%s vs %s)", name, "OK" if ok else "FAILED", value, expected)

    def evaluate(self):
        """Ratios to the baselines and whether each target is met: on wall time
        (what a user waits, inflated when the machine is shared) and on CPU time
        (this process, its children and its PostgreSQL backend)."""
        for entry in self.results.values():
            entry["ratios"] = {}
            entry["cpu_ratios"] = {}
            for kind, base in entry.get("baselines", {}).items():
                if base.get("seconds") and entry.get("seconds"):
                    entry["ratios"][kind] = round(base["seconds"] / entry["seconds"], 1)
                if base.get("cpu_seconds") and entry.get("cpu_seconds"):
                    entry["cpu_ratios"][kind] = round(
                        base["cpu_seconds"] / entry["cpu_seconds"], 1
                    )
        for key, (limit, min_ratio, against) in TARGETS.items():
            entry = self.results.get(key)
            if not entry:
                continue

            def met(seconds, ratios, limit=limit, min_ratio=min_ratio, against=against):
                ok = seconds is not None and seconds < limit
                if min_ratio and against in ratios:
                    ok = ok and ratios[against] >= min_ratio
                return ok

            entry["target"] = {
                "seconds": limit,
                "ratio": min_ratio,
                "against": against,
                "met": met(entry["seconds"], entry["ratios"]),
                "met_cpu": met(entry["cpu_seconds"], entry["cpu_ratios"]),
            }

    def machine(self):
        def read(path):
            try:
                with open(path, encoding="utf-8") as f:
                    return f.read()
            except OSError:
                return ""

        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        mem = next(
            (
                int(line.split()[1]) // 1024
                for line in read("/proc/meminfo").splitlines()
                if line.startswith("MemTotal")
            ),
            None,
        )
        pg = subprocess.run(
            ["psql", "-Atqc", "SHOW server_version", "postgres"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        import odoo.release

        return {
            "cpu": cpu,
            "cores": os.cpu_count(),
            "memory_mib": mem,
            "python": platform.python_version(),
            "postgresql": pg,
            "odoo": odoo.release.version,
            "load_average": os.getloadavg(),
        }


# -- helpers -----------------------------------------------------------------------


def _rss_mib():
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _db_param(db, key):
    value = subprocess.run(
        [
            "psql",
            "-Atqc",
            f"SELECT value FROM ir_config_parameter WHERE key = '{key}'",
            db,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not value:
        raise SystemExit(f"{db} is not a benchmark database ({key} is not set)")
    return value


def _createdb(name, template):
    subprocess.run(["dropdb", "--if-exists", name], check=True)
    subprocess.run(["createdb", "-T", template, name], check=True)


def _dropdb(name):
    subprocess.run(["dropdb", "--if-exists", name], check=True)


def _drop_registry(name):
    import odoo

    odoo.modules.registry.Registry.delete(name)
    odoo.sql_db.close_db(name)


def main():
    parser = odoo_args(__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--first-repeat", type=int, default=None)
    parser.add_argument("--naive-sample", type=int, default=500)
    parser.add_argument("--no-naive", dest="naive", action="store_false")
    parser.add_argument(
        "--no-mail-variant",
        dest="mail_variant",
        action="store_false",
        help="skip the daily run with the customer emails of the default policy",
    )
    parser.add_argument(
        "--only",
        help="comma-separated parts: daily,aging,xlsx,weekly,segments,experiment,statements",
    )
    parser.add_argument("--template", help="template database (reported only)")
    parser.add_argument("--json")
    parser.add_argument("--markdown")
    parser.add_argument("--generate-log")
    parser.add_argument(
        "--readme",
        help="a Markdown file whose table between the markers <!-- bench:start --> "
        "and <!-- bench:end --> is replaced by the new one",
    )
    args = parser.parse_args()
    parts = set(
        (args.only or "daily,aging,xlsx,weekly,segments,experiment,statements").split(
            ","
        )
    )

    import odoo

    configure(args)
    started = now()
    runner = Runner(args)
    load_start = os.getloadavg()
    runner.today = date.fromisoformat(_db_param(args.database, "bench.today"))
    scale = int(_db_param(args.database, "bench.scale"))
    if args.first_repeat is None:
        args.first_repeat = 3 if scale > 10000 else args.repeat
    if "daily" in parts:
        # first, while nothing is connected to the database, which is copied
        runner.daily_first()
        runner.daily_segments_plans()
    registry = runner.registry = odoo.modules.registry.Registry(args.database)
    with environment(registry) as env:
        runner.company_id = env.ref("base.main_company").id
        runner.oca = "aged.partner.balance.report.wizard" in env
        generate_stats = json.loads(
            env["ir.config_parameter"].sudo().get_param("bench.generate_stats") or "{}"
        )
        env.cr.execute(
            """
            SELECT count(*) FILTER (WHERE move_type = 'out_invoice'),
                   count(*) FILTER (WHERE move_type = 'out_invoice'
                                    AND payment_state IN ('not_paid', 'partial')),
                   count(*) FILTER (WHERE move_type = 'out_refund')
              FROM account_move WHERE state = 'posted'
            """
        )
        invoices, open_invoices, refunds = env.cr.fetchone()
        env.cr.execute(
            """
            SELECT count(*) FROM account_move_line l
              JOIN account_account a ON a.id = l.account_id
             WHERE a.account_type = 'asset_receivable' AND l.parent_state = 'posted'
               AND NOT l.reconciled
            """
        )
        open_items = env.cr.fetchone()[0]
    dataset = {
        "scale": scale,
        "today": runner.today.isoformat(),
        "invoices": invoices,
        "open_invoices": open_invoices,
        "credit_notes": refunds,
        "open_receivable_items": open_items,
        "generate_seconds": generate_stats,
    }
    log("dataset: %s", dataset)
    if "daily" in parts and args.naive:
        runner.naive_first()
    if "aging" in parts:
        runner.aging()
    if "xlsx" in parts:
        runner.xlsx()
    if "weekly" in parts:
        runner.weekly()
    if "segments" in parts:
        runner.segments()
    if "experiment" in parts:
        runner.experiment()
    if "statements" in parts:
        runner.statements()
    runner.evaluate()
    output = {
        "dataset": dataset,
        "machine": runner.machine(),
        "load_average_start": load_start,
        "results": runner.results,
        "checks": runner.checks,
        "oca_baseline": runner.oca,
        "seconds": round(now() - started, 1),
    }
    table = markdown(output)
    print(table)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(output, f, indent=2, default=str)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(table)
    if args.readme:
        _replace_between_markers(args.readme, table)
    failed = [c for c in runner.checks if not c["ok"]]
    odoo.sql_db.close_all()
    return 1 if failed else 0


def _replace_between_markers(path, table):
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if start not in text or end not in text:
        log("%s has no %s ... %s markers: not updated", path, start, end)
        return
    # the table's own title is the README's section title
    body = table.split("\n", 2)[2].strip() if table.startswith("# ") else table
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{head}{start}\n{body}\n{end}{tail}")


def _fmt_s(value):
    if value is None:
        return "-"
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def markdown(output):
    ds, mc = output["dataset"], output["machine"]
    lines = [
        "# Benchmark results",
        "",
        (
            f"Portfolio: {ds['invoices']:,} customer invoices "
            f"({ds['open_invoices']:,} open, {ds['open_receivable_items']:,} open "
            f"receivable items, {ds['credit_notes']:,} credit notes), as of "
            f"{ds['today']}."
        ),
        (
            f"Machine: {mc['cpu']}, {mc['cores']} cores, {mc['memory_mib']:,} MiB; "
            f"Python {mc['python']}, PostgreSQL {mc['postgresql']}, Odoo {mc['odoo']}. "
            f"Load average {output['load_average_start'][0]:.1f} at the start, "
            f"{mc['load_average'][0]:.1f} at the end."
        ),
        "",
        (
            "Times are medians; wall = what a user waits, CPU = this process, its "
            "children and its PostgreSQL backend (what the work costs whatever else "
            "runs on the machine). Ratio = baseline / addon, wall (CPU)."
        ),
        "",
        (
            "| measure | addon wall | addon CPU | peak memory | naive ORM | OCA "
            "| ratio | target | met (wall / CPU) |"
        ),
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | :---: |",
    ]
    for key, label in LABELS.items():
        entry = output["results"].get(key)
        if not entry:
            continue
        baselines = entry.get("baselines", {})
        target = entry.get("target")
        ratio = (
            " / ".join(
                f"{v:.1f}x {k} ({entry['cpu_ratios'].get(k, 0):.1f}x)"
                for k, v in entry.get("ratios", {}).items()
            )
            or "-"
        )
        naive_b, oca_b = baselines.get("naive"), baselines.get("oca")
        naive_s = _fmt_s(naive_b["seconds"]) if naive_b else "-"
        if naive_b and naive_b.get("extrapolated"):
            naive_s += " (extrapolated)"
        goal, met = "-", ""
        if target:
            goal = f"< {target['seconds']:g} s"
            if target["ratio"]:
                goal += f", >= {target['ratio']}x {target['against']}"
            met = " / ".join(
                "yes" if target[k] else "**no**" for k in ("met", "met_cpu")
            )
        peak = entry.get("peak_mib")
        lines.append(
            f"| {label} | {_fmt_s(entry.get('seconds'))} | "
            f"{_fmt_s(entry.get('cpu_seconds'))} | "
            f"{'-' if peak is None else f'{peak:.0f} MiB'} | {naive_s} | "
            f"{_fmt_s(oca_b['seconds']) if oca_b else '-'} | {ratio} | {goal} | {met} |"
        )
    first = output["results"].get("daily_first", {})
    if first:
        lines += [
            "",
            (
                f"First daily run: {first.get('activities', 0):,} activities in "
                f"{first.get('batches')} batches of the cron (longest "
                f"{first.get('batch_max_s')} s, median {first.get('batch_median_s')} s); "
                f"resident memory {first.get('rss_first_batch_mib')} MiB after the "
                f"first batch, {first.get('rss_last_batch_mib')} MiB after the last."
            ),
        ]
    steady = output["results"].get("daily_steady", {})
    if steady:
        lines.append(
            f"Ordinary day: {steady.get('invoices_advanced', 0):,} invoices advance "
            f"({steady.get('new_activities', 0):,} new activities, the others move "
            f"their user's open activity on), in {steady.get('batches')} batch(es)."
        )
    plans = output["results"].get("daily_steady_plans", {})
    if plans and steady.get("seconds"):
        lines.append(
            f"With the two shipped segments active ({plans.get('segmented_customers', 0):,} "
            f"customers in them) and open payment plans for "
            f"{plans.get('plans', 0):,} of the {plans.get('customers_with_overdue', 0):,} "
            "customers with overdue invoices, the ordinary day takes "
            f"{100 * plans['seconds'] / steady['seconds']:.0f}% of the plain one's "
            f"wall time ({100 * plans['cpu_seconds'] / steady['cpu_seconds']:.0f}% "
            "of its CPU time; target: within 10%)."
        )
    first_mail = output["results"].get("daily_first_mail", {})
    steady_mail = output["results"].get("daily_steady_mail", {})
    if first_mail and steady_mail:
        per_email = [
            (entry["seconds"] - base["seconds"]) / entry["customer_emails"]
            for entry, base in ((first_mail, first), (steady_mail, steady))
            if entry.get("customer_emails") and base
        ]
        lines.append(
            "The rows without customer emails run the policies with their stage "
            "emails switched off: the work of the naive run, which the targets "
            "are about. With the default policy's emails, the first run sends "
            f"{first_mail['customer_emails']:,} emails and the ordinary day "
            f"{steady_mail['customer_emails']:,}"
            + (f", about {1000 * median(per_email):.0f} ms each" if per_email else "")
            + " (one per customer: rendering, message and notification, the "
            "email queued for its statement)."
            + "".join(
                f" {name}: {entry.get('mails_queued', 0):,} emails queued; "
                "statements attached after the run: "
                f"{entry.get('statements_after_run', 0):,} in "
                f"{entry.get('statement_job_s', 0):.1f} s (the statement job)."
                for name, entry in (
                    ("First run", first_mail),
                    ("Ordinary day", steady_mail),
                )
                if "mails_queued" in entry
            )
        )
    statements = output["results"].get("statements_100", {})
    if statements.get("files"):
        lines.append(
            f"Statements: {statements['customers']} customers in one wkhtmltopdf "
            f"call, {statements['pdf']} PDFs ({statements['pages']} pages) after "
            "cutting it at each customer."
        )
    backfill = output["results"].get("kpi_backfill", {})
    if backfill.get("weeks"):
        lines.append(
            f"KPI history: the backfill stores {backfill['weeks']} weeks (those "
            "since the first receivable item, at most 52), "
            f"{backfill['rows']:,} snapshots with the salespeople's and policies'; "
            "the weekly job stores one week and draws 12 weeks of charts."
        )
    if output["checks"]:
        lines += ["", "Checks:"]
        lines += [
            f"- {c['check']}: {'OK' if c['ok'] else 'FAILED'} "
            f"({c['value']:,.2f} vs {c['expected']:,.2f})"
            if c["value"] is not None and c["expected"] is not None
            else f"- {c['check']}: FAILED"
            for c in output["checks"]
        ]
    gen = ds.get("generate_seconds") or {}
    if gen.get("total"):
        phases = ", ".join(
            f"{k} {v:.0f} s"
            for k, v in gen.items()
            if k not in ("total", "python_cpu", "jobs", "resumed")
        )
        lines += [
            "",
            (
                f"Portfolio generated in {gen['total'] / 60:.0f} min ({phases}; "
                f"{gen.get('jobs', 1)} worker processes)."
                + (
                    " That was a resumed build: the figures cover its last run "
                    "only (see bench/README.md for the whole build's cost)."
                    if gen.get("resumed")
                    else ""
                )
            ),
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
