from datetime import timedelta

from odoo.tests import HttpCase, tagged

from .common_portal import PortalCommon


@tagged("post_install", "-at_install")
class TestPortalStatement(PortalCommon, HttpCase):
    """The customer downloads its statement from /my/collections: only its own,
    of the companies the request acts for."""

    def _statement(self, company, token=None):
        url = f"/my/collections/statement?company_id={company.id}"
        if token:
            url += f"&access_token={token}"
        return self.url_open(url, allow_redirects=False)

    def test_portal_user_and_email_link_download_the_statement(self):
        self.authenticate("paula", "paula")
        page = self._page().text
        self.assertIn("/my/collections/statement?", page)
        response = self._statement(self.company)
        self.assertEqual(response.status_code, 200)
        # the statement of the customer (HTML when reports are not rendered to
        # PDF, as in tests): its invoices, not the other customer's
        self.assertIn(self.invoice_1.name, response.text)
        self.assertIn(self.invoice_2.name, response.text)
        self.assertNotIn(self.invoice_other.name, response.text)
        self.assertNotIn(self.customer_2.name, response.text)
        # anonymous, with the link of a collection email
        self.logout()
        response = self._statement(self.company, self._token())
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.invoice_1.name, response.text)

    def test_statement_of_another_company_or_with_a_bad_token_is_refused(self):
        company_2 = self.setup_other_company(name="Other Company")["company"]
        self._post_invoice(self.today - timedelta(days=3), company=company_2)
        # a token of company 1 does not reach company 2's statement
        response = self._statement(company_2, self._token())
        self.assertEqual(response.status_code, 404)
        # a forged or wrong token
        response = self._statement(self.company, self._token()[:-4] + "AAAA")
        self.assertEqual(response.status_code, 403)
        # the other customer's token shows the other customer only
        response = self._statement(self.company, self._token(self.customer_2))
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.invoice_other.name, response.text)
        self.assertNotIn(self.invoice_1.name, response.text)
        # anonymous without token: to the login page
        response = self._statement(self.company)
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login", response.headers["Location"])
        # a company id that is not a number
        response = self.url_open(
            f"/my/collections/statement?company_id=x&access_token={self._token()}",
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 404)
