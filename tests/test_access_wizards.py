from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged

from .common import day
from .common_rpc import RpcCommon

INSTALLMENT = "collection.contact.wizard.installment"


@tagged("post_install", "-at_install")
class TestContactWizardInstallments(RpcCommon):
    """issue 27, item 8: the installments of a plan typed in *Log a Contact* are
    their author's, in their allowed companies, like the wizard that holds them:
    a colleague neither reads nor changes them, nor slips one in."""

    def _open_plan_contact(self, user, move):
        """``user`` opens Log a Contact on ``move`` with outcome payment plan and
        types two installments, not logged yet (through RPC)."""
        action = self._rpc(
            user, "account.move", "action_collection_log_contact", move.ids
        )
        wizard_id = self._rpc(
            user,
            "collection.contact.wizard",
            "create",
            {
                "channel": "call",
                "outcome": "plan",
                "note": "Two installments agreed",
                "plan_installment_ids": [
                    Command.create({"date": str(day(10)), "amount": 450.0}),
                    Command.create({"date": str(day(20)), "amount": 450.0}),
                ],
            },
            context=action["context"],
        )
        return self.env["collection.contact.wizard"].sudo().browse(wizard_id)

    def test_rpc_colleague_cannot_read_or_change_log_a_contact_installments(self):
        move = self._post_invoice(day(0), 900.0, user=self.salesperson_2)
        self._run(day(1))
        with freeze_time(day(2)):
            wizard = self._open_plan_contact(self.salesperson_2, move)
            lines = wizard.plan_installment_ids
            self.assertEqual(len(lines), 2)
            sam = self.salesperson
            # neither listed nor read
            self.assertFalse(
                self._rpc(
                    sam,
                    INSTALLMENT,
                    "search_read",
                    [],
                    ["amount", "wizard_id"],
                    context=self.ATTACKER_CONTEXT,
                )
            )
            with self._refused(AccessError):
                self._rpc(sam, INSTALLMENT, "read", lines.ids, ["amount", "date"])
            # nor changed, deleted, or added to
            with self._refused(AccessError):
                self._rpc(
                    sam,
                    INSTALLMENT,
                    "write",
                    lines.ids,
                    {"amount": 1.0},
                    context=self.ATTACKER_CONTEXT,
                )
            with self._refused(AccessError):
                self._rpc(sam, INSTALLMENT, "unlink", lines[:1].ids)
            with self._refused(AccessError):
                self._rpc(
                    sam,
                    INSTALLMENT,
                    "create",
                    {"wizard_id": wizard.id, "date": str(day(30)), "amount": 1.0},
                    context=self.ATTACKER_CONTEXT,
                )
            self.assertEqual(wizard.plan_installment_ids, lines)
            self.assertEqual(lines.mapped("amount"), [450.0, 450.0])
            # the author, outside the wizard's company, does not see them either
            company_b = self.setup_other_company(name="Company B")["company"]
            self.salesperson_2.company_ids = [Command.link(company_b.id)]
            self.assertFalse(
                self._rpc(
                    self.salesperson_2,
                    INSTALLMENT,
                    "search",
                    [],
                    context={"allowed_company_ids": company_b.ids},
                )
            )
            # in it, they read and log their own plan as typed
            self.assertEqual(
                self._rpc(self.salesperson_2, INSTALLMENT, "search", []), lines.ids
            )
            self._rpc(
                self.salesperson_2,
                "collection.contact.wizard",
                "action_log",
                wizard.ids,
            )
        plan = self.env["collection.plan"].sudo().search([("move_ids", "in", move.ids)])
        self.assertEqual(plan.installment_ids.mapped("amount"), [450.0, 450.0])
        self.assertEqual(plan.user_id, self.salesperson_2)
