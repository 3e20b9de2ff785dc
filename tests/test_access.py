from datetime import timedelta

from lxml import etree

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import CollectionCommon

# what each group may do on each model: r(ead), w(rite), c(reate), u(nlink)
RIGHTS = {
    "collection.policy": {"internal": "", "user": "r", "manager": "rwcu", "portal": ""},
    "collection.stage": {"internal": "", "user": "r", "manager": "rwcu", "portal": ""},
    "collection.promise": {
        "internal": "",
        "user": "rwc",
        "manager": "rwcu",
        "portal": "",
    },
    "collection.contact": {
        "internal": "",
        "user": "rwc",
        "manager": "rwcu",
        "portal": "",
    },
    # aging runs (transient): each user their own
    "collection.aging.wizard": {
        "internal": "",
        "user": "rwcu",
        "manager": "rwcu",
        "portal": "",
    },
    # deliveries of the weekly report and dashboard lines: read by managers only
    "collection.report.log": {"internal": "", "user": "", "manager": "r", "portal": ""},
    "collection.portfolio.line": {
        "internal": "",
        "user": "",
        "manager": "r",
        "portal": "",
    },
    # the KPI history: read by managers, written by the system only
    "collection.kpi.snapshot": {
        "internal": "",
        "user": "",
        "manager": "r",
        "portal": "",
    },
}
WIZARD_RIGHTS = {"internal": False, "user": True, "manager": True, "portal": False}


