from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import day
from .common_rpc import RpcCommon


@tagged("post_install", "-at_install")
class TestAccessLegal(RpcCommon):
    """The legal handover sends a company's data only to the recipients set for
    that company, by a manager of that company: a policy shared by all the
    companies carries no legal recipients."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # company B follows the shared default policy too (a new company's default)
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.manager_b = cls._create_collection_user(
            "collmanager_b",
            "Max Manager",
            groups=[
                "base.group_user",
                "account.group_account_invoice",
                "account_collections.group_collection_manager",
            ],
            company=cls.company_b,
        )
        cls.seller_b = cls._create_collection_user(
            "seller_b", "Bea Seller", company=cls.company_b
        )
        cls.legal_type = cls.env.ref(
            "account_collections.mail_activity_type_collection_legal"
        )

    def _legal_stage_vals(self, policy):
        return {
            "policy_id": policy.id,
            "name": "Legal action",
            "day_offset": 60,
            "phase": "legal",
            "responsible": "manager",
            "activity_type_id": self.stage_final.activity_type_id.id,
        }

    def _messages_to(self, partners):
        return self.env["mail.message"].search([("partner_ids", "in", partners.ids)])

    def _legal_activity(self):
        return self.env["mail.activity"].search(
            [("activity_type_id", "=", self.legal_type.id)]
        )

    def test_rpc_manager_of_another_company_cannot_hand_its_cases_over(self):
        self.assertEqual(self.company.collection_policy_id, self.policy)
        self.assertFalse(self.policy.company_id, "the shipped policy is shared")
        late = self._post_invoice(day(0), 1000.0)
        law_firm = self.env["res.partner"].create(
            {"name": "B's Law Firm", "email": "cases@b-law.example"}
        )
        # a legal stage on the shared policy (each company's managers set it up)
        self._rpc(
            self.manager_b,
            "collection.stage",
            "create",
            self._legal_stage_vals(self.policy),
        )
        # but no recipient of company B's choosing on it
        for vals in (
            {"legal_partner_id": law_firm.id},
            {"legal_user_id": self.manager_b.id},
        ):
            with self._refused(ValidationError, "shared by all the companies"):
                self._rpc(
                    self.manager_b,
                    "collection.policy",
                    "write",
                    self.policy.ids,
                    vals,
                    context=self.ATTACKER_CONTEXT,
                )
        # nor by making the policy company A follows company B's own
        with self._refused(ValidationError, "followed in"):
            self._rpc(
                self.manager_b,
                "collection.policy",
                "write",
                self.policy.ids,
                {"company_id": self.company_b.id, "legal_partner_id": law_firm.id},
            )
        self._run(day(60))
        self.assertEqual(late.collection_stage_id.phase, "legal")
        # nothing of company A's customer reaches company B's contacts
        self.assertFalse(self._messages_to(law_firm | self.manager_b.partner_id))
        self.assertEqual(self._legal_activity().user_id, self.leader)

    def test_recipients_not_set_for_the_company_are_not_used(self):
        # a shared policy carrying recipients (written before they were refused)
        law_firm = self.env["res.partner"].create(
            {"name": "B's Law Firm", "email": "cases@b-law.example"}
        )
        self.env.cr.execute(
            SQL(
                "UPDATE collection_policy SET legal_partner_id = %s, "
                "legal_user_id = %s WHERE id = %s",
                law_firm.id,
                self.manager_b.id,
                self.policy.id,
            )
        )
        self.policy.invalidate_recordset()
        self.env["collection.stage"].create(self._legal_stage_vals(self.policy))
        late = self._post_invoice(day(0), 1000.0)
        self._run(day(60))
        # handed over inside the company: the invoices excluded, the case file
        # kept on the customer, the salesperson's team leader takes the case
        self.assertEqual(late.collection_exclusion_reason, "legal")
        self.assertFalse(self._messages_to(law_firm | self.manager_b.partner_id))
        self.assertEqual(self._legal_activity().user_id, self.leader)
        note = self.customer.message_ids.filtered(
            lambda m: "Collection case" in (m.body or "")
        )
        self.assertEqual(len(note), 1)
        self.assertTrue(note.attachment_ids)
        self.assertIn("no legal recipient", note.body)

    def test_company_policy_recipients_belong_to_the_company(self):
        policy_a = self.env["collection.policy"].create(
            {
                "name": "A's legal policy",
                "company_id": self.company.id,
                "stage_ids": [
                    Command.create(
                        {
                            "name": "Call",
                            "day_offset": 1,
                            "activity_type_id": self.stage_overdue.activity_type_id.id,
                        }
                    )
                ],
            }
        )
        self.env["collection.stage"].create(self._legal_stage_vals(policy_a))
        self.company.collection_policy_id = policy_a
        b_contact = self.env["res.partner"].create(
            {"name": "B's lawyer", "company_id": self.company_b.id}
        )
        # a manager of company B does not set up company A's policy
        with self._refused(AccessError):
            self._rpc(
                self.manager_b,
                "collection.policy",
                "write",
                policy_a.ids,
                {"legal_partner_id": b_contact.id},
                context={"allowed_company_ids": [self.company_b.id, self.company.id]},
            )
        # company A's manager cannot pick company B's people
        for vals in (
            {"legal_partner_id": b_contact.id},
            {"legal_user_id": self.seller_b.id},
        ):
            with self._refused(UserError, "Incompatible companies"):
                self._rpc(
                    self.manager, "collection.policy", "write", policy_a.ids, vals
                )
        # company A's own lawyer, who then leaves company A
        lawyer = self._create_collection_user("lawyer", "Lola Lawyer")
        self._rpc(
            self.manager,
            "collection.policy",
            "write",
            policy_a.ids,
            {"legal_user_id": lawyer.id},
        )
        lawyer.write(
            {
                "company_ids": [Command.set(self.company_b.ids)],
                "company_id": self.company_b.id,
            }
        )
        late = self._post_invoice(day(0), 1000.0)
        self._run(day(60))
        self.assertEqual(late.collection_exclusion_reason, "legal")
        self.assertFalse(self._messages_to(lawyer.partner_id))
        self.assertEqual(self._legal_activity().user_id, self.leader)
