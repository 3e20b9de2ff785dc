#!/usr/bin/env python3
"""Build a realistic receivable portfolio in a database of its own.

Usage (tools/run_bench.sh does this for you)::

    python3 bench/generate.py -c odoo.conf -d ac_bench_tmpl_50000 --scale 50000

At scale N (default 50,000): N posted customer invoices (1-3 lines, 15% tax on most,
six payment terms, two with installments) due over the 180 days before BENCH_TODAY
and the 60 after; N/25 customers; 20 salespeople in 3 sales teams with leaders and a
collection manager; about 20% of the invoices fully paid and 20% partly paid by real
posted payments reconciled with them (some payments settle several invoices); credit
notes (half applied to an invoice, half left open); advance payments left
unreconciled; 1% of the open invoices excluded from collection; and, when the addon
has promises to pay, open promises on overdue invoices.

Everything goes through the ORM (``create`` in batches, ``action_post``,
``_reconcile_plan``), so the data is what Odoo itself writes; only tracking and the
chatter's creation messages are switched off. The invoices and payments are made by
``--jobs`` worker processes (default: one per CPU), each for its own share of the
customers and with its own bank journal, so that no two workers wait on the same
rows or sequence. ``BENCH_TODAY`` (default 2026-06-15)
is stored in ``ir.config_parameter`` ``bench.today``; every date is explicit, so two
databases generated with the same scale and seed are the same.
"""

import argparse
import json
import logging
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date, timedelta

from benchlib import environment, now, odoo_args, registry_from_args

_logger = logging.getLogger("bench.generate")

DEFAULT_TODAY = date(2026, 6, 15)
QUIET = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
    "mail_auto_subscribe_no_notify": True,
    "no_reset_password": True,
}
# (xmlid, days of the last installment, installments)
TERMS = [
    ("account.account_payment_term_immediate", 0),
    ("account.account_payment_term_15days", 15),
    ("account.account_payment_term_21days", 21),
    ("account.account_payment_term_30days", 30),
    ("account.account_payment_term_45days", 45),
    ("account.account_payment_term_advance_60days", 60),
]
PRODUCTS = ["Consulting", "Maintenance", "Licence", "Hardware", "Training", "Support"]


def log(msg, *args):
    print(("[generate] " + msg) % args, flush=True)


