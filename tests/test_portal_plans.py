from datetime import timedelta

from odoo.tests import HttpCase, tagged

from .common_portal import PortalCommon


@tagged("post_install", "-at_install")
class TestPortalPlans(PortalCommon, HttpCase):
    """The customer's open and broken payment plans on /my/collections and on
    the portal page of each invoice an open plan covers: its own only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()

        def days(count):
            return cls.today + timedelta(days=count)

        cls.plan = cls._plan(cls.invoice_1, [(days(10), 700.0), (days(40), 500.0)])
        # another customer's plan: amounts found nowhere else
        cls.plan_other = cls._plan(
            cls.invoice_other,
            [(days(12), 123.45), (days(42), 376.55)],
            user=cls.salesperson,
        )

    @classmethod
    def _plan(cls, moves, installments, user=None):
        return (
            cls.env["collection.plan"]
            .with_user(user or cls.salesperson)
            .create(
                {
                    "move_ids": [(6, 0, moves.ids)],
                    "installment_ids": [
                        (0, 0, {"date": date, "amount": amount})
                        for date, amount in installments
                    ],
                }
            )
        )

    def assertOwnPlanOnly(self, text):
        self.assertIn("o_collection_plan_installments", text)
        self.assertIn(f'data-plan="{self.plan.id}"', text)
        self.assertIn("700.00", text)
        self.assertIn("500.00", text)
        self.assertNotIn(f'data-plan="{self.plan_other.id}"', text)
        self.assertNotIn("123.45", text)
        self.assertNotIn("376.55", text)

    def test_my_collections_lists_the_customers_plans(self):
        self.authenticate("paula", "paula")
        response = self._page()
        self.assertEqual(response.status_code, 200)
        self.assertIn("Your payment plans", response.text)
        self.assertOwnPlanOnly(response.text)
        # with the link of a collection email, the same
        self.authenticate(None, None)
        self.assertOwnPlanOnly(self._page(self._token()).text)

    def test_other_customers_login_and_forged_tokens_see_nothing_of_it(self):
        other_contact = self.env["res.partner"].create(
            {"name": "Gina Globex", "parent_id": self.customer_2.id}
        )
        self.env["res.users"].with_context(no_reset_password=True).create(
            {
                "login": "gina",
                "password": "gina",
                "partner_id": other_contact.id,
                "company_id": self.company.id,
                "company_ids": [(6, 0, self.company.ids)],
                "groups_id": [(6, 0, [self.env.ref("base.group_portal").id])],
            }
        )
        self.authenticate("gina", "gina")
        text = self._page().text
        self.assertIn(f'data-plan="{self.plan_other.id}"', text)
        self.assertNotIn(f'data-plan="{self.plan.id}"', text)
        self.assertNotIn("700.00", text)
        # the other customer's login on our invoice's page: not shown
        response = self.url_open(f"/my/invoices/{self.invoice_1.id}")
        self.assertNotIn("o_collection_plan", response.text)
        self.assertNotIn("700.00", response.text)
        self.authenticate(None, None)
        # a forged token, the other customer's invoice token on our invoice
        for url in (
            "/my/collections?access_token=forged",
            f"/my/invoices/{self.invoice_1.id}?access_token=forged",
            f"/my/invoices/{self.invoice_1.id}?access_token="
            f"{self.invoice_other._portal_ensure_token()}",
            f"/my/collections?access_token={self._token(self.customer_2)}",
        ):
            with self.subTest(url=url):
                response = self.url_open(url)
                self.assertNotIn(f'data-plan="{self.plan.id}"', response.text)
                self.assertNotIn("700.00", response.text)

    def test_invoice_page_shows_its_open_plan(self):
        response = self.url_open(self.invoice_1.get_portal_url())
        self.assertEqual(response.status_code, 200)
        self.assertIn("Payment plan of this invoice", response.text)
        self.assertOwnPlanOnly(response.text)
        # an invoice no plan covers: no plan on its page
        response = self.url_open(self.invoice_2.get_portal_url())
        self.assertNotIn("o_collection_plan", response.text)
        # a cancelled plan is no longer shown
        self.plan.sudo().action_cancel()
        response = self.url_open(self.invoice_1.get_portal_url())
        self.assertNotIn("o_collection_plan", response.text)

    def test_broken_plan_shows_with_its_late_installment(self):
        self.plan.sudo().write({"state": "broken"})
        self.plan.installment_ids[0].sudo().write({"state": "late"})
        self.authenticate("paula", "paula")
        text = self._page().text
        self.assertOwnPlanOnly(text)
        self.assertIn("Broken", text)
        self.assertIn("Late", text)
        # on the invoice's page: open plans only
        response = self.url_open(self.invoice_1.get_portal_url())
        self.assertNotIn("o_collection_plan", response.text)
