from odoo.tests import tagged

from .common import day
from .common_promises import PromiseCommon


@tagged("post_install", "-at_install")
class TestLegalHandover(PromiseCommon):
    """A stage of phase legal hands the customer's case over: its overdue
    invoices are excluded, the legal responsible gets the case file and an
    activity, the customer is not written to."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.law_firm = cls.env["res.partner"].create(
            {"name": "Bufete Legal", "email": "cases@bufete.example"}
        )
        cls.lawyer = cls._create_collection_user("lawyer", "Lola Lawyer")
        # legal recipients are set on a policy of one company (see test_access_legal)
        cls.policy = cls.policy.copy(
            {
                "company_id": cls.company.id,
                "legal_partner_id": cls.law_firm.id,
                "legal_user_id": cls.lawyer.id,
            }
        )
        cls.company.collection_policy_id = cls.policy
        cls.stage_reminder, cls.stage_overdue, cls.stage_escalation, cls.stage_final = (
            cls.policy.stage_ids.sorted("day_offset")
        )
        cls.stage_legal = cls.env["collection.stage"].create(
            {
                "policy_id": cls.policy.id,
                "name": "Legal action",
                "day_offset": 60,
                "phase": "legal",
                "responsible": "manager",
                "activity_type_id": cls.stage_final.activity_type_id.id,
            }
        )
        cls.legal_type = cls.env.ref(
            "account_collections.mail_activity_type_collection_legal"
        )

    def test_legal_stage_hands_the_case_over_once(self):
        late = self._post_invoice(day(0), 1000.0)
        also_late = self._post_invoice(day(20), 400.0)
        not_due = self._post_invoice(day(90), 300.0)
        # another customer, 50 days late: not yet at the legal stage
        other_customer = self._post_invoice(day(10), 700.0, partner=self.customer_2)
        self._log_contact(late, on=day(2), note="Called: will pay next week")
        self._run(day(59))
        self.assertFalse((late | also_late).filtered("collection_excluded"))
        customer_mails = self.env["mail.message"].search_count(
            [("partner_ids", "in", self.customer.ids)]
        )

        self._run(day(60))
        self.assertEqual(late.collection_stage_id, self.stage_legal)
        self.assertEqual(late.collection_phase, "legal")
        # the customer's overdue invoices are excluded, reason legal; the others not
        self.assertEqual(
            (late | also_late).mapped("collection_exclusion_reason"), ["legal"] * 2
        )
        self.assertFalse(not_due.collection_excluded)
        self.assertFalse(other_customer.collection_excluded, "another customer")
        # the law firm receives the case file on the customer's chatter
        handover = self.customer.message_ids.filtered(
            lambda m: self.law_firm in m.partner_ids
        )
        self.assertEqual(len(handover), 1)
        self.assertIn("Collection case handed over", handover.body)
        names = handover.attachment_ids.mapped("name")
        self.assertIn("Case file - Acme Customer.pdf", names)
        self.assertIn("Statement - Acme Customer.pdf", names)
        for invoice in late | also_late:
            self.assertIn(
                f"{invoice.name.replace('/', '_')} - Acme Customer.pdf", names
            )
        # the legal responsible gets the handover activity
        activity = self.env["mail.activity"].search(
            [("activity_type_id", "=", self.legal_type.id)]
        )
        self.assertEqual(activity.user_id, self.lawyer)
        self.assertEqual(activity.res_id, late.id)
        # nothing to the customer (the legal stage has no email)
        self.assertEqual(
            self.env["mail.message"].search_count(
                [("partner_ids", "in", self.customer.ids)]
            ),
            customer_mails,
        )
        # the case file lists the contact
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                "account_collections.action_report_collection_case_file",
                self.customer.ids,
                data={
                    "company_id": self.company.id,
                    "move_ids": (late | also_late).ids,
                },
            )[0]
            .decode()
        )
        self.assertIn("Called: will pay next week", html)
        self.assertIn(late.name, html)

        # re-run: nothing is handed over twice
        self._run(day(61))
        self.assertEqual(
            len(
                self.customer.message_ids.filtered(
                    lambda m: self.law_firm in m.partner_ids
                )
            ),
            1,
        )
        self.assertEqual(
            self.env["mail.activity"].search_count(
                [("activity_type_id", "=", self.legal_type.id)]
            ),
            1,
        )

    def test_without_legal_responsible_the_manager_takes_the_case(self):
        self.policy.write({"legal_partner_id": False, "legal_user_id": False})
        late = self._post_invoice(day(0), 1000.0)
        self._run(day(60))
        self.assertTrue(late.collection_excluded)
        activity = self.env["mail.activity"].search(
            [("activity_type_id", "=", self.legal_type.id)]
        )
        self.assertEqual(activity.user_id, self.leader, "the salesperson's team leader")
