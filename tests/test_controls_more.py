from datetime import datetime, timedelta

from lxml import etree

from odoo import Command, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import freeze_time, tagged

from .common import DUE, day
from .common_rpc import RpcCommon

# the moment, on day 2, at which the contacts of these tests are logged
NOW = datetime(2026, 3, 18, 15, 0)


@tagged("post_install", "-at_install")
class TestMoreControls(RpcCommon):
    """What a salesperson could still write to silence the process or bend its
    figures: a customer's policy, their payment history, the date of a contact
    and the collection fields of an activity. Through RPC, whatever the context,
    only the system (and a collection manager where a person decides) sets them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # salespeople edit their customers (Odoo's "Contact Creation" group)
        partner_manager = cls.env.ref("base.group_partner_manager")
        (cls.salesperson | cls.manager).write(
            {"groups_id": [Command.link(partner_manager.id)]}
        )
        activity_type = cls.env.ref(
            "account_collections.mail_activity_type_collection_overdue"
        ).id
        cls.lenient, cls.strict = cls.env["collection.policy"].create(
            [
                {
                    "name": name,
                    "stage_ids": [
                        Command.create(
                            {
                                "name": f"{name} follow-up",
                                "day_offset": offset,
                                "activity_type_id": activity_type,
                            }
                        )
                    ],
                }
                for name, offset in (("Lenient", 90), ("Strict", 0))
            ]
        )
        cls.invoice = cls._post_invoice(DUE, amount=1000.0)

    def _policy_messages(self, partner):
        return partner.message_ids.filtered(
            lambda m: "Collection policy in" in (m.body or "")
        )

    def _new_partner(self, user, vals=None, context=None):
        partner_id = self._rpc(
            user,
            "res.partner",
            "create",
            {"name": "New Customer", "is_company": True, **(vals or {})},
            context=context,
        )
        return self.env["res.partner"].browse(partner_id)

    # -------------------------------------------------------------------------
    # 1. a customer's collection policy is a collection manager's choice
    # -------------------------------------------------------------------------

    def test_rpc_salesperson_cannot_give_a_customer_a_lenient_policy(self):
        sam = self.salesperson
        for context in ({}, self.ATTACKER_CONTEXT):
            with (
                self.subTest(context=context),
                self._refused(AccessError, "Only a collection manager"),
            ):
                self._rpc(
                    sam,
                    "res.partner",
                    "write",
                    self.customer.ids,
                    {"collection_policy_id": self.lenient.id},
                    context=context,
                )
        self.assertFalse(self.customer.collection_policy_id)
        # nor on a new customer, given or as the context's default
        with self._refused(AccessError, "Only a collection manager"):
            self._new_partner(sam, {"collection_policy_id": self.lenient.id})
        created = self._new_partner(
            sam,
            context={
                **self.ATTACKER_CONTEXT,
                "default_collection_policy_id": self.lenient.id,
            },
        )
        self.assertFalse(created.collection_policy_id)
        # nor through a personal default for new customers
        self._rpc(
            sam,
            "ir.default",
            "set",
            "res.partner",
            "collection_policy_id",
            self.lenient.id,
            user_id=True,
            company_id=True,
        )
        created = self._new_partner(sam)
        self.assertFalse(created.collection_policy_id)
        self.assertFalse(self._policy_messages(created))
        # the form saved without touching it, or with the same value, is fine
        self._rpc(
            sam,
            "res.partner",
            "write",
            self.customer.ids,
            {"phone": "+1 555 0100", "collection_policy_id": False},
        )
        self.assertEqual(self.customer.phone, "+1 555 0100")
        self.assertFalse(self._policy_messages(self.customer))
        # and the escalation comes
        self._run(day(7))
        self.assertEqual(self.invoice.collection_stage_id, self.stage_escalation)
        # the customer form shows a salesperson the policy, read-only
        for user, readonly in ((sam, True), (self.manager, False)):
            arch = self._rpc(user, "res.partner", "get_views", [[False, "form"]])
            field = etree.fromstring(arch["views"]["form"]["arch"]).xpath(
                "//field[@name='collection_policy_id']"
            )
            self.assertEqual(len(field), 1)
            self.assertEqual(field[0].get("readonly") in ("1", "True"), readonly)

    def test_rpc_policy_change_is_in_the_customer_chatter_whatever_the_context(self):
        mona = self.manager
        self._rpc(
            mona,
            "res.partner",
            "write",
            self.customer.ids,
            {"collection_policy_id": self.strict.id},
            context=self.ATTACKER_CONTEXT,
        )
        self.assertEqual(self.customer.collection_policy_id, self.strict)
        company = self.company.name
        message = self._policy_messages(self.customer)
        self.assertEqual(len(message), 1)
        self.assertIn(
            f"Collection policy in {company} changed by Mona Manager: from the "
            f"company's default ({self.policy.name}) to Strict.",
            message.body,
        )
        self.assertEqual(message.author_id, mona.partner_id)
        self._rpc(
            mona,
            "res.partner",
            "write",
            self.customer.ids,
            {"collection_policy_id": False},
            context=self.ATTACKER_CONTEXT,
        )
        self.assertIn(
            "from Strict to the company's default",
            self._policy_messages(self.customer)[0].body,
        )
        created = self._new_partner(
            mona, {"collection_policy_id": self.lenient.id}, self.ATTACKER_CONTEXT
        )
        self.assertEqual(created.collection_policy_id, self.lenient)
        self.assertIn("to Lenient.", self._policy_messages(created).body)
        # a salesperson's refused attempt leaves nothing, a same-value save no line
        self._rpc(
            mona,
            "res.partner",
            "write",
            created.ids,
            {"collection_policy_id": self.lenient.id},
        )
        self.assertEqual(len(self._policy_messages(created)), 1)

    def test_customer_policy_default_of_the_company_and_salesperson_flows(self):
        """A default policy for new customers set per company (``ir.default``):
        a salesperson's new customer follows it, the daily run's SQL reads it, and
        Odoo's own flows (a customer created from an invoice, a form saved with
        the default, an import, a merge) work for a salesperson unless they would
        change a policy."""
        sam = self.salesperson
        self.env["ir.default"].set(
            "res.partner",
            "collection_policy_id",
            self.strict.id,
            company_id=self.company.id,
        )
        self.env.invalidate_all()
        # created from the invoice's customer field, then the form with its default
        partner_id, _name = self._rpc(
            sam,
            "res.partner",
            "name_create",
            "Initech",
            context={"res_partner_search_mode": "customer", "default_is_company": 1},
        )
        initech = self.env["res.partner"].browse(partner_id)
        defaults = self._rpc(
            sam, "res.partner", "default_get", ["name", "collection_policy_id"]
        )
        self.assertEqual(defaults["collection_policy_id"], self.strict.id)
        umbrella = self._new_partner(
            sam, {"name": "Umbrella", "collection_policy_id": self.strict.id}
        )
        for partner in (initech, umbrella):
            self.assertEqual(partner.collection_policy_id, self.strict)
            self.assertFalse(self._policy_messages(partner))
        invoice = self._post_invoice(DUE, partner=initech)
        self._run(day(0))
        self.assertEqual(invoice.collection_stage_id, self.strict.stage_ids)
        # opting out of the company's default is a change too
        with self._refused(AccessError, "Only a collection manager"):
            self._rpc(
                sam,
                "res.partner",
                "write",
                initech.ids,
                {"collection_policy_id": False},
            )
        # an import: the same policy passes, another one is refused
        result = self._rpc(
            sam,
            "res.partner",
            "load",
            ["name", "collection_policy_id"],
            [["Imported Strict", "Strict"]],
        )
        self.assertFalse(result["messages"], result["messages"])
        result = self._rpc(
            sam,
            "res.partner",
            "load",
            ["name", "collection_policy_id"],
            [["Imported Lenient", "Lenient"]],
        )
        self.assertFalse(result["ids"])
        self.assertIn("Only a collection manager", result["messages"][0]["message"])

    def test_rpc_salesperson_cannot_move_invoices_under_another_policy(self):
        """Merging customers, or making a customer a contact of another one,
        moves its invoices to a customer that may follow another policy."""
        sam = self.salesperson
        lenient_customer = self.env["res.partner"].create(
            {"name": "Lenient Corp", "is_company": True}
        )
        lenient_customer.with_company(self.company).collection_policy_id = self.lenient
        for destination in (self.customer, lenient_customer):
            with (
                self.subTest(destination=destination.name),
                self._refused(AccessError, "follow different collection policies"),
            ):
                self._merge(sam, self.customer | lenient_customer, destination)
        with self._refused(AccessError, "only a collection manager can do it"):
            self._rpc(
                sam,
                "res.partner",
                "write",
                self.customer.ids,
                {"is_company": False, "parent_id": lenient_customer.id},
                context=self.ATTACKER_CONTEXT,
            )
        self.assertEqual(self.invoice.commercial_partner_id, self.customer)
        self.assertEqual(self.invoice.collection_policy_id, self.policy)
        # duplicates of one policy are merged as usual, and the payment history
        # is not merged: the daily run recomputes it
        twin = self.env["res.partner"].create({"name": "Acme Twin", "is_company": True})
        twin.sudo().collection_avg_days_late = 40.0
        self._merge(sam, twin | self.customer, self.customer)
        self.assertFalse(twin.exists())
        self.assertEqual(self.customer.collection_avg_days_late, 0.0)
        # a contact without invoices moves between customers
        contact = self.env["res.partner"].create(
            {"name": "Joe Contact", "parent_id": self.customer.id}
        )
        self._rpc(
            sam,
            "res.partner",
            "write",
            contact.ids,
            {"parent_id": lenient_customer.id},
        )
        self.assertEqual(contact.commercial_partner_id, lenient_customer)
        # a collection manager merges them, and the chatter says so
        self._merge(self.manager, self.customer | lenient_customer, self.customer)
        self.assertEqual(self.customer.collection_policy_id, self.lenient)
        self.assertTrue(self._policy_messages(self.customer))

    def _merge(self, user, partners, destination):
        partners.write({"email": "same@example.com"})
        wizard_id = self._rpc(
            user,
            "base.partner.merge.automatic.wizard",
            "create",
            {
                "partner_ids": [Command.set(partners.ids)],
                "dst_partner_id": destination.id,
            },
        )
        self._rpc(
            user, "base.partner.merge.automatic.wizard", "action_merge", [wizard_id]
        )

    # -------------------------------------------------------------------------
    # 2. the customer's payment history is the daily run's
    # -------------------------------------------------------------------------

    def test_rpc_payment_history_is_set_by_the_daily_run_only(self):
        history = self.customer.collection_avg_days_late
        for user in (self.salesperson, self.manager):
            for context in ({}, self.ATTACKER_CONTEXT):
                with (
                    self.subTest(user=user.login, context=context),
                    self._refused(AccessError, "payment history"),
                ):
                    self._rpc(
                        user,
                        "res.partner",
                        "write",
                        self.customer.ids,
                        {"collection_avg_days_late": 0.5},
                        context=context,
                    )
        with self._refused(AccessError, "payment history"):
            self._new_partner(self.salesperson, {"collection_avg_days_late": 0.5})
        created = self._new_partner(
            self.salesperson, context={"default_collection_avg_days_late": 0.5}
        )
        self.assertEqual(created.collection_avg_days_late, 0.0)
        self.assertEqual(self.customer.collection_avg_days_late, history)
        # the daily run refreshes it from the payments
        self._pay(self.invoice, pay_date=day(12))
        self._run(day(13))
        self.assertEqual(self.customer.collection_avg_days_late, 12.0)

    # -------------------------------------------------------------------------
    # 3. a contact is dated when it is logged
    # -------------------------------------------------------------------------

    def _create_contact(self, user, when=None, context=None):
        vals = {
            "partner_id": self.customer.id,
            "move_ids": [Command.set(self.invoice.ids)],
            "channel": "call",
            "outcome": "no_answer",
        }
        if when:
            vals["date"] = fields.Datetime.to_string(when)
        with freeze_time(NOW):
            contact_id = self._rpc(
                user, "collection.contact", "create", vals, context=context
            )
        return self.env["collection.contact"].browse(contact_id)

    def test_rpc_contact_date_cannot_be_moved_back_into_past_weeks(self):
        sam = self.salesperson
        # now, a call made this morning, one of last week's visits
        for when in (None, NOW - timedelta(hours=5), NOW - timedelta(days=6)):
            with self.subTest(when=when):
                contact = self._create_contact(sam, when, self.ATTACKER_CONTEXT)
                self.assertEqual(contact.date, when or NOW)
        # not in the future, not more than 7 days back
        with self._refused(ValidationError, "in the future"):
            self._create_contact(sam, NOW + timedelta(hours=2))
        with self._refused(AccessError, "up to 7 days"):
            self._create_contact(sam, NOW - timedelta(days=8))
        # and the context's default date stands in for nothing: dated now
        by_context = self._create_contact(
            sam,
            context={
                **self.ATTACKER_CONTEXT,
                "default_date": fields.Datetime.to_string(NOW - timedelta(30)),
            },
        )
        self.assertEqual(by_context.date, NOW)
        # nor through Log a Contact, with the context's default date
        with freeze_time(NOW):
            action = self._rpc(
                sam, "account.move", "action_collection_log_contact", self.invoice.ids
            )
            context = {
                **action["context"],
                **self.ATTACKER_CONTEXT,
                "default_date": "2026-01-02 10:00:00",
            }
            wizard_id = self._rpc(
                sam,
                "collection.contact.wizard",
                "create",
                {"channel": "call", "outcome": "no_answer"},
                context=context,
            )
            self._rpc(
                sam,
                "collection.contact.wizard",
                "action_log",
                [wizard_id],
                context=context,
            )
        logged = self.env["collection.contact"].search([], order="id desc", limit=1)
        self.assertEqual(logged.date, NOW)
        # once logged, its date stays
        with freeze_time(NOW), self._refused(AccessError, "date of a logged contact"):
            self._rpc(
                sam,
                "collection.contact",
                "write",
                contact.ids,
                {"date": "2026-01-02 10:00:00"},
                context=self.ATTACKER_CONTEXT,
            )
        self.assertEqual(contact.date, NOW - timedelta(days=6))

    def test_rpc_manager_corrects_a_contact_date_in_the_chatter(self):
        contact = self._create_contact(self.salesperson)
        mona = self.manager
        with freeze_time(NOW):
            self._rpc(
                mona,
                "collection.contact",
                "write",
                contact.ids,
                {"date": "2026-03-02 09:30:00"},
                context=self.ATTACKER_CONTEXT,
            )
            self.assertEqual(contact.date, datetime(2026, 3, 2, 9, 30))
            self.assertTrue(
                self._messages(self.invoice, "corrected by Mona Manager: from")
            )
            with self._refused(ValidationError, "in the future"):
                self._rpc(
                    mona,
                    "collection.contact",
                    "write",
                    contact.ids,
                    {"date": "2026-03-19 09:30:00"},
                )
            # a manager logs an older contact (a late report of a visit)
            older = self._create_contact(mona, NOW - timedelta(days=20))
        self.assertEqual(older.date, NOW - timedelta(days=20))

    # -------------------------------------------------------------------------
    # 4. the collection fields of an activity are the run's
    # -------------------------------------------------------------------------

    def test_rpc_activity_owner_cannot_take_it_out_of_collection(self):
        self._run(day(1))
        activity = self._collection_activities(self.invoice)
        self.assertEqual(activity.user_id, self.salesperson)
        self.assertEqual(activity.collection_stage_id, self.stage_overdue)
        promise = self._promise(self.invoice, day(9), amount=500.0)
        sam = self.salesperson
        for vals in (
            {"collection_stage_id": False},
            {"collection_stage_id": self.stage_final.id},
            {"collection_promise_id": promise.id},
            {"collection_notified": False},
        ):
            with (
                self.subTest(vals=vals),
                self._refused(AccessError, "set by the daily collection run"),
            ):
                self._rpc(
                    sam,
                    "mail.activity",
                    "write",
                    activity.ids,
                    vals,
                    context=self.ATTACKER_CONTEXT,
                )
        self.assertEqual(activity.collection_stage_id, self.stage_overdue)
        # nor on a new activity, given or as the context's default
        vals = {
            "res_model_id": self.env["ir.model"]._get_id("account.move"),
            "res_id": self.invoice.id,
            "summary": "Call back",
            "user_id": sam.id,
        }
        with self._refused(AccessError, "set by the daily collection run"):
            self._rpc(
                sam,
                "mail.activity",
                "create",
                {**vals, "collection_stage_id": self.stage_overdue.id},
            )
        own_id = self._rpc(
            sam,
            "mail.activity",
            "create",
            vals,
            context={"default_collection_stage_id": self.stage_final.id},
        )
        self.assertFalse(self.env["mail.activity"].browse(own_id).collection_stage_id)
        # the owner still reschedules, edits and marks done their activity
        self._rpc(
            sam,
            "mail.activity",
            "write",
            activity.ids,
            {"date_deadline": "2026-03-20", "note": "<p>Call after lunch</p>"},
        )
        self.assertEqual(str(activity.date_deadline), "2026-03-20")
        self.assertIn("Call after lunch", activity.note)
        with freeze_time(day(2)):
            self._rpc(
                sam,
                "mail.activity",
                "action_feedback",
                activity.ids,
                feedback="Left a voicemail",
            )
        self.assertFalse(activity.exists() and activity.active)
        # and the run, with its own rights, escalates as before
        self._run(day(10))
        escalation = self._collection_activities(self.invoice)
        self.assertEqual(escalation.collection_stage_id, self.stage_escalation)
        self.assertEqual(escalation.user_id, self.leader)

    # -------------------------------------------------------------------------
    # found on the way: a default value standing in for the system's fields
    # -------------------------------------------------------------------------

    def test_rpc_no_default_value_for_the_fields_the_system_sets(self):
        """A user's own default values (``ir.default``, which the web client
        sets) are filled in by every create: they must not forge a kept promise,
        an excluded invoice, an activity's stage or a contact for someone else."""
        invoice_model = "account.move"
        for user in (self.salesperson, self.manager):
            for model, fname, value in (
                ("collection.promise", "state", "kept"),
                ("collection.promise", "date", "2026-01-01"),
                ("collection.promise", "user_id", self.salesperson_2.id),
                (invoice_model, "collection_excluded", True),
                (invoice_model, "collection_stage_id", self.stage_final.id),
                ("mail.activity", "collection_stage_id", self.stage_final.id),
                ("collection.contact", "user_id", self.salesperson_2.id),
                ("collection.contact", "date", "2026-01-01 10:00:00"),
                ("res.partner", "collection_avg_days_late", 0.5),
            ):
                with (
                    self.subTest(user=user.login, model=model, field=fname),
                    self._refused(AccessError, "cannot have a default value"),
                ):
                    self._rpc(
                        user,
                        "ir.default",
                        "set",
                        model,
                        fname,
                        value,
                        user_id=True,
                        context=self.ATTACKER_CONTEXT,
                    )
        # nor by writing a harmless default into one of them
        field = self.env["ir.model.fields"]._get("collection.promise", "note")
        default_id = self._rpc(
            self.salesperson,
            "ir.default",
            "create",
            {
                "field_id": field.id,
                "user_id": self.salesperson.id,
                "json_value": '"Called"',
            },
        )
        with self._refused(AccessError, "cannot have a default value"):
            self._rpc(
                self.salesperson,
                "ir.default",
                "write",
                [default_id],
                {
                    "field_id": self.env["ir.model.fields"]
                    ._get("collection.promise", "state")
                    .id,
                    "json_value": '"kept"',
                },
            )
        # a promise recorded now is open, dated today, the salesperson's own
        with freeze_time(day(2)):
            promise = self.env["collection.promise"].browse(
                self._rpc(
                    self.salesperson,
                    "collection.promise",
                    "create",
                    {
                        "move_ids": [Command.set(self.invoice.ids)],
                        "promised_date": str(day(9)),
                        "amount": 500.0,
                    },
                )
            )
        self.assertEqual(promise.state, "open")
        self.assertEqual(promise.date, day(2))
        self.assertEqual(promise.user_id, self.salesperson)
        self.assertEqual(promise.note, "Called")
