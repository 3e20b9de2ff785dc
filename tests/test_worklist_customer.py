import math

from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged

from .common import AGING_REPORT, DUE, day
from .common_rpc import RpcCommon

CUSTOMERS = "collection.worklist.customer"


@tagged("post_install", "-at_install")
class TestWorklistByCustomer(RpcCommon):
    def _rows(self, user=None):
        self.env[CUSTOMERS].invalidate_model()
        return self.env[CUSTOMERS].with_user(user or self.salesperson).search([])

    def _row(self, partner, user=None):
        return self._rows(user).filtered(lambda r: r.partner_id == partner)

    def test_one_row_per_customer_with_its_debt_and_score(self):
        acme = (
            self._post_invoice(DUE, amount=1000.0)
            | self._post_invoice(DUE, amount=2000.0)
            | self._post_invoice(day(-3), amount=500.0)
        )
        not_due = self._post_invoice(day(30), amount=700.0)
        globex = self._post_invoice(DUE, amount=100.0, partner=self.customer_2)
        self._run(day(1))
        with freeze_time(day(9)):
            rows = self._rows()
            self.assertEqual(len(rows), 2, "one row per customer, not per activity")
            self.assertEqual(
                len(
                    self.env["collection.worklist"]
                    .with_user(self.salesperson)
                    .search([])
                ),
                4,
            )
            top = rows[0]
            self.assertEqual(top.partner_id, self.customer, "the larger debt first")
            self.assertEqual(top.activity_count, 3)
            self.assertEqual(top.invoice_count, 4, "open invoices, due or not")
            self.assertEqual(top.amount_overdue, 3500.0)
            # the aging's balance as of today: the invoice dated next month is
            # not receivable yet
            self.assertEqual(top.amount_residual, 3500.0)
            self.assertEqual(top.days_overdue, 12, "its oldest overdue invoice")
            self.assertEqual(
                top.date_expected, day(9), "oldest due date, but never before today"
            )
            self.assertAlmostEqual(top.score_amount, round(10 * math.log10(3501), 1))
            self.assertEqual(top.score_days, 3.0)
            self.assertEqual(top.score_broken, 0.0)
            self.assertAlmostEqual(
                top.priority, top.score_amount + top.score_days, places=1
            )
            self.assertEqual(rows[1].partner_id, self.customer_2)
            self.assertEqual(rows[1].amount_overdue, 100.0)
            # the most advanced phase among the customer's invoices
            self.assertEqual(top.phase, "administrative")
            self.assertEqual((top.dispute_count, top.claim_count), (0, 0))
        self.assertTrue(acme and not_due and globex)

    def test_promise_contact_history_and_broken_promises(self):
        # Globex paid a past invoice 12 days late and broke a promise
        old = self._post_invoice(day(-40), amount=500.0, partner=self.customer_2)
        self._pay(old, pay_date=day(-28))
        globex = self._post_invoice(DUE, amount=1000.0, partner=self.customer_2)
        acme = self._post_invoice(DUE, amount=1000.0)
        self._run(day(1))
        self._promise(globex, day(3))
        self._run(day(4))
        self._log_contact(
            acme,
            on=day(5),
            outcome="promise",
            promised_date=day(9),
            promise_amount=600.0,
            channel="call",
        )
        with freeze_time(day(5)):
            globex_row = self._row(self.customer_2)
            self.assertEqual(globex_row.broken_count, 1)
            self.assertEqual(globex_row.score_broken, 10.0)
            self.assertEqual(globex_row.score_history, 4.0)
            self.assertEqual(globex_row.date_expected, day(12))
            self.assertFalse(globex_row.promise_amount, "the broken one is not open")
            self.assertEqual(
                globex_row.priority,
                round(
                    globex_row.score_amount
                    + globex_row.score_days
                    + globex_row.score_broken
                    + globex_row.score_history,
                    1,
                ),
            )
            # Acme: the call closed its activity, its promise is due on day 9
            acme_row = self._row(self.customer)
            self.assertEqual(
                (acme_row.promise_amount, acme_row.promise_date), (600.0, day(9))
            )
            self.assertEqual(acme_row.last_contact_outcome, "promise")
            self.assertEqual(acme_row.last_contact_date.date(), day(5))
            self.assertEqual(acme_row.activity_count, 0, "only the promise is due")

    def test_log_a_contact_covers_the_overdue_invoices(self):
        overdue = self._post_invoice(DUE, amount=300.0) | self._post_invoice(
            day(-3), amount=400.0
        )
        not_due = self._post_invoice(day(20), amount=900.0)
        self._run(day(1))
        with freeze_time(day(2)):
            row = self._row(self.customer)
            self.assertEqual(row.activity_count, 2)
            # the activities stay one click away
            action = row.action_open_activities()
            activities = (
                self.env["collection.worklist"]
                .with_user(self.salesperson)
                .search(action["domain"])
            )
            self.assertEqual(activities.move_id, overdue)
            action = row.action_log_contact()
            wizard = (
                self.env["collection.contact.wizard"]
                .with_user(self.salesperson)
                .with_context(**action["context"])
                .create({"channel": "call", "outcome": "reached"})
            )
            self.assertEqual(wizard.move_ids, overdue)
            self.assertNotIn(not_due, wizard.move_ids)
            wizard.action_log()
            # both activities done: the customer still owes, its row stays,
            # out of the default "Due Today or Earlier" filter
            row = self._row(self.customer)
            self.assertEqual(row.activity_count, 0, "both activities done")
            self.assertFalse(row.date_deadline)
            self.assertFalse(
                self._rows().filtered_domain(
                    [("date_deadline", "<=", day(2)), ("id", "=", row.id)]
                )
            )
        contact = self.env["collection.contact"].search([], order="id desc", limit=1)
        self.assertEqual(contact.move_ids, overdue)

    def test_salesperson_sees_only_own_customers(self):
        self._post_invoice(DUE)
        self._post_invoice(DUE, partner=self.customer_2, user=self.salesperson_2)
        self._run(day(1))
        with freeze_time(day(2)):
            rows = self._rpc(
                self.salesperson, CUSTOMERS, "search_read", [], ["partner_id"]
            )
            self.assertEqual([r["partner_id"][0] for r in rows], [self.customer.id])
            rows = self._rpc(
                self.salesperson_2, CUSTOMERS, "search_read", [], ["partner_id"]
            )
            self.assertEqual([r["partner_id"][0] for r in rows], [self.customer_2.id])
            sams_row = self._row(self.customer)
            with self.assertRaises(AccessError):
                self._rpc(
                    self.salesperson_2, CUSTOMERS, "read", sams_row.ids, ["partner_id"]
                )
            with self.assertRaises(AccessError):
                self._rpc(self.billing, CUSTOMERS, "search_read", [], ["partner_id"])
            rows = self._rpc(self.manager, CUSTOMERS, "search_read", [], ["partner_id"])
            self.assertEqual(len(rows), 2, "a manager sees the whole team")
            action = self._rpc(self.manager, CUSTOMERS, "action_open_worklist")
            self.assertEqual(action["res_model"], CUSTOMERS)
            self.assertEqual(action["context"].get("search_default_group_user"), 1)
            menu = self.env.ref("account_collections.collection_worklist_action_server")
            self.assertEqual(
                menu.model_id.model, CUSTOMERS, "My Collections by customer"
            )

    def test_customer_row_shows_its_phase_and_portal_answers(self):
        late = self._post_invoice(DUE, amount=1000.0)
        self._post_invoice(day(40), amount=300.0)
        self._run(day(30))
        self.assertEqual(late.collection_phase, "negotiation")
        with freeze_time(day(31)):
            self.env["collection.portal.answer"]._collection_submit_dispute(
                self.customer, self.customer, late, "wrong_amount", "Price is wrong", []
            )
            # the final notice went to the team leader: the row is theirs
            row = self._row(self.customer, user=self.leader)
            self.assertEqual(row.phase, "negotiation", "the most advanced phase")
            self.assertEqual(row.dispute_count, 1)
            self.assertEqual(row.claim_count, 0)
            # a salesperson of another customer sees neither the row nor its answers
            self.assertFalse(self._row(self.customer, user=self.salesperson_2))


