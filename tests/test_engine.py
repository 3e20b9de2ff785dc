from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, tagged

from .common import DUE, CollectionCommon, day


@tagged("post_install", "-at_install")
class TestCollectionEngine(CollectionCommon):
    def test_stage_timeline(self):
        """T-6 nothing, T-5 reminder, same day nothing new, T+1 follow-up, T+7 leader."""
        invoice = self._post_invoice(DUE)

        self._run(day(-6))
        self.assertFalse(self._collection_activities(invoice))
        self.assertFalse(invoice.collection_stage_id)
        self.assertEqual(invoice.collection_next_stage_id, self.stage_reminder)
        self.assertEqual(invoice.collection_next_date, day(-5))

        self._run(day(-5))
        reminder = self._collection_activities(invoice)
        self.assertEqual(len(reminder), 1)
        self.assertEqual(reminder.user_id, self.salesperson)
        self.assertEqual(
            reminder.activity_type_id,
            self.env.ref("account_collections.mail_activity_type_collection_reminder"),
        )
        self.assertEqual(invoice.collection_stage_id, self.stage_reminder)
        # the stage note, under the customer email sent after the day's stages
        self.assertIn("Reminder before due date", invoice.message_ids[1].body)

        self._run(day(-5))
        self.assertEqual(self._collection_activities(invoice), reminder)

        self._run(day(1))
        follow_up = self._collection_activities(invoice)
        self.assertEqual(
            len(follow_up), 1, "the reminder is superseded by the follow-up"
        )
        self.assertEqual(follow_up.collection_stage_id, self.stage_overdue)
        self.assertEqual(follow_up.user_id, self.salesperson)
        self.assertEqual(self._days_overdue(invoice, day(1)), 1)

        self._run(day(7))
        activities = self._collection_activities(invoice)
        escalation = activities.filtered(
            lambda a: a.collection_stage_id == self.stage_escalation
        )
        self.assertEqual(escalation.user_id, self.leader)
        self.assertEqual(
            activities - escalation, follow_up, "the salesperson keeps the follow-up"
        )
        self.assertEqual(invoice.collection_stage_id, self.stage_escalation)
        self.assertEqual(self._days_overdue(invoice, day(7)), 7)

    def test_days_overdue_follow_the_calendar_between_runs(self):
        """Days overdue are those of the day they are read on, searchable, without
        the daily run rewriting every overdue invoice."""
        overdue = self._post_invoice(DUE)
        not_due = self._post_invoice(day(30))
        paid = self._post_invoice(DUE)
        self._pay(paid, pay_date=day(1))
        self.assertEqual(self._days_overdue(overdue, day(10)), 10)
        self.assertEqual(self._days_overdue(overdue, day(11)), 11, "no run needed")
        self.assertEqual(self._days_overdue(not_due, day(11)), 0)
        self.assertEqual(self._days_overdue(paid, day(11)), 0)
        moves = overdue | not_due | paid

        def found(operator, value):
            return self.env["account.move"].search(
                [("id", "in", moves.ids), ("collection_days_overdue", operator, value)]
            )

        with freeze_time(day(10)):
            self.assertEqual(found(">", 0), overdue)
            self.assertEqual(found(">", 9), overdue)
            self.assertEqual(found(">", 10), self.env["account.move"])
            self.assertEqual(found(">=", 10), overdue)
            self.assertEqual(found("<", 10), not_due | paid)
            self.assertEqual(found("<=", 10), moves)
            self.assertEqual(found("=", 10), overdue)
            self.assertEqual(found("=", 0), not_due | paid)
            self.assertEqual(found("!=", 0), overdue)
            self.assertEqual(found("=", False), not_due | paid)
            with self.assertRaises(UserError):
                found("=", "ten")
        with freeze_time(day(20)):
            self.assertEqual(
                found("=", 20), overdue, "one more day, one more day overdue"
            )

    def test_late_start_runs_only_latest_stage(self):
        invoice = self._post_invoice(DUE)
        self._run(day(20))
        activities = self._collection_activities(invoice)
        self.assertEqual(len(activities), 1)
        self.assertEqual(activities.collection_stage_id, self.stage_escalation)
        self.assertEqual(activities.user_id, self.leader)
        self._run(day(21))
        self.assertEqual(self._collection_activities(invoice), activities)
        self.assertEqual(invoice.collection_next_stage_id, self.stage_final)
        self.assertEqual(invoice.collection_next_date, day(30))

    def test_manager_fallback_company_manager(self):
        lonely = self._create_collection_user("lonely", "Lonely Seller")
        manager = self._create_collection_user("cfo", "Carla CFO")
        self.company.collection_manager_id = manager
        invoice = self._post_invoice(DUE, user=lonely)
        self._run(day(8))
        self.assertEqual(self._collection_activities(invoice).user_id, manager)

    def test_manager_fallback_salesperson_with_note(self):
        lonely = self._create_collection_user("lonely", "Lonely Seller")
        self.company.collection_manager_id = False
        invoice = self._post_invoice(DUE, user=lonely)
        self._run(day(8))
        self.assertEqual(self._collection_activities(invoice).user_id, lonely)
        self.assertIn(
            "No collection manager is configured", invoice.message_ids[0].body
        )

    def test_customer_salesperson_when_invoice_has_none(self):
        self.customer_2.user_id = self.salesperson_2
        invoice = self._post_invoice(
            DUE, partner=self.customer_2, user=self.env["res.users"]
        )
        self._run(day(1))
        self.assertEqual(
            self._collection_activities(invoice).user_id, self.salesperson_2
        )

    def test_archived_salesperson_falls_back_to_manager(self):
        leaving = self._create_collection_user("leaving", "Leaving Seller")
        manager = self._create_collection_user("cfo", "Carla CFO")
        self.company.collection_manager_id = manager
        invoice = self._post_invoice(DUE, user=leaving)
        leaving.active = False
        self._run(day(1))
        self.assertEqual(self._collection_activities(invoice).user_id, manager)
        self.assertIn("no active salesperson", invoice.message_ids[1].body)

    def test_payment_closes_activities_and_stops_new_ones(self):
        invoice = self._post_invoice(DUE)
        self._run(day(1))
        self.assertEqual(len(self._collection_activities(invoice)), 1)

        self._pay(invoice, pay_date=day(2))
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertFalse(
            self._collection_activities(invoice), "reconciling the payment closes it"
        )
        done = self._done_collection_messages(invoice)
        self.assertTrue(done)
        self.assertRegex(done[0].body, "The invoice is (paid|in payment)")

        self._run(day(8))
        self.assertFalse(self._collection_activities(invoice))
        self.assertEqual(invoice.collection_stage_id, self.stage_overdue)
        self.assertEqual(self._days_overdue(invoice, day(8)), 0)

    def test_partial_payment_keeps_invoice_in_collection(self):
        invoice = self._post_invoice(DUE, amount=1000.0)
        self._run(day(1))
        self._pay(invoice, amount=400.0, pay_date=day(2))
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(len(self._collection_activities(invoice)), 1)
        self._run(day(7))
        self.assertEqual(invoice.collection_stage_id, self.stage_escalation)
        self.assertEqual(len(self._collection_activities(invoice)), 2)

    def test_reversal_closes_activities(self):
        invoice = self._post_invoice(DUE)
        self._run(day(1))
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "date": day(2)})
        )
        reversal.refund_moves()
        credit_note = self.env["account.move"].search(
            [("reversed_entry_id", "=", invoice.id)]
        )
        credit_note.action_post()  # reconciles the credit note with the invoice
        self.assertEqual(invoice.payment_state, "reversed")
        self.assertFalse(self._collection_activities(invoice))
        self._run(day(8))
        self.assertFalse(self._collection_activities(invoice | credit_note))

    def test_excluded_invoice_gets_nothing(self):
        invoice = self._post_invoice(DUE)
        self._run(day(1))
        # written directly (not by the exclusion wizard): only the superuser can
        invoice.sudo().collection_excluded = True
        self._run(day(8))
        self.assertFalse(self._collection_activities(invoice), "open activity closed")
        self.assertEqual(invoice.collection_stage_id, self.stage_overdue)
        other = self._post_invoice(DUE)
        other.sudo().collection_excluded = True
        self._run(day(9))
        self.assertFalse(self._collection_activities(other))
        self.assertFalse(other.collection_stage_id)

    def test_credit_notes_and_vendor_bills_ignored(self):
        refund = self._post_invoice(DUE, move_type="out_refund")
        bill = self._post_invoice(DUE, move_type="in_invoice", partner=self.partner_a)
        self._run(day(10))
        self.assertFalse(self._collection_activities(refund | bill))
        self.assertFalse((refund | bill).collection_stage_id)

    def test_draft_invoice_ignored(self):
        draft = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_date": day(-30),
                "invoice_date_due": DUE,
                "invoice_line_ids": [Command.create({"name": "x", "price_unit": 10})],
            }
        )
        self._run(day(10))
        self.assertFalse(self._collection_activities(draft))

    def test_customer_policy_override(self):
        strict = self.env["collection.policy"].create(
            {
                "name": "Strict",
                "stage_ids": [
                    Command.create(
                        {
                            "name": "Day-of-due call",
                            "day_offset": 0,
                            "responsible": "manager",
                            "activity_type_id": self.env.ref(
                                "account_collections.mail_activity_type_collection_escalation"
                            ).id,
                        }
                    )
                ],
            }
        )
        self.customer_2.with_company(self.company).collection_policy_id = strict
        strict_invoice = self._post_invoice(DUE, partner=self.customer_2)
        normal_invoice = self._post_invoice(DUE)
        self.assertEqual(strict_invoice.collection_policy_id, strict)
        self._run(day(0))
        self.assertEqual(
            self._collection_activities(strict_invoice).user_id, self.leader
        )
        self.assertEqual(strict_invoice.collection_stage_id, strict.stage_ids)
        self.assertEqual(normal_invoice.collection_stage_id, self.stage_reminder)

    def test_follow_invoices_due_from(self):
        old = self._post_invoice(day(-60))
        recent = self._post_invoice(DUE)
        self.company.collection_start_date = day(-10)
        self._run(day(1))
        self.assertFalse(self._collection_activities(old))
        self.assertTrue(self._collection_activities(recent))

    def test_multi_company_policy_and_manager(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        policy_b = self.env["collection.policy"].create(
            {
                "name": "Company B policy",
                "company_id": company_b.id,
                "stage_ids": [
                    Command.create(
                        {
                            "name": "B escalation",
                            "day_offset": 3,
                            "responsible": "manager",
                            "activity_type_id": self.env.ref(
                                "account_collections.mail_activity_type_collection_escalation"
                            ).id,
                        }
                    )
                ],
            }
        )
        seller_b = self._create_collection_user(
            "seller_b", "Bea Seller", company=company_b
        )
        manager_b = self._create_collection_user(
            "manager_b", "Max Manager", company=company_b
        )
        company_b.write(
            {"collection_policy_id": policy_b.id, "collection_manager_id": manager_b.id}
        )
        invoice_a = self._post_invoice(DUE)
        invoice_b = self._post_invoice(DUE, user=seller_b, company=company_b)
        self._run(day(3))
        self.assertEqual(invoice_a.collection_stage_id, self.stage_overdue)
        self.assertEqual(invoice_b.collection_stage_id, policy_b.stage_ids)
        self.assertEqual(self._collection_activities(invoice_b).user_id, manager_b)

    def test_salesperson_cannot_read_other_company_policy(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        policy_b = self.env["collection.policy"].create(
            {
                "name": "Company B policy",
                "company_id": company_b.id,
                "stage_ids": [
                    Command.create(
                        {
                            "name": "B call",
                            "day_offset": 1,
                            "activity_type_id": self.env.ref(
                                "account_collections.mail_activity_type_collection_overdue"
                            ).id,
                        }
                    )
                ],
            }
        )
        policies = self.env["collection.policy"].with_user(self.salesperson)
        self.assertIn(self.policy, policies.search([]))
        self.assertNotIn(policy_b, policies.search([]))
        with self.assertRaises(AccessError):
            policies.browse(policy_b.id).read(["name"])
        with self.assertRaises(AccessError):
            policies.browse(self.policy.id).write({"name": "Hacked"})

    def test_one_digest_per_user_per_run(self):
        invoices = self.env["account.move"]
        for _i in range(5):
            invoices |= self._post_invoice(DUE)
        other = self._post_invoice(DUE, user=self.salesperson_2)
        mails_before = self.env["mail.mail"].search([])
        self._run(day(1))
        new_mails = self.env["mail.mail"].search([]) - mails_before
        to_sam = new_mails.filtered(
            lambda m: self.salesperson.partner_id in m.recipient_ids
        )
        to_sally = new_mails.filtered(
            lambda m: self.salesperson_2.partner_id in m.recipient_ids
        )
        self.assertEqual(len(to_sam), 1, "one digest, no per-activity assignment email")
        self.assertEqual(len(to_sally), 1)
        self.assertIn("5 new activities", to_sam.subject)
        for invoice in invoices:
            self.assertIn(invoice.name, to_sam.body_html)
            self.assertIn(f"res_id={invoice.id}", to_sam.body_html)
        self.assertIn(other.name, to_sally.body_html)
        self.assertEqual(len(self._collection_activities(invoices)), 5)
        self.assertTrue(
            all(
                invoice.message_ids.filtered(
                    lambda m: "Overdue follow-up" in (m.body or "")
                )
                for invoice in invoices
            ),
            "the chatter still shows each stage",
        )
        # the same run again: nothing new, no new digest
        mails_before = self.env["mail.mail"].search([])
        self._run(day(1))
        self.assertFalse(self.env["mail.mail"].search([]) - mails_before)

    def test_digest_lists_the_first_activities_and_counts_them_all(self):
        invoices = self.env["account.move"]
        for _i in range(3):
            invoices |= self._post_invoice(DUE)
        # a first batch of two (the digest waits for the end of the run), then the
        # digest with a limit of one activity listed
        self._run(day(2), batch_size=2)
        first, second, _third = invoices.sorted("id")
        mails_before = self.env["mail.mail"].search([])
        self.env["collection.mailing"]._collection_send_digests(limit=1)
        digest = self.env["mail.mail"].search([]) - mails_before
        self.assertEqual(len(digest), 1)
        self.assertIn("2 new activities", digest.subject)
        self.assertIn(f"res_id={first.id}", digest.body_html, "the first one")
        self.assertNotIn(f"res_id={second.id}", digest.body_html)
        self.assertIn("and 1 more in Odoo", digest.body_html)
        activities = self._collection_activities(first | second)
        self.assertEqual(len(activities), 2)
        self.assertTrue(all(activities.mapped("collection_notified")))
        mails_before = self.env["mail.mail"].search([])
        self.env["collection.mailing"]._collection_send_digests(limit=1)
        self.assertFalse(self.env["mail.mail"].search([]) - mails_before)

    def test_batches_report_progress_and_process_each_invoice_once(self):
        invoices = self.env["account.move"]
        for _i in range(5):
            invoices |= self._post_invoice(DUE)
        self.assertEqual(self._run(day(1), batch_size=2), 2)
        self.assertEqual(len(self._collection_activities(invoices)), 2)
        self.assertEqual(self._run(day(1), batch_size=2), 2)
        self.assertEqual(self._run(day(1), batch_size=2), 1)
        self.assertEqual(self._run(day(1), batch_size=2), 0)
        activities = self._collection_activities(invoices)
        self.assertEqual(len(activities), 5)
        self.assertEqual(sorted(activities.mapped("res_id")), sorted(invoices.ids))

    def test_stage_email_to_customer(self):
        self._stage_template(
            "Overdue notice", "Overdue: {{ object.name }}", self.stage_overdue
        )
        invoice = self._post_invoice(DUE)
        self._run(day(1))
        sent = invoice.message_ids.filtered(
            lambda m: m.subject == f"Overdue: {invoice.name}"
        )
        self.assertEqual(len(sent), 1)
        self.assertIn(self.customer, sent.partner_ids)

    def test_broken_customer_data_does_not_stop_the_run(self):
        """A template that cannot render for one customer: the stage is executed,
        the email is logged and retried the next day, the others are sent."""
        self._stage_template(
            "Fragile notice",
            "Notice {{ object.partner_id.ref.upper() }}",
            self.stage_overdue,
        )
        self.customer.ref = "ACME"
        good = self._post_invoice(DUE)
        bad = self._post_invoice(DUE, partner=self.customer_2)  # no ref: cannot render

        def emails(move):
            return move.message_ids.filtered(lambda m: m.message_type == "comment")

        # the daily run logs from its service models and their shared helpers
        with self.assertLogs("odoo.addons.account_collections.models", "WARNING"):
            self._run(day(1))
        self.assertEqual((good | bad).collection_stage_id, self.stage_overdue)
        self.assertEqual(len(self._collection_activities(good | bad)), 2)
        self.assertEqual(len(emails(good)), 1)
        self.assertFalse(emails(bad))
        self.assertEqual(bad.collection_mail_held, "error")
        self.assertIn("could not be sent", bad.message_ids[0].body)
        # same day: not retried (the run would loop on it); next day, once fixed: sent
        self._run(day(1))
        self.assertFalse(emails(bad))
        self.customer_2.ref = "GLOBEX"
        self._run(day(2))
        self.assertEqual(len(emails(bad)), 1)
        self.assertFalse(bad.collection_mail_held)
        self.assertEqual(len(self._collection_activities(good | bad)), 2)
