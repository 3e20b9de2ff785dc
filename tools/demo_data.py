# Demo data for account_collections, run inside `odoo shell` (see tools/run_demo.sh).
# Builds a realistic small portfolio relative to today, then runs the daily collection
# action over the last days (so that chatters show a history) and once today.
# ruff: noqa: F821  (``env`` is provided by odoo shell)
import logging
import os
import random
from datetime import timedelta

from freezegun import freeze_time

from odoo import Command, fields

_logger = logging.getLogger("account_collections.demo")
rng = random.Random(42)
today = fields.Date.context_today(env["res.users"])
ctx = {"tracking_disable": True, "mail_create_nolog": True, "no_reset_password": True}
env = env(context=dict(env.context, **ctx))  # noqa: F821

company = env.company
company.write(
    {
        "name": "Andes Distribución S.A.",
        "email": "cobranzas@andes-distribucion.example",
        "phone": "+56 2 2345 6789",
    }
)
env.ref("base.user_admin").write({"email": "admin@andes-distribucion.example"})
if os.environ.get("DEMO_BASE_URL"):
    env["ir.config_parameter"].sudo().set_param(
        "web.base.url", os.environ["DEMO_BASE_URL"]
    )
env["res.lang"]._activate_lang("es_ES")
env["ir.module.module"].search([("state", "=", "installed")])._update_translations(
    ["es_ES"]
)

groups_sales = [
    Command.link(env.ref("base.group_user").id),
    Command.link(env.ref("sales_team.group_sale_salesman").id),
    Command.link(env.ref("account.group_account_invoice").id),
]


def make_user(login, name, lang="en_US", groups=None):
    return env["res.users"].create(
        {
            "login": login,
            "password": login,
            "name": name,
            "email": f"{login}@andes-distribucion.example",
            "lang": lang,
            "groups_id": groups or groups_sales,
        }
    )


leader = make_user("laura", "Laura Gómez", "es_ES")
carlos = make_user("carlos", "Carlos Ruiz", "es_ES")
diego = make_user("diego", "Diego Fernández", "es_ES")
emily = make_user("emily", "Emily Carter", "en_US")
marta = make_user(
    "marta",
    "Marta Sánchez",
    "es_ES",
    groups_sales + [Command.link(env.ref("account.group_account_manager").id)],
)
env["crm.team"].create(
    {
        "name": "Ventas Directas",
        "user_id": leader.id,
        "member_ids": [Command.set([carlos.id, diego.id])],
    }
)
company.collection_manager_id = marta
if "collection_report_user_ids" in company._fields:
    company.collection_report_user_ids = [
        Command.set([marta.id, env.ref("base.user_admin").id])
    ]

customers_spec = [
    ("Ferretería El Martillo Ltda.", "es_ES", carlos),
    ("Constructora Los Álamos S.A.", "es_ES", carlos),
    ("Supermercados Del Valle", "es_ES", carlos),
    ("Clínica San Rafael", "es_ES", diego),
    ("Transportes Cordillera SpA", "es_ES", diego),
    ("Panadería La Espiga", "es_ES", diego),
    ("Northwind Traders Inc.", "en_US", emily),
    ("Blue Harbor Logistics", "en_US", emily),
    ("Greenfield Farms LLC", "en_US", emily),
    ("Hotel Mirador del Lago", "es_ES", leader),
    ("Distribuidora Austral", "es_ES", carlos),
    ("Pacific Office Supply", "en_US", emily),
]
customers = env["res.partner"]
for name, lang, user in customers_spec:
    slug = "".join(ch for ch in name.lower() if ch.isalnum())[:14]
    partner = env["res.partner"].create(
        {
            "name": name,
            "is_company": True,
            "lang": lang,
            "email": f"pagos@{slug}.example",
            "phone": f"+56 9 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
            "user_id": user.id,
            "country_id": env.ref("base.cl").id
            if lang == "es_ES"
            else env.ref("base.us").id,
        }
    )
    env["res.partner"].create(
        {
            "name": "Cuentas por Pagar" if lang == "es_ES" else "Accounts Payable",
            "type": "invoice",
            "parent_id": partner.id,
            "email": f"cxp@{slug}.example",
            "lang": lang,
        }
    )
    customers |= partner

