from datetime import timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged

from .common_portal import PDF, PortalCommon


@tagged("post_install", "-at_install")
class TestPortalAnswers(PortalCommon, HttpCase):
    """What each answer writes, and how the collection process follows it."""

    def _customer_mails(self):
        return self.env["mail.mail"].search(
            [("recipient_ids", "in", (self.customer | self.portal_contact).ids)]
        )

    def test_portal_user_promises_two_invoices(self):
        self.authenticate("paula", "paula")
        moves = self.invoice_1 | self.invoice_2
        response = self._answer("promise", self._promise_data(moves, amount=1500.0))
        self.assertEqual(response.status_code, 303, self._error(response))
        self.assertIn("answered=promise", response.headers["Location"])
        promise = self.env["collection.promise"].search(
            [("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(promise.source, "portal")
        self.assertEqual(promise.move_ids, moves)
        self.assertEqual(promise.amount, 1500.0)
        self.assertEqual(promise.promised_date, self.today + timedelta(days=7))
        self.assertEqual(promise.user_id, self.salesperson)
        # in the chatter with the customer as author, an activity, an email
        message = self.invoice_1.message_ids.filtered(
            lambda m: "Promise to pay made on the portal" in m.body
        )
        self.assertEqual(message.author_id, self.portal_contact)
        activity = self.env["mail.activity"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", self.invoice_1.id)]
        )
        self.assertEqual(activity.user_id, self.salesperson)
        self.assertIn("Promise on the portal", activity.summary)
        mail = self._customer_mails()
        self.assertEqual(mail.recipient_ids, self.portal_contact)
        self.assertIn("we received your answer", mail.body_html)
        # the page shows it; the daily run leaves the promised invoices alone
        page = self._page().text
        self.assertIn("Your promises to pay", page)
        self._run(self.today)
        self.assertFalse(self.invoice_1.collection_stage_id)

    def test_dispute_with_attachment_pauses_the_invoice(self):
        token = self._token()
        response = self._answer(
            "dispute",
            self._dispute_data(self.invoice_1, reason="not_received"),
            token,
            files=[("attachments", ("delivery.pdf", PDF, "application/pdf"))],
        )
        self.assertEqual(response.status_code, 303, self._error(response))
        dispute = self.env["collection.dispute"].search([])
        self.assertEqual(dispute.move_id, self.invoice_1)
        self.assertEqual(dispute.reason, "not_received")
        self.assertEqual(dispute.author_id, self.customer)
        self.assertEqual(dispute.attachment_ids.mimetype, "application/pdf")
        self.assertEqual(dispute.paused_until, self.today + timedelta(days=14))
        self.assertEqual(
            self.invoice_1.collection_paused_until, self.today + timedelta(days=14)
        )
        message = self.invoice_1.message_ids.filtered(
            lambda m: "Invoice disputed on the portal" in m.body
        )
        self.assertEqual(message.author_id, self.customer)
        self.assertEqual(message.attachment_ids, dispute.attachment_ids)
        self.assertEqual(dispute.activity_ids.user_id, self.salesperson)
        # escalation pauses; the other invoice goes on
        self._run(self.today)
        self.assertFalse(self.invoice_1.collection_stage_id)
        self._run(self.today + timedelta(days=15))
        self.assertTrue(self.invoice_1.collection_stage_id)

    def _dispute(self):
        self._answer("dispute", self._dispute_data(self.invoice_1), self._token())
        return self.env["collection.dispute"].search([]).with_user(self.salesperson)

    def test_salesperson_accepts_a_dispute(self):
        dispute = self._dispute()
        dispute.action_accept()
        self.assertEqual(dispute.state, "accepted")
        self.assertTrue(self.invoice_1.collection_excluded)
        self.assertEqual(self.invoice_1.collection_exclusion_reason, "dispute")
        self.assertFalse(self.invoice_1.collection_paused_until)
        self.assertFalse(dispute.activity_ids)
        with self.assertRaisesRegex(UserError, "already decided"):
            dispute.action_reject()

    def test_salesperson_rejects_a_dispute_and_the_customer_is_told(self):
        dispute = self._dispute()
        with self.assertRaisesRegex(UserError, "Say why"):
            dispute.action_reject()
        dispute.reject_reason = "The delivery note is signed by your warehouse."
        mails_before = self._customer_mails()
        dispute.action_reject()
        self.assertEqual(dispute.state, "rejected")
        self.assertFalse(self.invoice_1.collection_excluded)
        self.assertFalse(self.invoice_1.collection_paused_until)
        mail = self._customer_mails() - mails_before
        self.assertIn("signed by your warehouse", mail.body_html)
        self._run(self.today)
        self.assertEqual(self.invoice_1.collection_stage_id, self.stage_overdue)

    def test_already_paid_pauses_the_customers_reminders(self):
        manager = self._create_collection_user(
            "cmanager",
            "Carla Manager",
            groups=["base.group_user", "account_collections.group_collection_manager"],
        )
        self.company.collection_manager_id = manager
        response = self._answer(
            "paid",
            [
                ("move_ids", str(self.invoice_1.id)),
                ("payment_date", str(self.today - timedelta(days=1))),
                ("amount", "1200"),
                ("reference", "TRF-778"),
            ],
            self._token(),
            files=[
                (
                    "proof",
                    ("receipt.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png"),
                )
            ],
        )
        self.assertEqual(response.status_code, 303, self._error(response))
        claim = self.env["collection.payment.claim"].search([])
        self.assertEqual(claim.reference, "TRF-778")
        self.assertEqual(claim.user_id, manager)
        self.assertEqual(claim.activity_ids.user_id, manager)
        self.assertEqual(claim.attachment_ids.mimetype, "image/png")
        until = self.today + timedelta(days=5)
        self.assertEqual(claim.move_ids, self.invoice_1 | self.invoice_2)
        self.assertEqual(self.invoice_1.collection_paused_until, until)
        self.assertEqual(self.invoice_2.collection_paused_until, until)
        self._run(self.today)
        self.assertFalse(self.invoice_1.collection_stage_id)
        # a proof is required
        response = self._answer(
            "paid",
            [
                ("move_ids", str(self.invoice_2.id)),
                ("payment_date", str(self.today)),
                ("amount", "800"),
                ("reference", "TRF-779"),
            ],
            self._token(),
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("Attach the proof of payment", response.text)
        claim.with_user(manager).action_done()
        self.assertFalse(self.invoice_1.collection_paused_until)

    def test_weekly_report_counts_the_portal_answers(self):
        self.authenticate("paula", "paula")
        self._answer("promise", self._promise_data(self.invoice_2, amount=800.0))
        self._answer("dispute", self._dispute_data(self.invoice_1))
        self._answer(
            "dispute",
            [
                ("move_id", str(self.invoice_other.id)),
                ("reason", "other"),
                ("message", "x"),
            ],
            self._token(self.customer_2),
        )
        disputes = self.env["collection.dispute"].search([], order="id")
        self.assertEqual(len(disputes), 2)
        disputes[0].with_user(self.salesperson).action_accept()
        disputes[1].reject_reason = "Delivered and signed."
        disputes[1].with_user(self.salesperson).action_reject()
        # an internal promise is not a portal one
        self.env["collection.promise"].create(
            {
                "move_ids": self.invoice_other.ids,
                "promised_date": self.today + timedelta(days=3),
                "amount": 500.0,
            }
        )
        kpis = self.env["collection.portfolio.report"]._collection_kpis(
            self.company.ids, self.today
        )
        self.assertEqual(kpis["promises_made"], 2)
        self.assertEqual(kpis["portal_promises"], 1)
        self.assertEqual(kpis["disputes_opened"], 2)
        self.assertEqual(kpis["disputes_accepted"], 1)
        self.assertEqual(kpis["disputes_rejected"], 1)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                "account_collections.action_report_portfolio_status",
                self.company.ids,
                data={"date_to": str(self.today)},
            )[0]
            .decode()
        )
        self.assertIn("Disputes opened in the period, by reason", html)
        self.assertRegex(html, r"Wrong amount</td>\s*<td[^>]*>1</td>\s*<td[^>]*>1<")
        self.assertRegex(html, r"Other</td>\s*<td[^>]*>1</td>\s*<td[^>]*>0</td>")


@tagged("post_install", "-at_install")
class TestPortalAnswersAccess(PortalCommon, HttpCase):
    """Disputes and payment claims: a salesperson reads their own customers'
    only; nobody writes the customer's answer."""

    def test_salesperson_cannot_read_another_salespersons_disputes(self):
        self._answer("dispute", self._dispute_data(self.invoice_1), self._token())
        dispute = self.env["collection.dispute"].search([])
        self.assertEqual(dispute.user_id, self.salesperson)
        Dispute = self.env["collection.dispute"].with_user(self.salesperson_2)
        self.assertFalse(Dispute.search([]))
        with self.assertRaises(AccessError):
            dispute.with_user(self.salesperson_2).read(["message"])
        with self.assertRaises(AccessError):
            dispute.with_user(self.salesperson_2).action_accept()
        self.assertEqual(
            self.env["collection.dispute"].with_user(self.salesperson).search([]),
            dispute,
        )
        # portal users have no access at all
        with self.assertRaises(AccessError):
            dispute.with_user(self.portal_user).read(["message"])

    def test_nobody_writes_the_customers_answer(self):
        self._answer("dispute", self._dispute_data(self.invoice_1), self._token())
        dispute = self.env["collection.dispute"].search([]).with_user(self.salesperson)
        for vals in (
            {"state": "accepted"},
            {"reason": "other"},
            {"paused_until": False},
        ):
            with self.assertRaises(AccessError):
                dispute.write(vals)
        with self.assertRaises(AccessError):
            self.env["collection.dispute"].with_user(self.salesperson).create(
                {"move_id": self.invoice_1.id, "reason": "other"}
            )
        with self.assertRaises(AccessError):
            self.invoice_1.with_user(self.salesperson).write(
                {"collection_paused_until": self.today + timedelta(days=90)}
            )
        with self.assertRaises(AccessError):
            self.env["collection.promise"].with_user(self.salesperson).create(
                {
                    "move_ids": self.invoice_1.ids,
                    "promised_date": self.today,
                    "amount": 100.0,
                    "source": "portal",
                }
            )
