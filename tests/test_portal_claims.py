from datetime import timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, freeze_time, tagged

from .common_portal import PDF, PortalCommon
from .common_rpc import RpcCommon


@tagged("post_install", "-at_install")
class TestPortalPaymentClaims(PortalCommon, RpcCommon, HttpCase):
    """ "I already paid" pauses the customer's reminders once: one open claim
    at a time pauses, claims whose money was not found stop pausing, staff
    reject a claim (the customer is told, escalation resumes) and the
    customer's reliability counts it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.collection_manager_id = cls.manager

    def _claim(self, on=None, moves=None):
        """Say "I already paid" over HTTP with the link of a collection email,
        a dummy PDF as proof, on day ``on``."""
        on = on or self.today
        with freeze_time(on):
            response = self._answer(
                "paid",
                [
                    *(("move_ids", str(move.id)) for move in (moves or self.invoice_1)),
                    ("payment_date", str(on)),
                    ("amount", "1200"),
                    ("reference", f"TRF-{on}"),
                ],
                self._token(),
                files=[("proof", ("receipt.pdf", PDF, "application/pdf"))],
            )
        self.assertEqual(response.status_code, 303, self._error(response))
        return self.env["collection.payment.claim"].sudo().search([], limit=1)

    def _reject(self, claim, reason="No transfer with this reference reached us."):
        self._rpc(
            self.manager, claim._name, "write", claim.ids, {"reject_reason": reason}
        )
        self._rpc(
            self.manager,
            claim._name,
            "action_reject",
            claim.ids,
            context=self.ATTACKER_CONTEXT,
        )
        self.env.invalidate_all()

    def _customer_mails(self):
        return self.env["mail.mail"].search(
            [("recipient_ids", "in", self.customer.ids)]
        )

    def test_claims_each_time_the_pause_ends_do_not_stop_escalation(self):
        """The attack: a claim (and a dummy PDF) on the last day of each
        pause. The first pauses; the next ones, while it is open, do not."""
        self._run(self.today)
        self.assertEqual(self.invoice_1.collection_stage_id, self.stage_overdue)
        for offset in range(31):
            on = self.today + timedelta(days=offset)
            paused = self.invoice_1.collection_paused_until
            if not paused or paused <= on:
                self._claim(on)
            self._run(on)
        # 33 days overdue: the final notice, as without any claim
        self.assertEqual(self.invoice_1.collection_stage_id, self.stage_final)
        claims = self.env["collection.payment.claim"].sudo().search([])
        self.assertGreater(len(claims), 1)
        self.assertEqual(len(claims.filtered("paused_until")), 1, "one pause only")
        self.assertEqual(
            claims.filtered("paused_until"), claims.sorted("id")[0], "the first one"
        )

    def test_second_claim_while_one_is_open_does_not_pause(self):
        first = self._claim()
        until = self.today + timedelta(days=5)
        self.assertEqual(first.paused_until, until)
        second = self._claim(self.today + timedelta(days=5))
        self.assertFalse(second.paused_until)
        self.assertEqual(second.state, "open", "recorded: staff look for it too")
        self.assertTrue(second.activity_ids)
        self.assertEqual(self.invoice_1.collection_paused_until, until)
        message = self.invoice_1.message_ids.filtered(
            lambda m: "Payment reported on the portal" in m.body
        )[0]
        self.assertIn("not paused", message.body)
        # the first one found: the pause ends, the second one does not start one
        with freeze_time(self.today + timedelta(days=5)):
            first.with_user(self.manager).action_done()
        self.assertEqual(first.state, "done")
        self.assertFalse(self.invoice_1.collection_paused_until)

    def test_staff_reject_a_claim_and_escalation_resumes(self):
        claim = self._claim()
        self.assertEqual(
            self.invoice_1.collection_paused_until, self.today + timedelta(days=5)
        )
        # a reason is required; nobody else decides, nobody writes the rest
        with self._refused(UserError, "Say why"):
            self._rpc(self.manager, claim._name, "action_reject", claim.ids)
        with self._refused(AccessError):
            self._rpc(
                self.salesperson_2,
                claim._name,
                "write",
                claim.ids,
                {"reject_reason": "x"},
                context=self.ATTACKER_CONTEXT,
            )
        for vals in ({"state": "rejected"}, {"paused_until": False}):
            with self._refused(AccessError):
                self._rpc(
                    self.manager,
                    claim._name,
                    "write",
                    claim.ids,
                    vals,
                    context=self.ATTACKER_CONTEXT,
                )
        mails_before = self._customer_mails()
        self._reject(claim)
        self.assertEqual(claim.state, "rejected")
        self.assertEqual(claim.date_closed, self.today)
        self.assertFalse(claim.activity_ids)
        self.assertFalse(self.invoice_1.collection_paused_until)
        self.assertFalse(self.invoice_2.collection_paused_until)
        mail = self._customer_mails() - mails_before
        self.assertEqual(len(mail), 1)
        self.assertIn("No transfer with this reference", mail.body_html)
        self.assertTrue(
            self.invoice_1.message_ids.filtered(
                lambda m: "no payment was found" in (m.body or "")
            )
        )
        self._run(self.today)
        self.assertEqual(self.invoice_1.collection_stage_id, self.stage_overdue)
        with self._refused(UserError, "already"):
            self._rpc(self.manager, claim._name, "action_done", claim.ids)

    def test_claims_whose_money_was_not_found_stop_pausing(self):
        self._reject(self._claim())
        second = self._claim(self.today + timedelta(days=1))
        self.assertTrue(second.paused_until, "one rejected claim: still pauses")
        self._reject(second)
        third = self._claim(self.today + timedelta(days=2))
        self.assertFalse(third.paused_until, "two rejected claims: no more pause")
        self.assertFalse(self.invoice_1.collection_paused_until)
        # a year after, the customer's word counts again
        self._reject(third)
        fourth = self._claim(self.today + timedelta(days=370))
        self.assertTrue(fourth.paused_until)

    def test_reliability_counts_claims_whose_money_was_not_found(self):
        promise = self.env["collection.promise"].create(
            {
                "move_ids": self.invoice_2.ids,
                "promised_date": self.today,
                "amount": 800.0,
            }
        )
        promise.sudo().write({"state": "kept", "date_closed": self.today})
        self.customer.invalidate_recordset()
        self.assertEqual(self.customer.collection_reliability, 100)
        self._reject(self._claim())
        self._reject(self._claim(self.today + timedelta(days=1)))
        # found money does not count against the customer
        found = self._claim(self.today + timedelta(days=2))
        found.with_user(self.manager).action_done()
        self.customer.invalidate_recordset()
        self.assertEqual(self.customer.collection_claim_rejected_count, 2)
        self.assertEqual(round(self.customer.collection_reliability), 33)
        # the segments' criterion reads the same reliability
        self.env["collection.segment"]._collection_customer_figures(
            self.company, self.today
        )
        self.env.cr.execute(
            "SELECT reliability FROM collection_segment_figures WHERE partner_id = %s",
            [self.customer.id],
        )
        self.assertAlmostEqual(float(self.env.cr.fetchone()[0]), 100.0 / 3, places=2)