class Generator:
    def __init__(self, registry, scale, seed, today, batch, jobs=1, worker=None):
        self.registry = registry
        self.jobs = jobs
        self.worker = worker
        self.scale = scale
        self.seed = seed
        self.today = today
        self.batch = batch
        self.n_customers = max(scale // 25, 40)
        self.stats = {}
        self.numbers = {}

    # -- helpers ---------------------------------------------------------------

    def tag(self):
        return "" if self.worker is None else f"worker {self.worker + 1}/{self.jobs}: "

    def env(self):
        return environment(self.registry, QUIET)

    def rng(self, phase):
        """A random stream per phase, so that a resumed run plans the same data."""
        return random.Random(f"{self.seed}:{phase}")

    def phase(self, name, started):
        self.stats[name] = round(now() - started, 1)
        with self.env() as env:
            env["ir.config_parameter"].sudo().set_param(f"bench.phase.{name}", "done")
        log("%s done in %.1f s", name, self.stats[name])

    def done(self, name):
        with self.env() as env:
            if env["ir.config_parameter"].sudo().get_param(f"bench.phase.{name}"):
                log("%s: already done (resumed run)", name)
                return True
        return False

    # -- setup -----------------------------------------------------------------

    def setup(self):
        t0 = now()
        with self.env() as env:
            icp = env["ir.config_parameter"].sudo()
            if icp.get_param("bench.phase.setup"):
                if icp.get_param("bench.scale") != str(self.scale):
                    raise SystemExit("this database holds a portfolio of another scale")
                self.today = date.fromisoformat(icp.get_param("bench.today"))
                log("setup: already done, resuming")
                self.stats["resumed"] = True
                self._ensure_bank_journals(env)
                self._load(env)
                return
            company = env.ref("base.main_company")
            if not company.chart_template:
                env["account.chart.template"].try_loading("generic_coa", company)
            icp.set_param("bench.today", self.today.isoformat())
            icp.set_param("bench.scale", str(self.scale))
            company.write({"name": "Bench Company", "email": "ar@bench.example"})

            group_ids = [
                env.ref(x).id
                for x in (
                    "base.group_user",
                    "sales_team.group_sale_salesman",
                    "account.group_account_invoice",
                )
            ]
            manager_group_ids = group_ids + [
                env.ref("sales_team.group_sale_manager").id,
                env.ref("account.group_account_manager").id,
            ]
            users = env["res.users"]

            def user_vals(login, name, groups):
                return {
                    "login": login,
                    "name": name,
                    "email": f"{login}@bench.example",
                    "company_id": company.id,
                    "company_ids": [(6, 0, company.ids)],
                    "groups_id": [(6, 0, groups)],
                }

            leaders = users.create(
                [
                    user_vals(f"leader{i}", f"Team Leader {i}", manager_group_ids)
                    for i in range(1, 4)
                ]
            )
            manager = users.create(
                user_vals("collections", "Collection Manager", manager_group_ids)
            )
            sellers = users.create(
                [
                    user_vals(f"seller{i:02d}", f"Salesperson {i:02d}", group_ids)
                    for i in range(1, 21)
                ]
            )
            company.collection_manager_id = manager
            for i, leader in enumerate(leaders):
                env["crm.team"].create(
                    {
                        "name": f"Sales Team {'ABC'[i]}",
                        "user_id": leader.id,
                        "company_id": company.id,
                        "member_ids": [(6, 0, sellers[i::3].ids)],
                    }
                )

            # a second, stricter policy for a tenth of the customers
            default = env.ref("account_collections.collection_policy_default")
            strict = default.copy({"name": "Key accounts"})
            for stage, offset in zip(
                strict.stage_ids.sorted("day_offset"), (-10, 1, 5, 20), strict=False
            ):
                stage.day_offset = offset

            rng = self.rng("setup")
            partner_vals = []
            for i in range(self.n_customers):
                seller = sellers[rng.randrange(len(sellers))]
                partner_vals.append(
                    {
                        "name": f"Customer {i + 1:05d}",
                        "is_company": True,
                        "email": f"ap{i + 1:05d}@customer.example",
                        "user_id": seller.id,
                        "customer_rank": 1,
                    }
                )
            partners = env["res.partner"].create(partner_vals)
            strict_partners = partners.filtered(lambda p: p.id % 10 == 3)
            strict_partners.with_company(company).write(
                {"collection_policy_id": strict.id}
            )
            self._ensure_bank_journals(env)
            self._load(env)
        self.phase("setup", t0)

    def _ensure_bank_journals(self, env):
        """One bank journal per worker (created here, before the workers start:
        two workers creating journals at once would compete for account codes)."""
        company = env.ref("base.main_company")
        banks = env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", company.id)]
        )
        for number in range(len(banks) + 1, self.jobs + 1):
            env["account.journal"].create(
                {
                    "name": f"Bank {number}",
                    "code": f"BNK{number}",
                    "type": "bank",
                    "company_id": company.id,
                }
            )

    def _load(self, env):
        """Read back what the setup made (also when resuming an interrupted run)."""
        company = env.ref("base.main_company")
        partners = env["res.partner"].search(
            [("email", "=like", "ap%@customer.example")], order="name"
        )
        self.partner_ids = partners.ids
        self.partner_user = {p.id: p.user_id.id for p in partners}
        self.seller_ids = (
            env["res.users"].search([("login", "=like", "seller%")], order="login").ids
        )
        self.company_id = company.id
        sale_journal = env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
        )
        self.sale_journal_id = sale_journal.id
        self.invoice_prefix = sale_journal.code
        self.refund_prefix = "R" + sale_journal.code
        banks = env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", company.id)], order="id"
        )
        # each worker pays through a bank journal of its own (its own sequence)
        bank = banks[(self.worker or 0) % len(banks)]
        self.bank_journal_id = bank.id
        self.payment_method_line_id = bank._get_available_payment_method_lines(
            "inbound"
        )[:1].id
        self.tax_id = company.account_sale_tax_id.id
        # the income account, given on each line as a user picking it would: a
        # line without product nor account makes Odoo look for the account most
        # used with the customer over two years, a query that grows with the
        # customer's history (a large debtor has thousands of lines)
        self.income_account_id = sale_journal.default_account_id.id
        self.terms = [(env.ref(x).id, days) for x, days in TERMS]

    # -- plan ------------------------------------------------------------------

    def plan(self):
        """Decide every invoice (partner, dates, lines) and its fate, up front."""
        rng, today = self.rng("plan"), self.today
        n = self.n_customers
        # a few large debtors and a long tail
        weights = [1 / (i + 5) ** 0.9 for i in range(n)]
        cum, total = [], 0.0
        for w in weights:
            total += w
            cum.append(total)
        invoices = []
        for _ in range(self.scale):
            partner_id = rng.choices(self.partner_ids, cum_weights=cum)[0]
            due = today + timedelta(days=rng.randint(-180, 60))
            # a term whose length lets the invoice be dated today or before
            candidates = [t for t in self.terms if t[1] >= (due - today).days]
            term = rng.choice(candidates) if rng.random() < 0.8 else None
            if term:
                invoice_date = due - timedelta(days=term[1])
            else:
                shortest = max((due - today).days, 0)
                invoice_date = due - timedelta(
                    days=rng.randint(shortest, max(shortest, 30))
                )
            user_id = self.partner_user[partner_id]
            if rng.random() < 0.1:
                user_id = rng.choice(self.seller_ids)
            lines = [
                {
                    "name": rng.choice(PRODUCTS),
                    "quantity": rng.randint(1, 5),
                    "price_unit": round(rng.lognormvariate(6.5, 1.0), 2),
                    "tax_ids": [(6, 0, [self.tax_id])] if rng.random() < 0.7 else [],
                }
                for _ in range(rng.choices((1, 2, 3), (60, 30, 10))[0])
            ]
            fate, pay_date = "open", None
            roll = rng.random()
            if roll < 0.42:
                # paid around the due date, some early, some late
                pay_date = due + timedelta(days=int(rng.gauss(8, 20)))
                pay_date = min(max(pay_date, invoice_date), today)
                fate = "full" if roll < 0.21 else "partial"
            invoices.append(
                {
                    "partner_id": partner_id,
                    "user_id": user_id,
                    "invoice_date": invoice_date,
                    "due": due,
                    "term_id": term and term[0],
                    "lines": lines,
                    "fate": fate,
                    "pay_date": pay_date,
                    "fraction": round(rng.uniform(0.2, 0.8), 2),
                }
            )
        invoices.sort(key=lambda inv: inv["invoice_date"])
        for spec in invoices:
            spec["name"] = self._number(self.invoice_prefix, spec["invoice_date"])
        self.all_invoices = invoices
        if self.worker is not None:
            # a worker's share: its customers' invoices (and so their payments)
            invoices = [
                spec
                for spec in invoices
                if spec["partner_id"] % self.jobs == self.worker
            ]
        self.invoices = invoices
        if self.worker is not None:
            return
        log(
            "planned %s invoices for %s customers: %s to be paid in full, %s in part",
            len(invoices),
            n,
            sum(inv["fate"] == "full" for inv in invoices),
            sum(inv["fate"] == "partial" for inv in invoices),
        )

    # -- workers -----------------------------------------------------------------

    def parallel(self, phase, argv):
        """Run ``phase`` (invoices or payments) in ``jobs`` worker processes, each
        on its share of the customers; each worker commits batch by batch, so an
        interrupted phase resumes where it stopped."""
        if self.done(phase):
            return
        t0 = now()
        if self.jobs == 1:
            getattr(self, f"create_{phase}")()
        else:
            workers = [
                subprocess.Popen(
                    [sys.executable, os.path.abspath(__file__), *argv]
                    + ["--jobs", str(self.jobs), "--worker", str(k), "--phase", phase]
                )
                for k in range(self.jobs)
            ]
            failed = [k for k, proc in enumerate(workers) if proc.wait() != 0]
            if failed:
                raise SystemExit(f"{phase}: worker(s) {failed} failed")
        self.attach_move_ids()
        self.phase(phase, t0)

    def attach_move_ids(self):
        existing = self._existing("out_invoice")
        for spec in self.all_invoices:
            spec["move_id"] = existing.get(spec["name"])

    # -- invoices --------------------------------------------------------------

    def _move_vals(self, spec, move_type="out_invoice"):
        vals = {
            "move_type": move_type,
            "journal_id": self.sale_journal_id,
            "partner_id": spec["partner_id"],
            "invoice_user_id": spec["user_id"],
            "invoice_date": spec["invoice_date"],
            "invoice_line_ids": [
                (0, 0, dict(line, account_id=self.income_account_id))
                for line in spec["lines"]
            ],
        }
        if spec.get("term_id"):
            vals["invoice_payment_term_id"] = spec["term_id"]
        else:
            vals["invoice_date_due"] = spec["due"]
        return vals

    def _number(self, prefix, day):
        """The next number of the journal's yearly sequence, as Odoo would give it:
        invoices are created in date order, so numbering them up front spares a
        search for the last number at each posting."""
        key = (prefix, day.year)
        self.numbers[key] = self.numbers.get(key, 0) + 1
        return f"{prefix}/{day.year}/{self.numbers[key]:05d}"

    def _existing(self, move_type):
        with self.env() as env:
            env.cr.execute(
                "SELECT name, id FROM account_move WHERE move_type = %s AND state = 'posted'",
                [move_type],
            )
            return dict(env.cr.fetchall())

    def create_invoices(self):
        t0 = now()
        existing = self._existing("out_invoice")
        todo = []
        for spec in self.invoices:
            if spec["name"] in existing:
                spec["move_id"] = existing[spec["name"]]
            else:
                todo.append(spec)
        if not todo:
            return
        done = 0
        for start in range(0, len(todo), self.batch):
            chunk = todo[start : start + self.batch]
            vals_list = [
                dict(self._move_vals(spec), name=spec["name"]) for spec in chunk
            ]
            with self.env() as env:
                moves = env["account.move"].create(vals_list)
                moves.action_post()
                for spec, move_id in zip(chunk, moves.ids, strict=True):
                    spec["move_id"] = move_id
            done += len(chunk)
            elapsed = now() - t0
            log(
                "%sinvoices: %s/%s (%.1f ms each, %.0f s left)",
                self.tag(),
                done,
                len(todo),
                elapsed * 1000 / done,
                elapsed / done * (len(todo) - done),
            )

    # -- payments --------------------------------------------------------------

    def _payment_vals(self, partner_id, amount, pay_date, memo):
        return {
            "date": pay_date,
            "amount": amount,
            "payment_type": "inbound",
            "partner_type": "customer",
            "memo": memo,
            "journal_id": self.bank_journal_id,
            "company_id": self.company_id,
            "partner_id": partner_id,
            "payment_method_line_id": self.payment_method_line_id,
        }

    def _payment_groups(self):
        """Payments to make: ``(partner, date, [(spec, 'full'|fraction)])``; a customer
        who pays several invoices on the same day often pays them at once."""
        rng = self.rng("payments")
        by_key = defaultdict(list)
        # drawn over the whole portfolio, so that the payments are the same
        # whatever the number of workers
        for spec in self.all_invoices:
            if spec["fate"] != "open":
                by_key[spec["partner_id"], spec["pay_date"]].append(spec)
        groups = []
        for (partner_id, pay_date), specs in by_key.items():
            bundle = []
            for spec in specs:
                if spec["fate"] == "partial":
                    groups.append((partner_id, pay_date, [spec]))
                    continue
                bundle.append(spec)
                if len(bundle) >= rng.randint(1, 4):
                    groups.append((partner_id, pay_date, bundle))
                    bundle = []
            if bundle:
                groups.append((partner_id, pay_date, bundle))
        if self.worker is not None:
            groups = [g for g in groups if g[0] % self.jobs == self.worker]
        groups.sort(key=lambda g: (g[1], g[0]))
        return groups

    def create_payments(self):
        t0 = now()
        groups = self._payment_groups()
        with self.env() as env:
            # a group is done when its first invoice got its payment (same commit)
            env.cr.execute(
                "SELECT DISTINCT invoice_id FROM account_move__account_payment"
            )
            paid = {row[0] for row in env.cr.fetchall()}
        groups = [g for g in groups if g[2][0]["move_id"] not in paid]
        done = 0
        for start in range(0, len(groups), self.batch):
            chunk = groups[start : start + self.batch]
            with self.env() as env:
                moves = env["account.move"].browse(
                    [spec["move_id"] for _p, _d, specs in chunk for spec in specs]
                )
                receivable = {
                    move.id: move.line_ids.filtered(
                        lambda line: line.account_type == "asset_receivable"
                    ).sorted("date_maturity")
                    for move in moves
                }
                vals_list, targets = [], []
                for partner_id, pay_date, specs in chunk:
                    lines = env["account.move.line"]
                    amount = 0.0
                    for spec in specs:
                        inv_lines = receivable[spec["move_id"]]
                        if spec["fate"] == "full":
                            amount += sum(inv_lines.mapped("amount_residual"))
                        elif len(inv_lines) > 1:
                            # installments: the first one is paid
                            inv_lines = inv_lines[:1]
                            amount += inv_lines.amount_residual
                        else:
                            amount += round(
                                inv_lines.amount_residual * spec["fraction"], 2
                            )
                        lines |= inv_lines
                    memo = ", ".join(lines.move_id.mapped("name"))
                    vals = self._payment_vals(
                        partner_id, round(amount, 2), pay_date, memo
                    )
                    # the invoices the payment is for (as the payment wizard links
                    # them), given at creation rather than written on each invoice
                    vals["invoice_ids"] = [(6, 0, lines.move_id.ids)]
                    vals_list.append(vals)
                    targets.append(lines)
                payments = env["account.payment"].create(vals_list)
                payments.action_post()
                plan = []
                for payment, lines in zip(payments, targets, strict=True):
                    pay_lines = payment.move_id.line_ids.filtered(
                        lambda line: line.account_type == "asset_receivable"
                    )
                    plan.append(pay_lines + lines)
                env["account.move.line"]._reconcile_plan(plan)
            done += len(chunk)
            elapsed = now() - t0
            log(
                "%spayments: %s/%s (%.1f ms each, %.0f s left)",
                self.tag(),
                done,
                len(groups),
                elapsed * 1000 / done,
                elapsed / done * (len(groups) - done),
            )

    # -- credit notes, advances, exclusions -------------------------------------

    def create_credit_notes(self):
        """Credit notes on 2% of the invoices: half applied to an open invoice of
        the same customer, half left open; and unreconciled advance payments.
        One transaction: an interrupted run redoes the whole phase."""
        t0 = now()
        if self.done("credit_notes"):
            return
        rng = self.rng("credit_notes")
        open_specs = [s for s in self.invoices if s["fate"] == "open"]
        notes = []
        for spec in rng.sample(open_specs, max(self.scale // 50, 4)):
            days = max((self.today - spec["invoice_date"]).days, 0)
            refund_date = spec["invoice_date"] + timedelta(days=rng.randint(0, days))
            line = dict(spec["lines"][0], quantity=1)
            line["price_unit"] = round(line["price_unit"] * rng.uniform(0.1, 0.5), 2)
            notes.append((refund_date, spec, line, rng.random() < 0.5))
        notes.sort(key=lambda note: note[0])
        with self.env() as env:
            vals_list = [
                {
                    "move_type": "out_refund",
                    "name": self._number(self.refund_prefix, refund_date),
                    "journal_id": self.sale_journal_id,
                    "partner_id": spec["partner_id"],
                    "invoice_user_id": spec["user_id"],
                    "invoice_date": refund_date,
                    "invoice_date_due": refund_date,
                    "invoice_line_ids": [
                        (0, 0, dict(line, account_id=self.income_account_id))
                    ],
                }
                for refund_date, spec, line, _apply in notes
            ]
            refunds = env["account.move"]
            for start in range(0, len(vals_list), self.batch):
                batch = env["account.move"].create(
                    vals_list[start : start + self.batch]
                )
                batch.action_post()
                refunds |= batch
            plan = []
            for (_date, spec, _line, apply), refund in zip(notes, refunds, strict=True):
                if apply:
                    invoice = env["account.move"].browse(spec["move_id"])
                    plan.append(
                        (invoice.line_ids | refund.line_ids).filtered(
                            lambda line: (
                                line.account_type == "asset_receivable"
                                and not line.reconciled
                            )
                        )
                    )
            env["account.move.line"]._reconcile_plan(plan)

            advances = []
            for _ in range(max(self.scale // 200, 2)):
                pay_date = self.today - timedelta(days=rng.randint(0, 120))
                advances.append(
                    self._payment_vals(
                        rng.choice(self.partner_ids),
                        round(rng.lognormvariate(6.5, 1.0), 2),
                        pay_date,
                        "Advance",
                    )
                )
            advances.sort(key=lambda v: v["date"])
            env["account.payment"].create(advances).action_post()
        self.phase("credit_notes", t0)

    def exclude(self):
        t0 = now()
        if self.done("exclusions"):
            return
        with self.env() as env:
            moves = env["account.move"].search(
                [
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_state", "in", ("not_paid", "partial")),
                ]
            )
            picked = self.rng("exclusions").sample(sorted(moves.ids), len(moves) // 100)
            env["account.move"].browse(picked).write({"collection_excluded": True})
        self.phase("exclusions", t0)

    def finish(self):
        with self.env() as env:
            icp = env["ir.config_parameter"].sudo()
            stats = json.loads(icp.get_param("bench.generate_stats") or "{}")
            stats.update(self.stats)
            icp.set_param("bench.generate_stats", json.dumps(stats))
            icp.set_param("bench.phase.all", "done")


def apply_extras(registry, seed=7):
    """Data for parts of the addon that may arrive after the template was built
    (idempotent): open promises to pay on overdue invoices when the addon has them."""
    from freezegun import freeze_time

    with environment(registry, QUIET) as env:
        icp = env["ir.config_parameter"].sudo()
        today = date.fromisoformat(icp.get_param("bench.today"))
        if "collection.promise" not in env or icp.get_param("bench.extras_promises"):
            return
        rng = random.Random(seed)
        env.cr.execute(
            """
            SELECT commercial_partner_id, array_agg(id ORDER BY id)
              FROM account_move
             WHERE move_type = 'out_invoice' AND state = 'posted'
               AND payment_state IN ('not_paid', 'partial')
               AND NOT COALESCE(collection_excluded, FALSE)
               AND invoice_date_due < %s
             GROUP BY commercial_partner_id
             ORDER BY commercial_partner_id
            """,
            [today],
        )
        rows = env.cr.fetchall()
        picked = rng.sample(rows, max(len(rows) // 10, 1))
        vals_list = []
        for partner_id, move_ids in picked:
            moves = env["account.move"].browse(move_ids[: rng.randint(1, 3)])
            vals_list.append(
                {
                    "partner_id": partner_id,
                    "move_ids": [(6, 0, moves.ids)],
                    "promised_date": today + timedelta(days=rng.randint(1, 14)),
                    "amount": round(sum(moves.mapped("amount_residual")) * 0.8, 2),
                }
            )
        with freeze_time(today):
            env["collection.promise"].create(vals_list)
        icp.set_param("bench.extras_promises", str(len(vals_list)))
        log("extras: %s open promises to pay", len(vals_list))


def main():
    parser = odoo_args(__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--today", type=date.fromisoformat, default=DEFAULT_TODAY)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes for the invoices and payments (default: CPUs)",
    )
    parser.add_argument("--worker", type=int, help=argparse_hidden())
    parser.add_argument(
        "--phase", choices=("invoices", "payments"), help=argparse_hidden()
    )
    parser.add_argument(
        "--extras-only",
        action="store_true",
        help="only add the data of optional parts (promises) to a built portfolio",
    )
    args = parser.parse_args()
    registry = registry_from_args(args)
    if args.extras_only:
        apply_extras(registry)
        return
    jobs = max(args.jobs, 1)
    if args.worker is not None:
        # a worker process started by Generator.parallel()
        gen = Generator(
            registry, args.scale, args.seed, args.today, args.batch, jobs, args.worker
        )
        with gen.env() as env:
            gen.today = date.fromisoformat(
                env["ir.config_parameter"].sudo().get_param("bench.today")
            )
            gen._load(env)
        gen.plan()
        if args.phase == "payments":
            gen.attach_move_ids()
        getattr(gen, f"create_{args.phase}")()
        return
    t0 = now()
    gen = Generator(registry, args.scale, args.seed, args.today, args.batch, jobs)
    gen.setup()
    gen.plan()
    argv = sys.argv[1:]
    gen.parallel("invoices", argv)
    gen.parallel("payments", argv)
    gen.create_credit_notes()
    gen.exclude()
    apply_extras(registry)
    gen.stats["total"] = round(now() - t0, 1)
    gen.stats["python_cpu"] = round(time.process_time(), 1)
    gen.stats["jobs"] = jobs
    gen.finish()
    log("portfolio of %s invoices built in %.1f s", args.scale, gen.stats["total"])


def argparse_hidden():
    return argparse.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())