# A key-account policy: gentler, manager involved earlier.
activity_types = {
    key: env.ref(f"account_collections.mail_activity_type_collection_{key}")
    for key in ("reminder", "overdue", "escalation")
}
key_accounts = env["collection.policy"].create(
    {
        "name": "Key accounts",
        "stage_ids": [
            Command.create(
                {
                    "name": "Courtesy call before due date",
                    "day_offset": -10,
                    "responsible": "salesperson",
                    "activity_type_id": activity_types["reminder"].id,
                }
            ),
            Command.create(
                {
                    "name": "Manager call",
                    "day_offset": 15,
                    "responsible": "manager",
                    "activity_type_id": activity_types["escalation"].id,
                }
            ),
        ],
    }
)
customers[1].collection_policy_id = key_accounts

products = env["product.product"].create(
    [
        {"name": "Cemento 25 kg", "list_price": 9.5, "type": "consu"},
        {"name": "Servicio de transporte", "list_price": 180.0, "type": "service"},
        {"name": "Mantenimiento mensual", "list_price": 950.0, "type": "service"},
        {"name": "Office chairs", "list_price": 145.0, "type": "consu"},
    ]
)
term_30 = env.ref("account.account_payment_term_30days", raise_if_not_found=False)

# Due dates from 130 days overdue to 25 days ahead: every stage of the policy.
offsets = [-25, -12, -5, -4, -2, 0, 1, 3, 6, 8, 12, 20, 31, 45, 64, 95, 130]
invoice_vals = []
for partner in customers:
    for offset in rng.sample(offsets, 4):
        due = today - timedelta(days=offset)
        lines = [
            Command.create(
                {
                    "product_id": product.id,
                    "quantity": rng.randint(1, 40),
                    "price_unit": product.list_price * rng.choice([1, 1.1, 0.95]),
                }
            )
            for product in rng.sample(list(products), rng.randint(1, 3))
        ]
        invoice_date = due - timedelta(days=30)
        vals = {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_user_id": partner.user_id.id,
            "invoice_date": invoice_date,
            "invoice_line_ids": lines,
        }
        if term_30 and rng.random() < 0.5:
            vals["invoice_payment_term_id"] = term_30.id
        else:
            vals["invoice_date_due"] = due
        invoice_vals.append(vals)
invoices = env["account.move"].create(invoice_vals)
invoices.action_post()


def pay(moves, amount=None, pay_date=None):
    wizard = (
        env["account.payment.register"]
        .with_context(active_model="account.move", active_ids=moves.ids)
        .create(
            {
                "payment_date": pay_date or today,
                **({"amount": amount} if amount else {}),
            }
        )
    )
    wizard._create_payments()


