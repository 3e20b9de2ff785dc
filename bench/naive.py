"""Naive ORM implementations of the addon's work, kept here only as a yardstick.

They do what a first version written "the obvious way" would do: loop over the
records, read fields record by record (the ORM's prefetching still applies, as it
would for that first version), call ``activity_schedule`` with Odoo's defaults
(an assignment email per activity). They give the same answers as the addon on
the benchmark's data, only slower; ``run.py`` times them next to the addon.
Nothing under ``bench/`` is imported by Odoo.
"""

from collections import defaultdict
from datetime import timedelta

OPEN_STATES = ("not_paid", "partial")
LIMITS = (0, 30, 60, 90, 120)


def _policy(move):
    partner = move.commercial_partner_id.with_company(move.company_id)
    return partner.collection_policy_id or move.company_id.collection_policy_id


def _responsible(move, stage):
    salesperson = move.invoice_user_id or move.commercial_partner_id.user_id
    if stage.responsible == "manager":
        manager = (
            salesperson.sale_team_id.user_id or move.company_id.collection_manager_id
        )
        return manager or salesperson
    return salesperson or move.company_id.collection_manager_id or move.env.user


def daily_run(env, today, max_activities=None):
    """Loop over the open customer invoices and schedule, for each one whose
    latest reached stage is later than its current one, that stage's activity.

    Returns ``(activities created, invoices looked at)``; stops after
    ``max_activities`` when given (the first run is extrapolated from a sample).
    """
    moves = env["account.move"].search(
        [
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", OPEN_STATES),
        ],
        order="id",
    )
    created = looked = 0
    for move in moves:
        looked += 1
        if move.collection_excluded or move.amount_residual <= 0:
            continue
        start = move.company_id.collection_start_date
        due = move.collection_date_due
        if not due or (start and due < start):
            continue
        if "collection_promise_ids" in move._fields and any(
            promise.state == "open" and promise.promised_date >= today
            for promise in move.collection_promise_ids
        ):
            continue  # escalation paused by a promise to pay
        policy = _policy(move)
        reached = [
            s for s in policy.stage_ids if due + timedelta(days=s.day_offset) <= today
        ]
        if not reached:
            continue
        stage = max(reached, key=lambda s: s.day_offset)
        current = move.collection_stage_id
        if current and stage.day_offset <= current.day_offset:
            continue
        user = _responsible(move, stage)
        move.activity_schedule(
            activity_type_id=stage.activity_type_id.id,
            date_deadline=today,
            summary=stage.summary or stage.name,
            user_id=user.id,
            collection_stage_id=stage.id,
        )
        move.collection_stage_id = stage
        move.message_post(
            body=f"Collection stage {stage.name}: activity for {user.name}."
        )
        created += 1
        if max_activities and created >= max_activities:
            break
    env.flush_all()
    return created, looked


def _open_amount(line, date_at):
    """Open amount of a receivable item on ``date_at``: its balance minus what was
    matched on or before that day."""
    amount = line.balance
    for partial in line.matched_debit_ids:
        if partial.max_date <= date_at:
            amount += partial.amount
    for partial in line.matched_credit_ids:
        if partial.max_date <= date_at:
            amount -= partial.amount
    return amount


def _bucket(days):
    for index, limit in enumerate(LIMITS):
        if days <= limit:
            return index
    return len(LIMITS)


def aging(env, date_at, group_by="partner"):
    """Aging as of ``date_at``: loop over every receivable item dated on or
    before it and read its reconciliations one by one.

    Returns ``({group: [amount per bucket]}, grand total)``.
    """
    lines = env["account.move.line"].search(
        [
            ("account_id.account_type", "=", "asset_receivable"),
            ("parent_state", "=", "posted"),
            ("date", "<=", date_at),
        ],
        order="id",
    )
    groups = defaultdict(lambda: [0.0] * (len(LIMITS) + 1))
    total = 0.0
    for line in lines:
        amount = _open_amount(line, date_at)
        if line.company_currency_id.is_zero(amount):
            continue
        days = (date_at - (line.date_maturity or line.date)).days
        partner = line.partner_id.commercial_partner_id
        if group_by == "partner":
            key = partner.id
        else:
            key = (line.move_id.invoice_user_id or partner.user_id).id
        groups[key][_bucket(days)] += amount
        total += amount
    return groups, round(total, 2)


def kpis(env, company, date_to, period_days=90):
    """Headline portfolio figures (receivable, overdue, DSO, best DSO, ADD, CEI,
    weighted days late, average age) for the period ending on ``date_to`` and one
    week earlier, by looping over invoices and receivable items."""

    def figures(day):
        date_from = day - timedelta(days=period_days - 1)
        _opening_groups, opening = aging(env, date_from - timedelta(days=1))
        groups, receivable = aging(env, day)
        not_due = sum(amounts[0] for amounts in groups.values())
        overdue = receivable - not_due
        invoices = env["account.move"].search(
            [
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("state", "=", "posted"),
                ("company_id", "=", company.id),
                ("invoice_date", ">=", date_from),
                ("invoice_date", "<=", day),
            ]
        )
        sales = sum(move.amount_total_signed for move in invoices)
        late_amount = late_weight = age_weight = 0.0
        lines = env["account.move.line"].search(
            [
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("date", "<=", day),
                ("company_id", "=", company.id),
            ]
        )
        for line in lines:
            amount = _open_amount(line, day)
            if amount <= 0:
                continue
            days_late = (day - (line.date_maturity or line.date)).days
            if days_late > 0:
                late_amount += amount
                late_weight += amount * days_late
            age_weight += amount * (day - (line.move_id.invoice_date or line.date)).days
        dso = receivable / sales * period_days if sales else None
        best = not_due / sales * period_days if sales else None
        denominator = opening + sales - not_due
        return {
            "receivable": receivable,
            "overdue": overdue,
            "overdue_ratio": overdue / receivable if receivable else None,
            "dso": dso,
            "best_dso": best,
            "add": dso - best if dso is not None else None,
            "cei": (opening + sales - receivable) / denominator * 100
            if denominator
            else None,
            "weighted_days_late": late_weight / late_amount if late_amount else None,
            "average_age": age_weight / receivable if receivable else None,
        }

    return figures(date_to), figures(date_to - timedelta(days=7))
