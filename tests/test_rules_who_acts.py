"""Who acts: one assignee rule (collection.receivable._collection_assignee)
with an explicit order per event, never an archived, inactive or portal user,
and one person who takes over every event of a salesperson who left."""

from odoo.tests import freeze_time, tagged

from odoo.addons.account_collections.models.collection_receivable import (
    COLLECTION_ASSIGNEE_ORDER,
)

from .common import DUE, day
from .common_promises import PromiseCommon

MANAGER_GROUP = "account_collections.group_collection_manager"


@tagged("post_install", "-at_install")
class TestWhoActs(PromiseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.collection_manager_id = cls.manager
        cls.rules = cls.env["collection.receivable"]
        cls.customer.user_id = cls.salesperson

    def _assignee(self, event, move, holder=None):
        return self.rules._collection_assignee(event, move=move, holder=holder)[0]

    def test_every_event_has_an_order(self):
        for event, order in COLLECTION_ASSIGNEE_ORDER.items():
            self.assertTrue(order, event)
            self.assertTrue(
                {"first_manager"} <= set(order),
                f"{event}: the company's first collection manager is the last "
                "resort, never nobody",
            )

    def test_active_salesperson_acts_on_their_events(self):
        invoice = self._post_invoice(DUE)
        for event in (
            "stage",
            "promise",
            "plan",
            "dispute",
            "promise_broken",
            "plan_broken",
            "missing_email",
            "daily_limit",
        ):
            self.assertEqual(self._assignee(event, invoice), self.salesperson, event)
        # an escalation and the legal handover go to the team leader, the
        # payments to find to the company's collection manager
        self.assertEqual(self._assignee("stage_manager", invoice), self.leader)
        self.assertEqual(self._assignee("legal", invoice), self.leader)
        self.assertEqual(self._assignee("payment_claim", invoice), self.manager)
        self.assertEqual(self._assignee("unmatched_money", invoice), self.manager)

    def test_one_person_takes_over_from_an_archived_salesperson(self):
        invoice = self._post_invoice(DUE)
        self.salesperson.action_archive()
        for event in (
            "stage",
            "promise",
            "plan",
            "dispute",
            "promise_broken",
            "plan_broken",
            "missing_email",
            "daily_limit",
            "stage_manager",
            "legal",
        ):
            self.assertEqual(
                self._assignee(event, invoice, holder=self.salesperson),
                self.leader,
                f"{event}: the archived salesperson's team leader takes over",
            )
        # the leader left too: the company's collection manager, for all
        self.leader.action_archive()
        for event in COLLECTION_ASSIGNEE_ORDER:
            self.assertEqual(self._assignee(event, invoice), self.manager, event)
        # and without one, the company's first active collection manager
        self.company.collection_manager_id = False
        self.manager.action_archive()
        first = (
            self.env.ref(MANAGER_GROUP)
            .users.filtered(
                lambda u: u.active and not u.share and self.company in u.company_ids
            )
            .sorted("id")[:1]
        )
        self.assertTrue(first)
        for event in COLLECTION_ASSIGNEE_ORDER:
            user = self._assignee(event, invoice)
            self.assertEqual(user, first, event)

    def test_never_a_portal_user_or_one_of_another_company(self):
        invoice = self._post_invoice(DUE)
        portal = (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "login": "who_portal",
                    "name": "Portal Pete",
                    "groups_id": [(6, 0, [self.env.ref("base.group_portal").id])],
                }
            )
        )
        self.assertEqual(
            self._assignee("promise_broken", invoice, holder=portal), self.salesperson
        )
        other = self.setup_other_company()["company"]
        self.salesperson.write({"company_id": other.id, "company_ids": other.ids})
        self.assertEqual(self._assignee("stage", invoice), self.leader)

    def test_archived_salesperson_events_reach_the_leader(self):
        """The daily run's stage activity, a portal promise, a dispute, the
        daily-limit to-do, a missing email and a broken promise: every event
        that was the archived salesperson's goes to their team leader."""
        invoice = self._post_invoice(DUE, amount=1000.0)
        other = self._post_invoice(DUE, amount=500.0)
        promised = self._post_invoice(DUE, amount=300.0)
        promise = self._promise(promised, day(5))
        self.salesperson.action_archive()
        self._run(day(1))
        self.assertEqual(self._collection_activities(invoice).user_id, self.leader)
        Answer = self.env["collection.portal.answer"]
        with freeze_time(day(2)):
            Answer._collection_submit_promise(
                self.customer, self.customer, invoice, str(day(9)), "1000"
            )
            dispute = Answer._collection_submit_dispute(
                self.customer, self.customer, other, "wrong_amount", "Wrong", []
            )
            self.env["collection.portal"]._collection_report_rate_limit(
                self.customer, self.company
            )
        activities = self.env["mail.activity"].search(
            [("user_id", "!=", False), ("date_done", "=", False)]
        )
        answer = activities.filtered(
            lambda a: (
                a.activity_type_id
                == self.env.ref(
                    "account_collections.mail_activity_type_collection_portal_answer"
                )
            )
        )
        self.assertEqual(answer.user_id, self.leader, "the portal promise")
        self.assertEqual(dispute.user_id, self.leader)
        self.assertEqual(dispute.activity_ids.user_id, self.leader)
        limit = self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", self.customer.id),
                ("summary", "=", "Too many answers on the portal today"),
            ]
        )
        self.assertEqual(limit.user_id, self.leader, "the daily-limit to-do")
        self._run(day(6))
        self.assertEqual(promise.state, "broken")
        self.assertEqual(self._broken_activities(promised).user_id, self.leader)
        for user in self.env["mail.activity"].search([]).user_id:
            self.assertTrue(user.active and not user.share, user.name)