@tagged("post_install", "-at_install")
class TestCollectionAccess(CollectionCommon):
    """Per group (internal user without collection rights, collection user,
    collection manager, portal user): read, write, create and unlink on every
    model and wizard of the addon, and the record rules across salespeople and
    companies."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["res.users"])
        cls.internal = cls._create_collection_user(
            "billing",
            "Bill Billing",
            groups=["base.group_user", "account.group_account_invoice"],
        )
        cls.manager = cls._create_collection_user(
            "collmanager",
            "Cora Manager",
            groups=[
                "base.group_user",
                "account.group_account_invoice",
                "account_collections.group_collection_manager",
            ],
        )
        cls.portal = (
            cls.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "login": "acme_portal",
                    "name": "Acme Portal",
                    "partner_id": cls.env["res.partner"]
                    .create({"name": "Ann Acme", "parent_id": cls.customer.id})
                    .id,
                    "company_id": cls.company.id,
                    "company_ids": [Command.set(cls.company.ids)],
                    "groups_id": [Command.set([cls.env.ref("base.group_portal").id])],
                }
            )
        )
        cls.users = {
            "internal": cls.internal,
            "user": cls.salesperson,
            "manager": cls.manager,
            "portal": cls.portal,
        }
        due = cls.today - timedelta(days=3)
        # Sam's and Sally's invoices, and one of Sam's without promise (worklist)
        cls.inv_sam = cls._post_invoice(due, partner=cls.customer)
        cls.inv_sally = cls._post_invoice(
            due, partner=cls.customer_2, user=cls.salesperson_2
        )
        cls.inv_sam_free = cls._post_invoice(due, partner=cls.customer)
        cls.inv_spare = cls._post_invoice(due, partner=cls.customer)
        Contact = cls.env["collection.contact"]
        cls.contact_sam = Contact.with_user(cls.salesperson)._collection_log(
            cls.inv_sam,
            "call",
            "promise",
            promised_date=cls.today + timedelta(days=10),
            promise_amount=400.0,
        )
        cls.promise_sam = cls.contact_sam.promise_id
        cls.contact_sally = Contact.with_user(cls.salesperson_2)._collection_log(
            cls.inv_sally,
            "call",
            "promise",
            promised_date=cls.today + timedelta(days=10),
            promise_amount=300.0,
        )
        cls.promise_sally = cls.contact_sally.promise_id
        cls.cron.method_direct_trigger()  # overdue follow-ups: worklist rows
        # company B, with its own salesperson, policy, invoice, promise and contact
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.seller_b = cls._create_collection_user(
            "seller_b", "Bea Seller", company=cls.company_b
        )
        cls.policy_b = cls.env["collection.policy"].create(
            {
                "name": "B policy",
                "company_id": cls.company_b.id,
                "stage_ids": [
                    Command.create(
                        {
                            "name": "B call",
                            "day_offset": 1,
                            "activity_type_id": cls.stage_overdue.activity_type_id.id,
                        }
                    )
                ],
            }
        )
        cls.inv_b = cls._post_invoice(
            due, partner=cls.customer, user=cls.seller_b, company=cls.company_b
        )
        cls.contact_b = (
            Contact.with_user(cls.seller_b)
            .with_company(cls.company_b)
            ._collection_log(
                cls.inv_b,
                "visit",
                "promise",
                promised_date=cls.today + timedelta(days=5),
                promise_amount=100.0,
            )
        )
        cls.promise_b = cls.contact_b.promise_id

    # -------------------------------------------------------------------------
    # helpers
    # -------------------------------------------------------------------------

    def _as(self, user, records):
        """``records`` as ``user`` in their session (their own companies)."""
        return records.with_user(user).with_context(
            allowed_company_ids=user.company_id.ids
        )

    def _attempt(self, allowed, label, func):
        """Check that ``func`` is allowed or refused; undo it in any case."""
        with self.subTest(label):
            savepoint = self.env.cr.savepoint()
            try:
                if allowed:
                    func()
                    self.env.flush_all()
                else:
                    with self.assertRaises(AccessError):
                        func()
                        self.env.flush_all()
            finally:
                savepoint.close(rollback=True)
            self.env.invalidate_all()

    def _check_crud(self, record, create_vals, write_vals):
        for group, user in self.users.items():
            rights = RIGHTS[record._name][group]
            mine = self._as(user, record)
            label = f"{group} on {record._name}: "
            self._attempt(
                "r" in rights, label + "read", lambda m=mine: m.read(["display_name"])
            )
            self._attempt(
                "w" in rights, label + "write", lambda m=mine: m.write(write_vals)
            )
            if create_vals:
                self._attempt(
                    "c" in rights,
                    label + "create",
                    lambda m=mine: m.create(create_vals()),
                )
            self._attempt("u" in rights, label + "unlink", lambda m=mine: m.unlink())

    # -------------------------------------------------------------------------
    # models, per group
    # -------------------------------------------------------------------------

    def test_policy_and_stage_rights(self):
        activity_type = self.stage_overdue.activity_type_id.id
        policy = self.env["collection.policy"].create(
            {
                "name": "Spare policy",
                "stage_ids": [
                    Command.create(
                        {
                            "name": "a",
                            "day_offset": 2,
                            "activity_type_id": activity_type,
                        }
                    ),
                    Command.create(
                        {
                            "name": "b",
                            "day_offset": 3,
                            "activity_type_id": activity_type,
                        }
                    ),
                ],
            }
        )
        self._check_crud(
            policy,
            lambda: {
                "name": "New policy",
                "stage_ids": [
                    Command.create(
                        {
                            "name": "x",
                            "day_offset": 4,
                            "activity_type_id": activity_type,
                        }
                    )
                ],
            },
            {"name": "Renamed"},
        )
        self._check_crud(
            policy.stage_ids[0],
            lambda: {
                "name": "New stage",
                "policy_id": policy.id,
                "day_offset": 9,
                "activity_type_id": activity_type,
            },
            {"summary": "Changed"},
        )

    def test_promise_rights(self):
        self._check_crud(
            self.promise_sam,
            lambda: {
                "move_ids": [Command.set(self.inv_spare.ids)],
                "promised_date": self.today + timedelta(days=3),
                # the policy's minimum share (10%) of the amount due
                "amount": 100.0,
            },
            {"note": "Called again"},
        )

    def test_contact_rights(self):
        self._check_crud(
            self.contact_sam,
            lambda: {
                "partner_id": self.customer.id,
                "move_ids": [Command.set(self.inv_spare.ids)],
                "channel": "email",
                "outcome": "reached",
            },
            {"note": "Left a message"},
        )

    def test_worklist_rights(self):
        Worklist = self.env["collection.worklist"]
        self.assertTrue(Worklist.search([]), "the run filled the worklist")
        for group, user in self.users.items():
            rows = self._as(user, Worklist)
            with self.subTest(group):
                if group in ("internal", "portal"):
                    with self.assertRaises(AccessError):
                        rows.search([])
                    continue
                found = rows.search([])
                self.assertTrue(found)
                with self.assertRaises(AccessError):
                    found[:1].write({"summary": "x"})
                with self.assertRaises(AccessError):
                    found[:1].unlink()

    def test_wizard_rights(self):
        """Logging a contact and excluding an invoice, through their wizards."""

        def log_contact(user):
            wizard = self._as(user, self.env["collection.contact.wizard"]).create(
                {
                    "partner_id": self.customer.id,
                    "move_ids": [Command.set(self.inv_spare.ids)],
                    "outcome": "no_answer",
                }
            )
            wizard.action_log()
            self.assertTrue(self.inv_spare.collection_contact_ids)

        def exclude(user):
            wizard = self._as(user, self.env["collection.exclusion.wizard"]).create(
                {"move_ids": [Command.set(self.inv_spare.ids)], "reason": "dispute"}
            )
            wizard.action_exclude()
            self.assertTrue(self.inv_spare.collection_excluded)

        for group, user in self.users.items():
            allowed = WIZARD_RIGHTS[group]
            self._attempt(
                allowed, f"{group}: log a contact", lambda u=user: log_contact(u)
            )
            self._attempt(allowed, f"{group}: exclude", lambda u=user: exclude(u))

    # -------------------------------------------------------------------------
    # record rules: salespeople
    # -------------------------------------------------------------------------

    def test_salesperson_sees_only_their_own_collection_work(self):
        sam = self.salesperson
        Promise = self._as(sam, self.env["collection.promise"])
        Contact = self._as(sam, self.env["collection.contact"])
        Worklist = self._as(sam, self.env["collection.worklist"])
        self.assertEqual(Promise.search([]), self.promise_sam)
        self.assertEqual(Contact.search([]), self.contact_sam)
        self.assertEqual(set(Worklist.search([]).mapped("user_id")), {sam})
        for record in (self.promise_sally, self.contact_sally):
            with self.assertRaises(AccessError):
                self._as(sam, record).read(["note"])
            with self.assertRaises(AccessError):
                self._as(sam, record).write({"note": "mine now"})
        # and Sally's rows are not in Sam's worklist, nor his counts
        self.assertNotIn(self.inv_sally, Worklist.search([]).move_id)
        self.assertEqual(self._as(sam, self.inv_sally).collection_promise_count, 0)

    def test_manager_sees_every_salesperson(self):
        Promise = self._as(self.manager, self.env["collection.promise"])
        self.assertEqual(Promise.search([]), self.promise_sam | self.promise_sally)
        Worklist = self._as(self.manager, self.env["collection.worklist"])
        self.assertEqual(
            set(Worklist.search([]).mapped("user_id")),
            {self.salesperson, self.salesperson_2},
        )

    # -------------------------------------------------------------------------
    # record rules: companies
    # -------------------------------------------------------------------------

    def test_other_company_is_invisible(self):
        """Nobody sees the collection work of a company they are not allowed in."""
        for user in (self.salesperson, self.manager):
            with self.subTest(user.login):
                for record in (self.promise_b, self.contact_b, self.policy_b):
                    self.assertFalse(
                        self._as(user, record).search([("id", "=", record.id)]),
                        f"{record._name} of company B",
                    )
                    with self.assertRaises(AccessError):
                        self._as(user, record).read(["display_name"])
                self.assertFalse(
                    self._as(user, self.env["collection.worklist"]).search(
                        [("company_id", "=", self.company_b.id)]
                    )
                )
        # company B's own salesperson sees their own
        self.assertEqual(
            self._as(self.seller_b, self.env["collection.promise"]).search([]),
            self.promise_b,
        )

    def test_manager_of_two_companies_sees_only_the_active_ones(self):
        self.manager.company_ids = [Command.link(self.company_b.id)]
        Promise = self._as(self.manager, self.env["collection.promise"])
        self.assertNotIn(self.promise_b, Promise.search([]))
        both = Promise.with_context(
            allowed_company_ids=[self.company.id, self.company_b.id]
        )
        self.assertIn(self.promise_b, both.search([]))

    # -------------------------------------------------------------------------
    # portal
    # -------------------------------------------------------------------------

    def test_portal_user_sees_nothing_of_collections(self):
        """The customer's portal user reads their invoice, and nothing of its
        collection: no stage, policy, error, promise, contact or internal note."""
        invoice = self._as(self.portal, self.inv_sam_free)
        self.assertEqual(invoice.read(["name"])[0]["name"], self.inv_sam_free.name)
        self.assertTrue(self.inv_sam_free.collection_stage_id, "the run reached it")
        for fname in (
            "collection_stage_id",
            "collection_policy_id",
            "collection_next_stage_id",
            "collection_error",
            "collection_excluded",
            "collection_promise_ids",
            "collection_contact_ids",
        ):
            with self.subTest(fname), self.assertRaises(AccessError):
                invoice.read([fname])
        messages = (
            self.env["mail.message"]
            .with_user(self.portal)
            .search([("model", "=", "account.move"), ("res_id", "=", invoice.id)])
        )
        comment = self.env.ref("mail.mt_comment")
        self.assertFalse(
            messages.filtered(lambda m: m.subtype_id.internal or m.is_internal),
            "no internal note reaches the customer",
        )
        self.assertFalse(
            # what the customer sees, but the emails written to them (their total
            # due is styled with a class of the addon), says nothing of collection
            messages.filtered(
                lambda m: m.subtype_id != comment and "ollection" in (m.body or "")
            ),
            "no collection note reaches the customer",
        )
        with self.assertRaises(AccessError):
            self._as(self.portal, self.env["mail.activity"]).search(
                [("res_model", "=", "account.move"), ("res_id", "=", invoice.id)]
            )
        customer = self._as(self.portal, self.customer)
        self.assertEqual(customer.read(["name"])[0]["name"], self.customer.name)
        for fname in ("collection_reliability", "collection_promise_broken_count"):
            with self.subTest(fname), self.assertRaises(AccessError):
                customer.read([fname])

    # -------------------------------------------------------------------------
    # invoices
    # -------------------------------------------------------------------------

    def test_internal_user_cannot_change_collection_state_of_an_invoice(self):
        """Excluding from collection is a collection user's decision, with a reason
        kept in the chatter: a billing user cannot write it behind their back."""
        for fname, value in (
            ("collection_excluded", True),
            ("collection_exclusion_reason", "legal"),
        ):
            with self.subTest(fname), self.assertRaises(AccessError):
                self._as(self.internal, self.inv_spare).write({fname: value})
        self.assertFalse(self.inv_spare.collection_excluded)

    def test_invoice_form_opens_for_every_internal_group(self):
        """The invoice form (with the addon's fields) loads for a billing user
        without collection rights, and shows them to the collection groups."""
        for group in ("internal", "user", "manager"):
            user = self.users[group]
            Move = self._as(user, self.env["account.move"])
            arch = Move.get_views([(False, "form")])["views"]["form"]["arch"]
            fnames = {
                node.get("name") for node in etree.fromstring(arch).iter("field")
            } & set(Move._fields)
            with self.subTest(group):
                collection_fields = {f for f in fnames if f.startswith("collection_")}
                if group == "internal":
                    self.assertFalse(collection_fields)
                else:
                    self.assertIn("collection_stage_id", collection_fields)
                spec = {
                    fname: {"fields": {"display_name": {}}}
                    if Move._fields[fname].type == "many2one"
                    else {}
                    for fname in fnames
                    if Move._fields[fname].type not in ("one2many", "many2many")
                }
                Move.browse(self.inv_sam.id).web_read(spec)

    # -------------------------------------------------------------------------
    # aging, portfolio report: models, exports and reports
    # -------------------------------------------------------------------------

    def _aging_wizard(self, user, **vals):
        return self._as(user, self.env["collection.aging.wizard"]).create(
            {"date_at": self.today, **vals}
        )

    def _render(self, user, report_xmlid, res_ids, data=None):
        report = self._as(user, self.env["ir.actions.report"])
        return report._render_qweb_html(report_xmlid, res_ids, data=data)[0].decode()

    def test_aging_rights(self):
        for group, user in self.users.items():
            rights = RIGHTS["collection.aging.wizard"][group]
            self._attempt(
                "c" in rights,
                f"{group}: run an aging",
                lambda u=user: self._aging_wizard(u).action_export_xlsx(),
            )
        # a run belongs to whoever created it: nobody else reads it or its XLSX,
        # not even a manager
        wizard = self._aging_wizard(self.salesperson)
        wizard.action_export_xlsx()
        for user in self.users.values():
            mine = self._as(user, wizard)
            allowed = user == self.salesperson
            self._attempt(
                allowed, f"{user.login}: read", lambda m=mine: m.read(["xlsx_file"])
            )
            self._attempt(
                allowed,
                f"{user.login}: write",
                lambda m=mine: m.write({"bucket_limits": "10,20"}),
            )
            self._attempt(allowed, f"{user.login}: unlink", lambda m=mine: m.unlink())
        for user in (self.salesperson_2, self.manager):
            lines = self._as(user, self.env["collection.aging.line"]).search([])
            self.assertFalse(lines.filtered(lambda line: line.wizard_id == wizard))

    def test_aging_of_other_salespeople_or_companies_is_refused(self):
        """A salesperson's aging (screen, XLSX, PDF) only has their customers, and
        nobody gets an aging of a company they are not allowed in."""
        sam = self._aging_wizard(self.salesperson)
        sam.action_export_xlsx()
        result = sam._collection_aging_result()
        self.assertEqual({row["name"] for row in result["rows"]}, {self.customer.name})
        html = self._render(
            self.salesperson,
            "account_collections.collection_aging_report_action",
            sam.ids,
        )
        self.assertIn(self.customer.name, html)
        self.assertNotIn(self.customer_2.name, html)

        for user in (self.salesperson, self.manager):
            wizard = self._aging_wizard(
                user, company_ids=[Command.set(self.company_b.ids)]
            )
            with (
                self.subTest(user.login, output="xlsx"),
                self.assertRaises(AccessError),
            ):
                wizard.action_export_xlsx()
            self.assertFalse(wizard.xlsx_file)
            with self.subTest(user.login, output="pdf"), self.assertRaises(AccessError):
                self._render(
                    user,
                    "account_collections.collection_aging_report_action",
                    wizard.ids,
                )
            with (
                self.subTest(user.login, output="screen"),
                self.assertRaises(AccessError),
            ):
                wizard.action_view_aging()
        sally = self._aging_wizard(
            self.salesperson, user_ids=[Command.set(self.salesperson_2.ids)]
        )
        with self.assertRaises(AccessError):
            sally.action_export_xlsx()

    def test_kpi_history_rights(self):
        """Snapshots: managers read those of their companies; nobody writes,
        creates or deletes one (the system writes the history)."""
        history = self.env["collection.kpi.history"]
        for company in (self.company, self.company_b):
            history._collection_write_weeks(
                company, history._collection_week_ends(self.today, weeks=1)
            )
        snapshot = self.env["collection.kpi.snapshot"].search(
            [("company_id", "=", self.company.id), ("dimension", "=", "company")]
        )
        self.assertEqual(len(snapshot), 1)
        self._check_crud(
            snapshot,
            lambda: {
                "date": snapshot.date + timedelta(weeks=1),
                "company_id": self.company.id,
                "currency_id": self.company.currency_id.id,
                "dimension": "company",
            },
            {"receivable": 1.0},
        )
        seen = self._as(self.manager, self.env["collection.kpi.snapshot"]).search([])
        self.assertEqual(seen.company_id, self.company, "not company B's")

    def test_portfolio_report_rights(self):
        """The portfolio report (PDF, HTML, dashboard lines, delivery log) is for
        collection managers, of their own companies only."""
        report = "account_collections.action_report_portfolio_status"
        data = {"date_to": str(self.today)}
        html = self._render(self.manager, report, self.company.ids, data)
        self.assertIn(self.company.name, html)
        for group in ("internal", "user", "portal"):
            with self.subTest(group), self.assertRaises(AccessError):
                self._render(self.users[group], report, self.company.ids, data)
        with self.assertRaises(AccessError):
            self._render(self.manager, report, self.company_b.ids, data)
        # KPIs handed to the report (as the weekly delivery does) are no way round
        kpis = (
            self.env["collection.portfolio.report"]
            .sudo()
            ._collection_kpis(self.company.ids, self.today)
        )
        given = dict(data, collection_kpis={self.company.id: kpis})
        for group in ("internal", "user", "portal"):
            with self.subTest(group, kpis="given"), self.assertRaises(AccessError):
                self._render(self.users[group], report, self.company.ids, given)
        for model in ("collection.report.log", "collection.portfolio.line"):
            for group, user in self.users.items():
                allowed = "r" in RIGHTS[model][group]
                self._attempt(
                    allowed,
                    f"{group}: {model}",
                    lambda u=user, m=model: self._as(u, self.env[m]).search([]),
                )
