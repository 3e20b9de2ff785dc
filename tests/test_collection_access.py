from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import DUE, day
from .common_promises import PromiseCommon


@tagged("post_install", "-at_install")
class TestCollectionAccess(PromiseCommon):
    """A salesperson sees the contacts and promises they logged or that concern
    their invoices, not another salesperson's; a manager sees all of them within
    the allowed companies."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sam_invoice = cls._post_invoice(DUE)
        cls.sally_invoice = cls._post_invoice(DUE, user=cls.salesperson_2)

    def _records(self, model, user):
        return self.env[model].with_user(user).search([])

    def test_salespeople_see_only_their_own(self):
        sam_contact = self._log_contact(
            self.sam_invoice, on=day(1), outcome="promise", promised_date=day(5)
        )
        sally_contact = self._log_contact(
            self.sally_invoice, on=day(1), user=self.salesperson_2, outcome="no_answer"
        )
        sally_promise = self._promise(
            self.sally_invoice, day(6), user=self.salesperson_2
        )
        sam_promise = sam_contact.promise_id

        self.assertEqual(
            self._records("collection.contact", self.salesperson), sam_contact
        )
        self.assertEqual(
            self._records("collection.promise", self.salesperson), sam_promise
        )
        self.assertEqual(
            self._records("collection.contact", self.salesperson_2), sally_contact
        )
        self.assertEqual(
            self._records("collection.promise", self.salesperson_2), sally_promise
        )
        for user, record in [
            (self.salesperson, sally_contact),
            (self.salesperson, sally_promise),
            (self.salesperson_2, sam_contact),
            (self.salesperson_2, sam_promise),
        ]:
            label = f"{user.name} on {record._name}"
            with self.assertRaises(AccessError, msg=label):
                record.with_user(user).read(["partner_id"])
            with self.assertRaises(AccessError, msg=label):
                record.with_user(user).write({"note": "hijacked"})
        # the invoice form only counts what the user may see
        self.assertEqual(
            self.sam_invoice.with_user(self.salesperson_2).collection_promise_count, 0
        )
        self.assertEqual(
            self.sam_invoice.with_user(self.salesperson).collection_promise_count, 1
        )

        self.assertEqual(
            self._records("collection.contact", self.manager),
            sam_contact | sally_contact,
        )
        self.assertEqual(
            self._records("collection.promise", self.manager),
            sam_promise | sally_promise,
        )

    def test_contact_on_a_colleagues_invoice(self):
        """Sally covers for Sam: she sees what she logged, he sees it on his
        invoice."""
        contact = self._log_contact(
            self.sam_invoice,
            on=day(1),
            user=self.salesperson_2,
            outcome="promise",
            promised_date=day(5),
        )
        self.assertEqual(contact.promise_id.user_id, self.salesperson, "Sam follows it")
        for user in (self.salesperson, self.salesperson_2):
            self.assertEqual(self._records("collection.contact", user), contact)
            self.assertEqual(
                self._records("collection.promise", user), contact.promise_id
            )

    def test_manager_limited_to_allowed_companies(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        seller_b = self._create_collection_user(
            "seller_b", "Bea Seller", company=company_b
        )
        invoice_b = self._post_invoice(DUE, user=seller_b, company=company_b)
        promise_b = self._promise(invoice_b, day(6), user=self.env.user)
        promise_a = self._promise(self.sam_invoice, day(6))
        self.assertEqual(promise_b.company_id, company_b)
        self.assertEqual(self._records("collection.promise", self.manager), promise_a)
        with self.assertRaises(AccessError):
            promise_b.with_user(self.manager).read(["amount"])
        self.manager.company_ids |= company_b
        manager_env = (
            self.env["collection.promise"]
            .with_user(self.manager)
            .with_context(allowed_company_ids=[self.company.id, company_b.id])
        )
        self.assertEqual(manager_env.search([]), promise_a | promise_b)
        self.assertEqual(self._records("collection.promise", seller_b), promise_b)

    def test_salesperson_cannot_delete_promises(self):
        promise = self._promise(self.sam_invoice, day(6))
        with self.assertRaises(AccessError):
            promise.with_user(self.salesperson).unlink()
