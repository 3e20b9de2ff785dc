"""18.0.1.12.0: a segment's customer domain is evaluated with the rights of its
author (who last wrote it) in the segment's company; the segments already
stored get as author their last writer, else their creator. A policy shared by
all the companies no longer carries legal recipients: those set on one are
removed (the daily run ignores them already), and the policy's chatter says
so."""

from markupsafe import Markup

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE collection_segment
           SET domain_user_id = COALESCE(write_uid, create_uid)
         WHERE domain_user_id IS NULL
        """
    )
    env = api.Environment(cr, SUPERUSER_ID, {})
    policies = (
        env["collection.policy"]
        .with_context(active_test=False)
        .search(
            [
                ("company_id", "=", False),
                "|",
                ("legal_user_id", "!=", False),
                ("legal_partner_id", "!=", False),
            ]
        )
    )
    for policy in policies:
        names = (policy.legal_partner_id | policy.legal_user_id.partner_id).mapped(
            "display_name"
        )
        policy.write({"legal_user_id": False, "legal_partner_id": False})
        policy._message_log(
            body=Markup("<p>%s</p>")
            % env._(
                "This policy is shared by all the companies: its legal recipients "
                "(%(names)s) were removed, as they would receive every company's "
                "cases. Set them on a policy of one company.",
                names=", ".join(names),
            )
        )