@tagged("post_install", "-at_install")
class TestWorklistWhoseCustomer(RpcCommon):
    """My Collections is the receivable by customer under the customer's own
    salesperson: one row per customer and company whoever holds the
    activities, an escalation in its own column, and the aging's overdue."""

    def _rows(self, user, domain=()):
        self.env[CUSTOMERS].invalidate_model()
        return self.env[CUSTOMERS].with_user(user).search(list(domain))

    def _aging_overdue(self, **kwargs):
        result = self.env[AGING_REPORT]._collection_aging(
            self.company.ids, day(31), **kwargs
        )
        return round(sum(result["totals"][1:]), 2)

    def test_one_row_per_customer_under_its_salesperson(self):
        # Acme: a partly paid invoice, a credit note, a payment not matched
        # and a disputed (excluded) invoice, Sam's customer; Globex: Sally's
        self.customer.user_id = self.salesperson
        partly = self._post_invoice(DUE, amount=1000.0)
        self._pay(partly, amount=250.0, pay_date=day(1))
        self._post_invoice(day(-10), amount=2000.0)
        disputed = self._post_invoice(day(5), amount=400.0)
        self._post_invoice(day(40), amount=700.0)
        self._post_invoice(day(2), amount=150.0, move_type="out_refund")
        payment = self.env["account.payment"].create(
            {
                "amount": 80.0,
                "date": day(3),
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
            }
        )
        payment.action_post()
        globex = self._post_invoice(
            DUE, amount=300.0, partner=self.customer_2, user=self.salesperson_2
        )
        self._run(day(30))
        with freeze_time(day(31)):
            self.env["collection.portal.answer"]._collection_submit_dispute(
                self.customer, self.customer, disputed, "wrong_amount", "Wrong", []
            )
            holders = self.env["collection.worklist"].search(
                [("partner_id", "=", self.customer.id)]
            )
            self.assertIn(self.leader, holders.user_id, "an escalation is held")
            rows = self._rows(self.manager, [("partner_id", "=", self.customer.id)])
            self.assertEqual(len(rows), 1, "one row whoever holds the activities")
            self.assertEqual(rows.user_id, self.salesperson, "the customer's own")
            self.assertEqual(rows.escalated_user_id, self.leader)
            self.assertEqual(rows.activity_count, len(holders.activity_id))
            # the salesperson sees their customer though the leader holds the
            # escalation, the leader sees it as escalated to them, and another
            # salesperson does not
            self.assertEqual(self._rows(self.salesperson).partner_id, self.customer)
            self.assertIn(self.customer, self._rows(self.leader).partner_id)
            self.assertEqual(self._rows(self.salesperson_2).partner_id, self.customer_2)
            # the overdue total is the aging's, for the same filter
            for domain, aging in (
                ([], {}),
                (
                    [("partner_id", "=", self.customer.id)],
                    {"partner_ids": self.customer.ids},
                ),
                (
                    [("user_id", "=", self.salesperson.id)],
                    {"user_ids": self.salesperson.ids},
                ),
                (
                    [("user_id", "=", self.salesperson_2.id)],
                    {"user_ids": self.salesperson_2.ids},
                ),
            ):
                rows = self._rows(self.manager, domain)
                [group] = self.env[CUSTOMERS].read_group(
                    [("id", "in", rows.ids)], ["amount_overdue:sum"], []
                )
                self.assertAlmostEqual(
                    group["amount_overdue"], self._aging_overdue(**aging), 2, domain
                )
            acme = self._rows(self.manager, [("partner_id", "=", self.customer.id)])
            self.assertAlmostEqual(
                acme.amount_residual,
                self.env[AGING_REPORT]._collection_aging(
                    self.company.ids, day(31), partner_ids=self.customer.ids
                )["total"],
                2,
            )
        self.assertTrue(globex)
