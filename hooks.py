from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG


def post_init_hook(env):
    """Give every existing company the shipped default policy, and queue the
    KPI history of the last 52 weeks (computed in the background: on a large
    ledger it takes seconds per week)."""
    policy = env.ref(
        "account_collections.collection_policy_default", raise_if_not_found=False
    )
    if policy:
        env["res.company"].search([("collection_policy_id", "=", False)]).write(
            {"collection_policy_id": policy.id}
        )
    env["collection.kpi.history"]._collection_queue_backfill()


def uninstall_hook(env):
    """Remove what would keep the addon's activity types from being removed with
    it: the activities it created or of its types, and the stages of the policies.
    Invoices, payments and the activities of other apps are left untouched."""
    type_ids = (
        env["ir.model.data"]
        .search(
            [
                ("module", "=", "account_collections"),
                ("model", "=", "mail.activity.type"),
            ]
        )
        .mapped("res_id")
    )
    env["mail.activity"].with_context(active_test=False).search(
        [
            "|",
            "|",
            ("activity_type_id", "in", type_ids),
            ("collection_stage_id", "!=", False),
            ("collection_promise_id", "!=", False),
        ]
    ).unlink()
    # uninstalling: the policies in use go too
    env["collection.policy"].with_context(
        active_test=False, **{MODULE_UNINSTALL_FLAG: True}
    ).search([]).unlink()
