from contextlib import contextmanager

from odoo import Command
from odoo.api import call_kw
from odoo.service.model import get_public_method

from .common_promises import PromiseCommon


class RpcCommon(PromiseCommon):
    """Calls made the way the web client makes them (``/web/dataset/call_kw``):
    public methods only, in the user's own environment, with a context of the
    caller's choosing. Records a test sets up directly are set up by the
    superuser; what a user does goes through :meth:`_rpc`."""

    # what an attacker adds to the context: the keys that once guarded the
    # judging of promises, and the ones that switch the chatter's tracking off
    ATTACKER_CONTEXT = {
        "collection_promise_judging": True,
        "mail_notrack": True,
        "tracking_disable": True,
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing = cls._create_collection_user(
            "billing",
            "Bill Billing",
            groups=["base.group_user", "account.group_account_invoice"],
        )
        cls.portal = (
            cls.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "login": "acme_portal",
                    "name": "Acme Portal",
                    "partner_id": cls.env["res.partner"]
                    .create({"name": "Ann Acme", "parent_id": cls.customer.id})
                    .id,
                    "company_id": cls.company.id,
                    "company_ids": [Command.set(cls.company.ids)],
                    "groups_id": [Command.set([cls.env.ref("base.group_portal").id])],
                }
            )
        )

    def _rpc(self, user, model, method, *args, context=None, **kwargs):
        """``model.method(*args, **kwargs)`` called by ``user`` through RPC, with
        the web client's context of the user's company plus ``context``."""
        Model = self.env(user=user.id, su=False)[model]
        get_public_method(Model, method)
        call_context = {
            "lang": "en_US",
            "tz": "UTC",
            "uid": user.id,
            "allowed_company_ids": user.company_id.ids,
            **(context or {}),
        }
        result = call_kw(Model, method, list(args), {**kwargs, "context": call_context})
        self.env.flush_all()
        return result

    @contextmanager
    def _refused(self, exception, regex=""):
        """Expect ``exception`` (its message matching ``regex``), with what the call
        wrote rolled back, as a failed request would be."""
        with self.assertRaisesRegex(exception, regex), self.env.cr.savepoint():
            yield
        self.env.invalidate_all()