# A third of the invoices paid (some before the run starts), a few partially.
shuffled = list(invoices)
rng.shuffle(shuffled)
for move in shuffled[: len(shuffled) // 4]:
    pay(move, pay_date=min(today, move.invoice_date_due))
for move in shuffled[len(shuffled) // 4 : len(shuffled) // 3]:
    pay(
        move,
        amount=round(move.amount_residual * 0.4, 2),
        pay_date=today - timedelta(days=3),
    )
disputed = shuffled[-1]
disputed.write({"collection_excluded": True})

# Overdue invoices still open, per salesperson, for the contacts logged below.
open_overdue = invoices.filtered(
    lambda m: (
        m.payment_state == "not_paid"
        and not m.collection_excluded
        and m.invoice_date_due < today - timedelta(days=12)
    )
).sorted("invoice_date_due")


def log_contact(move, channel, outcome, note, promised_in=None, share=1.0):
    """Log a contact as the invoice's salesperson, on the (frozen) current day."""
    contacts = env["collection.contact"].with_user(move.invoice_user_id)
    day = fields.Date.context_today(contacts)
    contacts._collection_log(
        move.with_user(move.invoice_user_id),
        channel,
        outcome,
        note=note,
        promised_date=promised_in is not None and day + timedelta(days=promised_in),
        promise_amount=round(move.amount_residual * share, 2),
    )


# Commit, and build the report styles now: wkhtmltopdf (the statements attached
# to the customer emails of the daily run, the weekly report) fetches them from the
# running server, which would otherwise wait for this transaction to build them
# itself while this transaction waits for wkhtmltopdf.
env.cr.commit()
for bundle in ("web.report_assets_common", "web.report_assets_pdf"):
    env["ir.qweb"]._get_asset_bundle(bundle, js=False).css()
env.cr.commit()

# Strategies: the two example segments switched on (customers who broke promises
# lately get the strict policy, those who pay on time the light one), and a
# segment of the English-speaking customers, on which an experiment compares the
# standard policy with the light one.
for xmlid in ("collection_policy_light", "collection_policy_strict"):
    env.ref(f"account_collections.{xmlid}").active = True
for xmlid in ("collection_segment_high_risk", "collection_segment_reliable"):
    env.ref(f"account_collections.{xmlid}").active = True
pilot = env["collection.segment"].create(
    {
        "name": "English-speaking customers",
        "sequence": 5,
        "company_id": company.id,
        "policy_id": env.ref("account_collections.collection_policy_default").id,
        "partner_domain": "[('lang', '=', 'en_US')]",
    }
)
experiment = env["collection.experiment"].create(
    {
        "name": "Light policy for English-speaking customers",
        "company_id": company.id,
        "segment_id": pilot.id,
        "control_policy_id": env.ref(
            "account_collections.collection_policy_default"
        ).id,
        "variant_policy_id": env.ref("account_collections.collection_policy_light").id,
        "seed": 3,
    }
)


def agree_plan(moves, installments):
    """A payment plan agreed by the salesperson: ``installments`` are
    (days from today, share of what is due)."""
    user = moves[:1].invoice_user_id
    due = sum(moves.mapped("amount_residual"))
    amounts = [round(due * share, 2) for _days, share in installments[:-1]]
    amounts.append(round(due - sum(amounts), 2))
    day = fields.Date.context_today(env["res.users"])
    return (
        env["collection.plan"]
        .with_user(user)
        .create(
            {
                "move_ids": [Command.set(moves.ids)],
                "installment_ids": [
                    Command.create(
                        {"date": day + timedelta(days=days), "amount": amount}
                    )
                    for (days, _share), amount in zip(
                        installments, amounts, strict=True
                    )
                ],
            }
        )
    )


# The daily action over the last ten days (history in the chatter), then today;
# salespeople log contacts along the way: a promise kept, a promise broken.
cron = env.ref("account_collections.ir_cron_collection_run")
# the customer statements follow the emails (Odoo's scheduler starts this job
# right after the run; here the demo runs it)
statements = env.ref("account_collections.ir_cron_collection_statements")
kept, broken, no_answer, reached = open_overdue[:4]
for back in range(10, 0, -1):
    with freeze_time(today - timedelta(days=back)):
        cron.method_direct_trigger()
        statements.method_direct_trigger()
        if back == 9:
            experiment.action_start()
            log_contact(
                no_answer, "call", "no_answer", "Nobody picked up; left a voicemail."
            )
        if back == 8:
            log_contact(
                broken,
                "call",
                "promise",
                "Promised a transfer on Friday.",
                promised_in=4,
            )
            log_contact(
                kept, "whatsapp", "promise", "Will pay in two parts.", promised_in=5
            )
        if back == 7:
            plan_invoice = open_overdue[5]
            plan = agree_plan(plan_invoice, [(5, 0.34), (19, 0.33), (33, 0.33)])
        if back == 6:
            pay(
                kept,
                amount=round(kept.amount_residual / 2, 2),
                pay_date=today - timedelta(days=6),
            )
        if back == 4:
            pay(kept, pay_date=today - timedelta(days=4))
        if back == 2:
            pay(
                plan_invoice,
                amount=plan.installment_ids[0].amount,
                pay_date=today - timedelta(days=2),
            )
            log_contact(
                reached, "visit", "reached", "Met the CFO: payment run next week."
            )
cron.method_direct_trigger()
statements.method_direct_trigger()
log_contact(
    open_overdue[4], "email", "promise", "Confirmed by email.", promised_in=7, share=0.5
)
env.cr.commit()
# The KPI history of the weeks the demo's invoices cover (the install queued
# it when there was nothing to measure yet), for the dashboard and the charts
# of the weekly report
if "collection.kpi.history" in env:
    weeks = env["collection.kpi.history"]._collection_backfill(
        env["res.company"].search([])
    )
    print(f"KPI history: {weeks} weeks")
    env.cr.commit()
weekly = env.ref(
    "account_collections.ir_cron_collection_weekly_report", raise_if_not_found=False
)
if weekly:
    weekly.method_direct_trigger()
env.cr.commit()
print(
    "Demo ready: {} customers, {} invoices, {} open collection activities".format(
        len(customers),
        len(invoices),
        env["mail.activity"].search_count([("collection_stage_id", "!=", False)]),
    )
)
promises = dict(env["collection.promise"]._read_group([], ["state"], ["__count"]))
print(f"Promises: {promises}")
segments = dict(
    env["res.partner"]._read_group(
        [("collection_segment_id", "!=", False)], ["collection_segment_id"], ["__count"]
    )
)
print(
    "Segments: {}; payment plans: {}; experiment '{}': {} customers".format(
        {segment.name: count for segment, count in segments.items()},
        env["collection.plan"].search_count([]),
        experiment.name,
        len(experiment.assignment_ids),
    )
)
print(
    "Users (login = password): admin, laura (team leader), carlos, diego, emily, marta (manager)"
)
