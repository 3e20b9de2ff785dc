# Steps of tools/check_upgrade_uninstall.sh, run inside `odoo shell`; STEP selects:
#   create    - collection data of every kind, and activities of other apps
#   snapshot  - print a JSON snapshot of the data (between the markers)
# ruff: noqa: F821  (``env`` is provided by odoo shell)
import json
import os
from datetime import timedelta

from odoo import Command, fields

STEP = os.environ["STEP"]
MARK = "=====SNAPSHOT====="
today = fields.Date.context_today(env["res.users"])
env = env(context=dict(env.context, tracking_disable=True, no_reset_password=True))


def user(login, groups):
    return env["res.users"].create(
        {
            "login": login,
            "name": login.title(),
            "email": f"{login}@example.com",
            "groups_id": [Command.set([env.ref(g).id for g in groups])],
        }
    )


def invoice(partner, seller, due, amount):
    move = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_user_id": seller.id,
            "invoice_date": due - timedelta(days=30),
            "invoice_date_due": due,
            "invoice_line_ids": [
                Command.create({"name": "Goods", "price_unit": amount, "tax_ids": []})
            ],
        }
    )
    move.action_post()
    return move


def create():
    seller = user(
        "upgrade_seller",
        [
            "base.group_user",
            "sales_team.group_sale_salesman",
            "account.group_account_invoice",
        ],
    )
    leader = user(
        "upgrade_leader",
        [
            "base.group_user",
            "sales_team.group_sale_salesman",
            # receives the weekly report: a collection manager
            "account_collections.group_collection_manager",
        ],
    )
    env["crm.team"].create(
        {
            "name": "Upgrade team",
            "user_id": leader.id,
            "member_ids": [Command.set(seller.ids)],
        }
    )
    customers = env["res.partner"].create(
        [
            {"name": f"Upgrade Customer {i}", "email": f"c{i}@example.com"}
            for i in range(3)
        ]
    )
    # configuration: a customer policy, a changed shipped stage, company settings
    policy = env["collection.policy"].create(
        {
            "name": "Upgrade strict policy",
            "stage_ids": [
                Command.create(
                    {
                        "name": "Call on due date",
                        "day_offset": 0,
                        "responsible": "manager",
                        "activity_type_id": env.ref(
                            "account_collections.mail_activity_type_collection_escalation"
                        ).id,
                    }
                )
            ],
        }
    )
    customers[2].collection_policy_id = policy
    shipped = env.ref("account_collections.collection_policy_default").stage_ids
    shipped.filtered(lambda s: s.day_offset == 1).summary = "Customised follow-up"
    env.company.write(
        {
            "collection_manager_id": leader.id,
            "collection_start_date": today - timedelta(days=400),
            "collection_report_user_ids": [Command.set(leader.ids)],
        }
    )
    moves = env["account.move"]
    for customer in customers:
        moves |= invoice(customer, seller, today - timedelta(days=10), 1000.0)
        moves |= invoice(customer, seller, today + timedelta(days=3), 500.0)
    paid = invoice(customers[0], seller, today - timedelta(days=2), 300.0)
    env["account.payment.register"].with_context(
        active_model="account.move", active_ids=paid.ids
    ).create({"payment_date": today})._create_payments()
    # activities of other apps, on an invoice and on a customer
    moves[0].activity_schedule(
        "mail.mail_activity_data_todo",
        summary="Other app: check the delivery",
        user_id=seller.id,
    )
    customers[1].activity_schedule(
        "mail.mail_activity_data_call",
        summary="Other app: call about the order",
        user_id=seller.id,
    )
    env["account.move"]._cron_collection_run()
    env["collection.contact"].with_user(seller)._collection_log(
        moves[2],
        "call",
        "promise",
        promised_date=today + timedelta(days=5),
        promise_amount=400.0,
        note="Will pay on Friday",
    )
    moves[4]._collection_exclude("dispute", "Damaged goods")
    env["account.move"]._cron_collection_run()
    env["collection.aging.wizard"].create({"date_at": today}).action_export_xlsx()
    # the KPI history: its backfill (the install queued it before these invoices)
    env["collection.kpi.history"]._collection_backfill(env.company)
    env.cr.commit()


def other_activities():
    return sorted(
        [a.res_model, a.res_id, a.summary, a.activity_type_id.name]
        for a in env["mail.activity"].search([("summary", "like", "Other app:%")])
    )


def snapshot():
    moves = env["account.move"].search(
        [("move_type", "in", ("out_invoice", "out_refund", "entry"))], order="id"
    )
    data = {
        "invoices": [
            [m.name, m.state, m.payment_state, m.amount_total, m.amount_residual]
            for m in moves.filtered(lambda m: m.move_type == "out_invoice")
        ],
        "payments": sorted(
            [p.name, p.amount, p.state] for p in env["account.payment"].search([])
        ),
        "other_activities": other_activities(),
        "all_activities": env["mail.activity"].search_count([]),
    }
    if "collection.policy" in env:
        moves = moves.filtered(lambda m: m.move_type == "out_invoice")
        data["collections"] = {
            "policies": [
                [
                    p.name,
                    p.active,
                    [
                        [s.name, s.day_offset, s.responsible, s.summary]
                        for s in p.stage_ids
                    ],
                ]
                for p in env["collection.policy"]
                .with_context(active_test=False)
                .search([])
            ],
            "company": [
                env.company.collection_policy_id.name,
                env.company.collection_manager_id.login,
                str(env.company.collection_start_date),
                env.company.collection_report_user_ids.mapped("login"),
            ],
            "partner_policies": sorted(
                [p.name, p.collection_policy_id.name]
                for p in env["res.partner"].search(
                    [("name", "like", "Upgrade Customer")]
                )
            ),
            "invoices": [
                [
                    m.name,
                    m.collection_stage_id.name,
                    m.collection_excluded,
                    m.collection_exclusion_reason,
                    m.collection_days_overdue,
                ]
                for m in moves
            ],
            "promises": [
                [p.partner_id.name, p.amount, p.state, str(p.promised_date)]
                for p in env["collection.promise"].search([])
            ],
            "contacts": [
                [c.partner_id.name, c.channel, c.outcome, c.note]
                for c in env["collection.contact"].search([])
            ],
            "activities": sorted(
                [a.res_id, a.summary, a.user_id.login]
                for a in env["mail.activity"].search(
                    [("collection_stage_id", "!=", False)]
                )
            ),
        }
    if "collection.kpi.snapshot" in env:
        data["collections"]["kpi_snapshots"] = sorted(
            [str(s.date), s.dimension, s.user_id.login or "", s.receivable, s.dso]
            for s in env["collection.kpi.snapshot"].search([])
        )
    print(MARK)
    print(json.dumps(data, indent=1, sort_keys=True, default=str))
    print(MARK)


{"create": create, "snapshot": snapshot}[STEP]()
