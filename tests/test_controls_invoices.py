import base64
from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import freeze_time, tagged

from .common import DUE, day
from .common_rpc import RpcCommon


@tagged("post_install", "-at_install")
class TestInvoiceControls(RpcCommon):
    """The collection state of an invoice, the wizards, stages and policies in
    use, attachments, totals, report recipients and escalations across
    companies, as users reach them through RPC."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls._post_invoice(DUE, amount=1000.0)

    # -------------------------------------------------------------------------
    # item 2: the collection fields of an invoice
    # -------------------------------------------------------------------------

    def test_rpc_salesperson_cannot_switch_escalation_off_on_an_invoice(self):
        self._run(day(1))
        promise = self._promise(self.invoice, day(9), amount=500.0)
        other = self._promise(self._post_invoice(DUE), day(9), amount=500.0)
        attacks = {
            "collection_stage_id": self.stage_final.id,
            "collection_excluded": True,
            "collection_exclusion_reason": "legal",
            "collection_error": "Nothing to see",
            "collection_error_date": "2099-01-01",
            "collection_date_due": "2099-01-01",
            "collection_promise_ids": [Command.set(other.ids)],
            "collection_contact_ids": [Command.clear()],
            # the emails the customer is owed, and when it was last written to
            "collection_mail_stage_id": False,
            "collection_mail_held": "interval",
            "collection_mail_date": "2099-01-01",
            "collection_mail_checked_date": "2099-01-01",
        }
        for user in (self.salesperson, self.manager):
            for fname, value in attacks.items():
                with (
                    self.subTest(user=user.login, field=fname),
                    self.assertRaises(AccessError),
                ):
                    self._rpc(
                        user,
                        "account.move",
                        "write",
                        self.invoice.ids,
                        {fname: value},
                        context=self.ATTACKER_CONTEXT,
                    )
        self.assertEqual(self.invoice.collection_stage_id, self.stage_overdue)
        self.assertFalse(self.invoice.collection_excluded)
        self.assertFalse(self.invoice.collection_error_date)
        self.assertEqual(self.invoice.collection_date_due, DUE)
        self.assertEqual(self.invoice.collection_promise_ids, promise)
        # nor on a new invoice, nor through the context's default values
        vals = {
            "move_type": "out_invoice",
            "partner_id": self.customer.id,
            "invoice_line_ids": [Command.create({"name": "x", "price_unit": 10.0})],
        }
        with self.assertRaises(AccessError):
            self._rpc(
                self.salesperson,
                "account.move",
                "create",
                {**vals, "collection_excluded": True},
            )
        move_id = self._rpc(
            self.salesperson,
            "account.move",
            "create",
            vals,
            context={
                "default_collection_excluded": True,
                "default_collection_stage_id": self.stage_final.id,
            },
        )
        created = self.env["account.move"].browse(move_id)
        self.assertFalse(created.collection_excluded)
        self.assertFalse(created.collection_stage_id)
        # the escalation still comes
        self._run(day(10))
        self.assertEqual(self.invoice.collection_stage_id, self.stage_escalation)

    def test_rpc_exclusion_is_in_the_chatter_whatever_the_context(self):
        self._run(day(1))
        promise = self._promise(self.invoice, day(9), amount=500.0)
        sam = self.salesperson
        with freeze_time(day(2)):
            action = self._rpc(
                sam, "account.move", "action_collection_exclude", self.invoice.ids
            )
            wizard_id = self._rpc(
                sam,
                "collection.exclusion.wizard",
                "create",
                {"reason": "dispute", "note": "Damaged goods"},
                context={**action["context"], **self.ATTACKER_CONTEXT},
            )
            self._rpc(
                sam,
                "collection.exclusion.wizard",
                "action_exclude",
                [wizard_id],
                context=self.ATTACKER_CONTEXT,
            )
        self.assertTrue(self.invoice.collection_excluded)
        self.assertTrue(self._messages(self.invoice, "Excluded from collection by Sam"))
        self.assertEqual(promise.state, "cancelled")
        self.assertTrue(self._messages(self.invoice, "cancelled: the invoices were"))
        with freeze_time(day(3)):
            action = self._rpc(
                sam, "account.move", "action_collection_include", self.invoice.ids
            )
            wizard_id = self._rpc(
                sam,
                "collection.exclusion.wizard",
                "create",
                {},
                context={**action["context"], **self.ATTACKER_CONTEXT},
            )
            self._rpc(
                sam,
                "collection.exclusion.wizard",
                "action_include",
                [wizard_id],
                context=self.ATTACKER_CONTEXT,
            )
        self.assertFalse(self.invoice.collection_excluded)
        self.assertTrue(self._messages(self.invoice, "Included in collection again"))
        # a billing user outside the collection groups cannot use the wizard
        with self.assertRaises(AccessError):
            self._rpc(
                self.billing,
                "collection.exclusion.wizard",
                "create",
                {"move_ids": [Command.set(self.invoice.ids)], "reason": "legal"},
            )

    def test_odoo_invoice_flows_still_work_on_an_invoice_in_collection(self):
        """Saving the invoice form, copying, resetting to draft, editing and
        posting again, reversing: as a salesperson with billing rights would."""
        self._run(day(1))
        sam = self.salesperson
        spec = {
            "ref": {},
            "collection_stage_id": {"fields": {"display_name": {}}},
            "collection_excluded": {},
        }
        with freeze_time(day(2)):
            # the form sends the fields changed, not the read-only ones
            saved = self._rpc(
                sam,
                "account.move",
                "web_save",
                self.invoice.ids,
                {"ref": "PO-42"},
                specification=spec,
            )
            self.assertEqual(saved[0]["ref"], "PO-42")
            self.assertEqual(
                saved[0]["collection_stage_id"]["id"], self.stage_overdue.id
            )
            # a new invoice from "Invoices in Collection" grouped by stage
            created = self._rpc(
                sam,
                "account.move",
                "web_save",
                [],
                {
                    "partner_id": self.customer.id,
                    "invoice_date": "2026-03-18",
                    "invoice_line_ids": [
                        Command.create({"name": "Goods", "price_unit": 80.0})
                    ],
                },
                specification=spec,
                context={
                    "default_move_type": "out_invoice",
                    "default_collection_stage_id": self.stage_overdue.id,
                },
            )
            new = self.env["account.move"].browse(created[0]["id"])
            self.assertFalse(new.collection_stage_id)
            self._rpc(sam, "account.move", "action_post", new.ids)
            copy = self.env["account.move"].browse(
                self._rpc(sam, "account.move", "copy", self.invoice.ids)
            )
            self.assertEqual(copy.state, "draft")
            self.assertFalse(copy.collection_stage_id)
            self._rpc(sam, "account.move", "action_post", copy.ids)
            self._rpc(sam, "account.move", "button_draft", copy.ids)
            line = copy.invoice_line_ids
            self._rpc(
                sam,
                "account.move",
                "write",
                copy.ids,
                {"invoice_line_ids": [Command.update(line.id, {"price_unit": 500.0})]},
            )
            self._rpc(sam, "account.move", "action_post", copy.ids)
            self.assertEqual(copy.amount_residual, 500.0)
            reversal_id = self._rpc(
                sam,
                "account.move.reversal",
                "create",
                {"journal_id": self.invoice.journal_id.id, "date": "2026-03-18"},
                context={"active_model": "account.move", "active_ids": copy.ids},
            )
            self._rpc(sam, "account.move.reversal", "refund_moves", [reversal_id])
            credit_note = self.env["account.move"].search(
                [("reversed_entry_id", "=", copy.id)]
            )
            self._rpc(sam, "account.move", "action_post", credit_note.ids)
        self.assertEqual(copy.payment_state, "reversed")
        self._run(day(8))
        self.assertEqual(self.invoice.collection_stage_id, self.stage_escalation)
        self.assertFalse(self._collection_activities(copy | credit_note))

    # -------------------------------------------------------------------------
    # item 6: the wizards' records belong to their user
    # -------------------------------------------------------------------------

    def test_rpc_wizards_are_private_to_their_user(self):
        sally, sam = self.salesperson_2, self.salesperson
        sally_invoice = self._post_invoice(DUE, user=sally)
        with freeze_time(day(2)):
            action = self._rpc(
                sally,
                "account.move",
                "action_collection_log_contact",
                sally_invoice.ids,
            )
            contact_wizard = self._rpc(
                sally,
                "collection.contact.wizard",
                "create",
                {
                    "outcome": "promise",
                    "promised_date": "2026-03-25",
                    "promise_amount": 500.0,
                    "note": "Confidential: the customer is in trouble",
                },
                context=action["context"],
            )
            action = self._rpc(
                sally, "account.move", "action_collection_exclude", sally_invoice.ids
            )
            exclusion_wizard = self._rpc(
                sally,
                "collection.exclusion.wizard",
                "create",
                {"reason": "legal", "note": "Confidential: sent to lawyers"},
                context=action["context"],
            )
        for model, wizard_id in (
            ("collection.contact.wizard", contact_wizard),
            ("collection.exclusion.wizard", exclusion_wizard),
        ):
            for user in (sam, self.manager):
                with self.subTest(model=model, user=user.login):
                    self.assertFalse(
                        self._rpc(user, model, "search", [("id", "=", wizard_id)])
                    )
                    with self.assertRaises(AccessError):
                        self._rpc(user, model, "read", [wizard_id], ["note"])
                    with self.assertRaises(AccessError):
                        self._rpc(user, model, "write", [wizard_id], {"note": "Mine"})
            read = self._rpc(sally, model, "read", [wizard_id], ["note"])
            self.assertIn("Confidential", read[0]["note"])
        # and in a company the user is not in, none of their own either
        company_b = self.setup_other_company(name="Company B")["company"]
        self.manager.company_ids = [Command.link(company_b.id)]
        wizard_id = self._rpc(
            self.manager,
            "collection.exclusion.wizard",
            "create",
            {"move_ids": [Command.set(self.invoice.ids)], "reason": "legal"},
        )
        self.manager.company_id = company_b
        with self.assertRaises(AccessError):
            self._rpc(
                self.manager, "collection.exclusion.wizard", "read", [wizard_id], []
            )

    # -------------------------------------------------------------------------
    # item 7: stages and policies in use
    # -------------------------------------------------------------------------

    def test_rpc_stage_or_policy_in_use_is_archived_not_deleted(self):
        self._run(day(1))
        for model, record in (
            ("collection.stage", self.stage_overdue),
            ("collection.policy", self.policy),
        ):
            with (
                self.subTest(model),
                self._refused(UserError, "archive it instead"),
            ):
                self._rpc(self.manager, model, "unlink", record.ids)
        self.assertEqual(self.invoice.collection_stage_id, self.stage_overdue)
        # archived: the invoice keeps its stage, payment still closes its activity
        self._rpc(
            self.manager,
            "collection.stage",
            "write",
            self.stage_overdue.ids,
            {"active": False},
        )
        self._run(day(2))
        self.assertEqual(self.invoice.collection_stage_id, self.stage_overdue)
        self.assertEqual(len(self._collection_activities(self.invoice)), 1)
        self._pay(self.invoice, pay_date=day(3))
        self.assertFalse(self._collection_activities(self.invoice))
        # a policy a customer follows is in use; one nobody follows is deleted
        activity_type = self.stage_overdue.activity_type_id.id
        spare, followed = self.env["collection.policy"].create(
            [
                {
                    "name": name,
                    "stage_ids": [
                        Command.create(
                            {
                                "name": "a",
                                "day_offset": 3,
                                "activity_type_id": activity_type,
                            }
                        )
                    ],
                }
                for name in ("Spare", "Followed")
            ]
        )
        self.customer_2.collection_policy_id = followed
        with self._refused(UserError, "policy of 1 customers"):
            self._rpc(self.manager, "collection.policy", "unlink", followed.ids)
        self._rpc(self.manager, "collection.policy", "unlink", spare.ids)
        self.assertFalse(spare.exists())

    # -------------------------------------------------------------------------
    # item 8: attachments of other documents are copied
    # -------------------------------------------------------------------------

    def test_rpc_log_contact_copies_the_files_of_other_documents(self):
        other = self._post_invoice(DUE)
        signed = self.env["ir.attachment"].create(
            {
                "name": "signed-order.pdf",
                "datas": base64.b64encode(b"%PDF signed"),
                "res_model": "account.move",
                "res_id": other.id,
            }
        )
        sam = self.salesperson
        action = self._rpc(
            sam, "account.move", "action_collection_log_contact", self.invoice.ids
        )
        wizard_id = self._rpc(
            sam,
            "collection.contact.wizard",
            "create",
            {"outcome": "reached", "attachment_ids": [Command.set(signed.ids)]},
            context=action["context"],
        )
        self._rpc(sam, "collection.contact.wizard", "action_log", [wizard_id])
        self.assertEqual((signed.res_model, signed.res_id), ("account.move", other.id))
        contact = self.invoice.collection_contact_ids
        self.assertEqual(contact.attachment_ids.name, "signed-order.pdf")
        self.assertNotEqual(contact.attachment_ids, signed)
        self.assertEqual(contact.attachment_ids.raw, b"%PDF signed")
        self.assertEqual(contact.attachment_ids.res_model, "collection.contact")

    # -------------------------------------------------------------------------
    # item 9: the customer's totals
    # -------------------------------------------------------------------------

    def test_customer_totals_for_the_collection_groups_with_their_rights(self):
        fields = [
            "collection_open_amount",
            "collection_open_invoice_ids",
            "collection_open_invoice_count",
            "collection_mail_partner_id",
        ]
        self.invoice.message_subscribe(self.portal.partner_id.ids)
        self._rpc(self.portal, "account.move", "read", self.invoice.ids, ["name"])
        for fname in fields:
            with self.subTest(fname), self.assertRaises(AccessError):
                self._rpc(
                    self.portal, "account.move", "read", self.invoice.ids, [fname]
                )
        # a salesperson limited to their own documents (as Sales makes them: read
        # access to invoices, restricted by a rule to their own)
        own_documents = self.env["res.groups"].create({"name": "Own documents"})
        model_id = self.env["ir.model"]._get_id("account.move")
        self.env["ir.model.access"].create(
            {
                "name": "Own invoices",
                "model_id": model_id,
                "group_id": own_documents.id,
                "perm_read": True,
            }
        )
        self.env["ir.rule"].create(
            {
                "name": "Own invoices",
                "model_id": model_id,
                "groups": [Command.set(own_documents.ids)],
                "domain_force": "[('invoice_user_id', '=', user.id)]",
            }
        )
        rita = self._create_collection_user(
            "rita",
            "Rita Restricted",
            groups=["base.group_user", "sales_team.group_sale_salesman"],
        )
        rita.groups_id = [Command.link(own_documents.id)]
        rita_invoice = self._post_invoice(DUE, amount=300.0, user=rita)
        totals = ["collection_open_amount", "collection_open_invoice_count"]
        read = self._rpc(rita, "account.move", "read", rita_invoice.ids, totals)[0]
        self.assertEqual(read["collection_open_amount"], 300.0)
        self.assertEqual(read["collection_open_invoice_count"], 1)
        read = self._rpc(
            self.salesperson, "account.move", "read", rita_invoice.ids, totals
        )[0]
        self.assertEqual(read["collection_open_amount"], 1300.0)
        # the customer's one email, written by the daily run, lists all of them
        self._run(day(1))
        email = (self.invoice | rita_invoice).message_ids.filtered(
            lambda m: m.message_type == "comment"
        )
        self.assertEqual(len(email), 1)
        self.assertIn(self.invoice.name, email.body)
        self.assertIn(rita_invoice.name, email.body)
        self.assertIn("1,300.00", email.body)

    # -------------------------------------------------------------------------
    # item 11: report recipients, escalations across companies
    # -------------------------------------------------------------------------

    def test_rpc_weekly_report_recipients_are_collection_managers(self):
        admin = self._create_collection_user(
            "settings_admin",
            "Ada Admin",
            groups=["base.group_system", "account.group_account_manager"],
        )
        with self._refused(ValidationError, "Sam Seller"):
            self._rpc(
                admin,
                "res.company",
                "write",
                self.company.ids,
                {"collection_report_user_ids": [Command.link(self.salesperson.id)]},
            )
        self._rpc(
            admin,
            "res.company",
            "write",
            self.company.ids,
            {"collection_report_user_ids": [Command.link(self.manager.id)]},
        )
        self.assertEqual(self.company.collection_report_user_ids, self.manager)
        manager_group = self.env.ref("account_collections.group_collection_manager")
        for model in ("res.company", "res.config.settings"):
            field = self._rpc(
                admin, model, "fields_get", ["collection_report_user_ids"]
            )["collection_report_user_ids"]
            self.assertIn(f"('groups_id', 'in', {manager_group.id})", field["domain"])
        # a recipient who is no longer a manager gets no report
        self.manager.groups_id = [Command.unlink(manager_group.id)]
        Delivery = self.env["collection.portfolio.delivery"]
        with freeze_time(date(2026, 3, 30)):
            logs = Delivery._collection_send_now(self.company, self.manager)
        self.assertEqual(logs.state, "skipped")
        self.assertEqual(logs.note, "the user is no longer a collection manager")

    def test_escalation_leader_outside_the_company_falls_back_to_its_manager(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        seller_b = self._create_collection_user(
            "seller_b", "Bea Seller", company=company_b
        )
        manager_b = self._create_collection_user(
            "manager_b", "Max Manager", company=company_b
        )
        company_b.write(
            {
                "collection_policy_id": self.policy.id,
                "collection_manager_id": manager_b.id,
            }
        )
        # Leo leads a team shared by the companies, but works in company A only
        self.env["crm.team"].create(
            {
                "name": "Export",
                "user_id": self.leader.id,
                "company_id": False,
                "member_ids": [Command.set(seller_b.ids)],
            }
        )
        self.assertEqual(seller_b.sale_team_id.user_id, self.leader)
        invoice_b = self._post_invoice(DUE, user=seller_b, company=company_b)
        self._run(day(7))
        self.assertEqual(invoice_b.collection_stage_id, self.stage_escalation)
        self.assertEqual(self._collection_activities(invoice_b).user_id, manager_b)
        note = invoice_b.message_ids.filtered(
            lambda m: "is not allowed in company Company B" in (m.body or "")
        )
        self.assertIn("Max Manager", note.body)
