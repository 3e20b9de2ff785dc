from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged

from .common import DUE, day
from .common_promises import PromiseCommon


@tagged("post_install", "-at_install")
class TestCollectionExclusion(PromiseCommon):
    def _wizard(self, moves, mode, user=None, **vals):
        user = user or self.salesperson
        method = (
            moves.with_user(user).action_collection_exclude
            if mode == "exclude"
            else moves.with_user(user).action_collection_include
        )
        action = method()
        return (
            self.env[action["res_model"]]
            .with_user(user)
            .with_context(**action["context"])
            .create(vals)
        )

    def test_exclusion_stops_activities_and_closes_open_ones(self):
        invoice = self._post_invoice(DUE)
        followed = self._post_invoice(DUE)
        self._run(day(1))
        activity = self._collection_activities(invoice)
        promise = self._promise(invoice, day(20))
        with freeze_time(day(2)):
            wizard = self._wizard(
                invoice, "exclude", reason="legal", note="Sent to lawyers"
            )
            self.assertEqual(wizard.move_ids, invoice)
            wizard.action_exclude()
        self.assertTrue(invoice.collection_excluded)
        self.assertEqual(invoice.collection_exclusion_reason, "legal")
        self.assertFalse(activity.exists(), "open collection activity closed")
        logged = self._messages(invoice, "Excluded from collection by Sam Seller")
        self.assertEqual(len(logged), 1)
        self.assertIn("Legal Action", logged.body)
        self.assertIn("Sent to lawyers", logged.body)
        self.assertEqual(promise.state, "cancelled")

        self._run(day(8))
        self.assertFalse(self._collection_activities(invoice))
        self.assertEqual(invoice.collection_stage_id, self.stage_overdue)
        self.assertEqual(followed.collection_stage_id, self.stage_escalation)

        with freeze_time(day(9)):
            self._wizard(
                invoice, "include", note="Settled with lawyers"
            ).action_include()
        self.assertFalse(invoice.collection_excluded)
        self.assertFalse(invoice.collection_exclusion_reason)
        self.assertTrue(
            self._messages(invoice, "Included in collection again by Sam Seller")
        )
        self._run(day(9))
        self.assertEqual(invoice.collection_stage_id, self.stage_escalation)
        self.assertTrue(self._collection_activities(invoice))

    def test_exclusion_needs_a_reason(self):
        invoice = self._post_invoice(DUE)
        wizard = self._wizard(invoice, "exclude")
        with self.assertRaisesRegex(UserError, "reason"):
            wizard.action_exclude()
        self.assertFalse(invoice.collection_excluded)

    def test_only_customer_invoices(self):
        refund = self._post_invoice(DUE, move_type="out_refund")
        with self.assertRaises(UserError):
            refund.action_collection_exclude()

    def test_exclude_several_invoices_from_the_list(self):
        invoices = self._post_invoice(DUE) | self._post_invoice(DUE)
        server_action = self.env.ref(
            "account_collections.collection_exclusion_wizard_action_invoices"
        )
        action = (
            server_action.with_user(self.salesperson)
            .with_context(active_model="account.move", active_ids=invoices.ids)
            .run()
        )
        wizard = (
            self.env["collection.exclusion.wizard"]
            .with_user(self.salesperson)
            .with_context(**action["context"])
            .create({"reason": "agreement"})
        )
        self.assertEqual(wizard.move_ids, invoices)
        wizard.action_exclude()
        self.assertEqual(
            invoices.mapped("collection_exclusion_reason"), ["agreement"] * 2
        )
        self._run(day(1))
        self.assertFalse(self._collection_activities(invoices))
