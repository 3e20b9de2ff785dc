from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import freeze_time, tagged

from .common import DUE, day
from .common_rpc import RpcCommon


@tagged("post_install", "-at_install")
class TestPromiseControls(RpcCommon):
    """A salesperson cannot forge the outcome of a promise to pay, pause the
    escalation forever with one, move its date, nor take over a colleague's
    promise: what they send through RPC, whatever the context, is refused."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls._post_invoice(DUE, amount=1000.0)
        cls.spare = cls._post_invoice(DUE, amount=1000.0)

    def _create_promise(self, user, moves, context=None, **vals):
        promise_id = self._rpc(
            user,
            "collection.promise",
            "create",
            {"move_ids": [Command.set(moves.ids)], **vals},
            context=context,
        )
        return self.env["collection.promise"].browse(promise_id)

    # -------------------------------------------------------------------------
    # item 1: the outcome is judged by the daily run, not typed in
    # -------------------------------------------------------------------------

    def test_rpc_promise_outcome_cannot_be_forged(self):
        promise = self._promise(self.invoice, day(9), amount=500.0)
        sam = self.salesperson
        other = self._post_invoice(
            DUE, partner=self.customer_2, user=self.salesperson_2
        )
        with freeze_time(day(3)):
            for vals in (
                {"state": "kept"},
                {"state": "kept", "date_closed": day(3)},
                {"date_closed": day(3)},
                {"amount_paid": 500.0},
            ):
                with self.subTest(vals), self.assertRaises(AccessError):
                    self._rpc(
                        sam,
                        "collection.promise",
                        "write",
                        promise.ids,
                        vals,
                        context=self.ATTACKER_CONTEXT,
                    )
            self.assertEqual(promise.state, "open")
            # nor created kept, backdated, for 0.01 on another customer's invoice
            count = self.env["collection.promise"].search_count([])
            with self.assertRaises(AccessError):
                self._create_promise(
                    sam,
                    other,
                    context=self.ATTACKER_CONTEXT,
                    promised_date=day(1),
                    date=day(-30),
                    amount=0.01,
                    state="kept",
                    date_closed=day(2),
                )
            self.assertEqual(self.env["collection.promise"].search_count([]), count)
            # nor copied into a kept one
            with self.assertRaises(AccessError):
                self._rpc(
                    sam,
                    "collection.promise",
                    "copy",
                    promise.ids,
                    default={"state": "kept", "date_closed": "2026-03-19"},
                    context=self.ATTACKER_CONTEXT,
                )
            # nor through the context's default values: they are ignored
            forged = self._create_promise(
                sam,
                self.spare,
                context={
                    **self.ATTACKER_CONTEXT,
                    "default_state": "kept",
                    "default_date_closed": "2026-03-18",
                    "default_date": "2026-02-01",
                },
                promised_date=day(9),
                amount=500.0,
            )
        self.assertEqual(forged.state, "open")
        self.assertFalse(forged.date_closed)
        self.assertEqual(forged.date, day(3))
        self.assertEqual(self.customer.collection_promise_kept_count, 0)
        # judged for real: nothing was paid
        self._run(day(10))
        self.assertEqual((promise | forged).mapped("state"), ["broken", "broken"])
        self.assertEqual(self.customer.collection_reliability, 0)

    # -------------------------------------------------------------------------
    # item 3: a promise far away, or for next to nothing, needs a manager
    # -------------------------------------------------------------------------

    def test_rpc_far_or_small_promise_needs_a_collection_manager(self):
        sam = self.salesperson
        with freeze_time(day(2)):
            for label, vals in (
                ("in 2099", {"promised_date": date(2099, 1, 1), "amount": 1000.0}),
                ("31 days away", {"promised_date": day(33), "amount": 1000.0}),
                ("0.01", {"promised_date": day(9), "amount": 0.01}),
                ("under 10%", {"promised_date": day(9), "amount": 99.99}),
            ):
                with (
                    self.subTest(label),
                    self._refused(ValidationError, "only a collection manager"),
                ):
                    self._create_promise(
                        sam, self.invoice, context=self.ATTACKER_CONTEXT, **vals
                    )
            # nor through Log a Contact
            action = self._rpc(
                sam, "account.move", "action_collection_log_contact", self.invoice.ids
            )
            wizard_id = self._rpc(
                sam,
                "collection.contact.wizard",
                "create",
                {
                    "outcome": "promise",
                    "promised_date": "2099-01-01",
                    "promise_amount": 0.01,
                },
                context=action["context"],
            )
            with self._refused(ValidationError, "only a collection manager"):
                self._rpc(sam, "collection.contact.wizard", "action_log", [wizard_id])
            self.assertFalse(self.invoice.collection_promise_ids)
            # at the limits: 30 days, 10%
            promise = self._create_promise(
                sam, self.invoice, promised_date=day(32), amount=100.0
            )
            self._rpc(sam, "collection.promise", "action_cancel", promise.ids)
            # a collection manager records the long one
            promise = self._create_promise(
                self.manager, self.invoice, promised_date=date(2099, 1, 1), amount=10.0
            )
            self.assertEqual(promise.state, "open")
            self._rpc(self.manager, "collection.promise", "action_cancel", promise.ids)
            # the policy sets the limits, shown on its form
            self._rpc(
                self.manager,
                "collection.policy",
                "write",
                self.policy.ids,
                {"promise_max_days": 60, "promise_min_percent": 5.0},
            )
            promise = self._create_promise(
                sam, self.invoice, promised_date=day(47), amount=50.0
            )
            self.assertEqual(promise.state, "open")
        form = self.env["collection.policy"].get_views([(False, "form")])
        arch = form["views"]["form"]["arch"]
        self.assertIn('name="promise_max_days"', arch)
        self.assertIn('name="promise_min_percent"', arch)

    # -------------------------------------------------------------------------
    # item 4: the date of a promise, its invoices, its renegotiation
    # -------------------------------------------------------------------------

    def test_rpc_promise_date_is_the_day_it_was_made(self):
        promise = self._promise(self.invoice, day(9), amount=500.0, on=day(2))
        sam = self.salesperson
        with freeze_time(day(5)):
            with self.assertRaises(AccessError):
                self._rpc(
                    sam,
                    "collection.promise",
                    "write",
                    promise.ids,
                    {"date": "2026-03-01"},
                    context=self.ATTACKER_CONTEXT,
                )
            with self.assertRaises(AccessError):
                self._create_promise(
                    sam, self.spare, promised_date=day(9), amount=500.0, date=day(1)
                )
        self.assertEqual(promise.date, day(2))

    def test_promise_whose_invoices_are_gone_is_cancelled_not_kept(self):
        draft = self._post_invoice(DUE, amount=1000.0)
        gone = self._post_invoice(DUE, amount=1000.0)  # the last of its sequence
        kept_aside = self._promise(self.spare, day(9))
        on_deleted = self._promise(gone, day(9))
        on_draft = self._promise(draft, day(9))
        sam = self.salesperson
        with freeze_time(day(3)):
            self._rpc(sam, "account.move", "button_draft", (gone | draft).ids)
            self._rpc(sam, "account.move", "unlink", gone.ids)
        self.assertFalse(on_deleted.move_ids)
        self._run(day(4))
        # cancelled at once, without waiting for their date, and said so
        for promise in (on_deleted, on_draft):
            self.assertEqual(promise.state, "cancelled")
            self.assertTrue(
                promise.message_ids.filtered(
                    lambda m: "reset to draft or deleted" in (m.body or "")
                )
            )
        self.assertTrue(self._messages(draft, "reset to draft or deleted"))
        self.assertEqual(kept_aside.state, "open")
        self._run(day(10))
        self.assertEqual(on_deleted.state, "cancelled")
        self.assertEqual(self.customer.collection_promise_kept_count, 0)

    def test_rpc_changing_an_open_promise_is_a_renegotiation(self):
        self._run(day(1))
        promise = self._promise(self.invoice, day(9), amount=600.0)
        sam = self.salesperson
        with freeze_time(day(5)):
            for vals in (
                {"amount": 100.0},
                {"promised_date": "2026-04-05"},
                {"move_ids": [Command.link(self.spare.id)]},
            ):
                with (
                    self.subTest(vals),
                    self._refused(UserError, "renegotiate"),
                ):
                    self._rpc(
                        sam,
                        "collection.promise",
                        "write",
                        promise.ids,
                        vals,
                        context=self.ATTACKER_CONTEXT,
                    )
            action = self._rpc(
                sam, "collection.promise", "action_renegotiate", promise.ids
            )
            wizard_id = self._rpc(
                sam,
                "collection.contact.wizard",
                "create",
                {
                    "promised_date": "2026-04-05",
                    "promise_amount": 400.0,
                    "note": "Cash flow problems",
                },
                context={**action["context"], **self.ATTACKER_CONTEXT},
            )
            self._rpc(sam, "collection.contact.wizard", "action_log", [wizard_id])
        self.assertEqual(promise.state, "cancelled")
        self.assertEqual(promise.date_closed, day(5))
        self.assertEqual(promise.amount, 600.0, "the old terms are kept")
        new = self.invoice.collection_promise_ids - promise
        self.assertEqual(new.state, "open")
        self.assertEqual(new.amount, 400.0)
        self.assertEqual(new.promised_date, day(20))
        self.assertEqual(new.date, day(5))
        renegotiated = self._messages(self.invoice, "renegotiated by Sam Seller")
        self.assertIn("600.00", renegotiated.body)
        self.assertIn("400.00", self._messages(self.invoice, "Cash flow problems").body)
        self._run(day(12))
        self.assertEqual(self.invoice.collection_stage_id, self.stage_overdue, "paused")
        # a closed promise is not renegotiated
        with self.assertRaises(UserError):
            self._rpc(sam, "collection.promise", "action_renegotiate", promise.ids)

    # -------------------------------------------------------------------------
    # item 5: the rules rest on what the system sets
    # -------------------------------------------------------------------------

    def test_rpc_colleagues_promise_is_not_pulled_through_an_invoice(self):
        sam, sally = self.salesperson, self.salesperson_2
        sally_invoice = self._post_invoice(DUE, user=sally)
        sally_promise = self._promise(sally_invoice, day(9), user=sally)
        with self.assertRaises(AccessError):
            self._rpc(
                sam,
                "account.move",
                "write",
                self.invoice.ids,
                {"collection_promise_ids": [Command.link(sally_promise.id)]},
                context=self.ATTACKER_CONTEXT,
            )
        self.assertFalse(self.invoice.collection_promise_ids)
        # becoming the invoice's salesperson does not hand him her promise
        self._rpc(
            sam, "account.move", "write", sally_invoice.ids, {"invoice_user_id": sam.id}
        )
        with self.assertRaises(AccessError):
            self._rpc(sam, "collection.promise", "read", sally_promise.ids, ["note"])
        with self.assertRaises(AccessError):
            self._rpc(
                sam, "collection.promise", "write", sally_promise.ids, {"note": "mine"}
            )
        # who follows a promise: the invoice's salesperson, or a manager's choice
        promise = self._promise(self.invoice, day(9))
        self.assertEqual(promise.user_id, sam)
        with self.assertRaises(AccessError):
            self._rpc(
                sam, "collection.promise", "write", promise.ids, {"user_id": sally.id}
            )
        with freeze_time(day(2)), self.assertRaises(AccessError):
            self._create_promise(
                sam, self.spare, promised_date=day(9), amount=500.0, user_id=sally.id
            )
        self._rpc(
            self.manager,
            "collection.promise",
            "write",
            promise.ids,
            {"user_id": sally.id},
        )
        self.assertEqual(promise.user_id, sally)

    def test_rpc_contacts_are_linked_by_the_contact_and_written_by_their_author(self):
        sam, sally = self.salesperson, self.salesperson_2
        sally_invoice = self._post_invoice(DUE, user=sally)
        sally_contact = self._log_contact(sally_invoice, user=sally, note="Hers")
        with self.assertRaises(AccessError):
            self._rpc(
                sam,
                "account.move",
                "write",
                self.invoice.ids,
                {"collection_contact_ids": [Command.link(sally_contact.id)]},
                context=self.ATTACKER_CONTEXT,
            )
        with self.assertRaises(UserError):
            self._rpc(
                sally,
                "collection.contact",
                "write",
                sally_contact.ids,
                {"move_ids": [Command.link(self.invoice.id)]},
            )
        with self.assertRaises(AccessError):
            self._rpc(sam, "collection.contact", "read", sally_contact.ids, ["note"])
        # Sally covers for Sam: he reads what she logged on his invoice, but her
        # notes stay hers
        covered = self._log_contact(self.invoice, user=sally, note="Covered")
        read = self._rpc(sam, "collection.contact", "read", covered.ids, ["note"])
        self.assertEqual(read[0]["note"], "Covered")
        with self.assertRaises(AccessError):
            self._rpc(
                sam, "collection.contact", "write", covered.ids, {"note": "Rewritten"}
            )
        # the promise and open amount of a contact are recorded with it
        with self.assertRaises(AccessError):
            self._rpc(
                sally,
                "collection.contact",
                "write",
                covered.ids,
                {"amount_due": 1.0},
            )
        self.assertEqual(covered.note, "Covered")
