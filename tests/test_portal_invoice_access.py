import re
from urllib.parse import unquote

from odoo import Command
from odoo.tests import HttpCase, tagged

from .common_portal import CSRF_RE, PortalCommon

# every token a page hands out: in a link, or in a form's hidden field
TOKEN_RES = (
    re.compile(r"access_token=([^\"&\s]+)"),
    re.compile(r'name="access_token" value="([^"]+)"'),
)
FORM_RE = re.compile(
    r'<form class="card o_collection_(\w+)_form"[^>]*\baction="([^"]+)"'
)


@tagged("post_install", "-at_install")
class TestPortalInvoicePageAccess(PortalCommon, HttpCase):
    """The portal page of an invoice opens that invoice, nothing more: not the
    collections page of its customer, whoever the visitor (another customer's
    portal user who follows the invoice, or whoever holds its link)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a portal user of customer Two, follower of one invoice of customer One
        cls.intruder = (
            cls.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "login": "tina",
                    "password": "tina",
                    "partner_id": cls.env["res.partner"]
                    .create(
                        {
                            "name": "Tina Two",
                            "email": "tina@globex.example",
                            "parent_id": cls.customer_2.id,
                        }
                    )
                    .id,
                    "company_id": cls.company.id,
                    "company_ids": [Command.set(cls.company.ids)],
                    "groups_id": [Command.set([cls.env.ref("base.group_portal").id])],
                }
            )
        )
        cls.invoice_1.message_subscribe(partner_ids=cls.intruder.partner_id.ids)

    def _tokens(self, text):
        return {
            unquote(token.replace("&amp;", "&"))
            for token_re in TOKEN_RES
            for token in token_re.findall(text)
        }

    def _forms(self, text):
        """``{kind: action}`` of the answer forms of a page."""
        return {
            kind: action.replace("&amp;", "&") for kind, action in FORM_RE.findall(text)
        }

    def assertOpensNothingElse(self, page):
        """No token of ``page`` opens the customer's collections page, its
        statement, or an answer for another invoice of the customer."""
        self.assertNotIn("/my/collections?access_token=", page)
        before = self._answers()
        for token in self._tokens(page):
            with self.subTest(token=token):
                response = self._page(token)
                self.assertNotIn(self.invoice_2.name, response.text)
                self.assertNotEqual(response.status_code, 200)
                response = self.url_open(
                    f"/my/collections/statement?company_id={self.company.id}"
                    f"&access_token={token}"
                )
                self.assertNotEqual(response.status_code, 200)
                response = self.url_open(
                    "/my/collections/promise",
                    data=[
                        *self._promise_data(self.invoice_2),
                        ("csrf_token", CSRF_RE.search(page).group(1)),
                        ("access_token", token),
                    ],
                    allow_redirects=False,
                )
                self.assertNotEqual(response.status_code, 303)
        self.env.invalidate_all()
        self.assertEqual(self._answers(), before)

    def assertAnswersThisInvoiceOnly(self, page):
        """The page's forms answer for its invoice; a forged id of another
        invoice of the customer is not found, and nothing is written."""
        forms = self._forms(page)
        self.assertEqual(set(forms), {"promise", "dispute", "paid"})
        hidden = [
            ("csrf_token", CSRF_RE.search(page).group(1)),
            *(("access_token", token) for token in self._tokens(page)),
        ]
        before = self._answers()
        for moves in (self.invoice_2, self.invoice_1 | self.invoice_2):
            response = self.url_open(
                forms["promise"],
                data=[*self._promise_data(moves), *hidden],
                allow_redirects=False,
            )
            self.assertEqual(response.status_code, 404, moves)
        response = self.url_open(
            forms["dispute"],
            data=[*self._dispute_data(self.invoice_2), *hidden],
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 404)
        self.env.invalidate_all()
        self.assertEqual(self._answers(), before)
        # the invoice of the page itself: answered
        response = self.url_open(
            forms["promise"],
            data=[*self._promise_data(self.invoice_1, amount=300.0), *hidden],
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303, self._error(response))
        promise = self.env["collection.promise"].sudo().search([])
        self.assertEqual(promise.move_ids, self.invoice_1)
        self.assertEqual(promise.partner_id, self.customer)
        self.assertEqual(promise.source, "portal")
        # back on the invoice's page, which says so
        response = self.url_open(response.headers["Location"])
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_collection_answered", response.text)
        return promise

    def test_other_customers_follower_gets_that_invoice_only(self):
        self.authenticate("tina", "tina")
        response = self.url_open(f"/my/invoices/{self.invoice_1.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.invoice_1.name, response.text)
        self.assertNotIn("o_collection_answer_link", response.text)
        self.assertOpensNothingElse(response.text)
        # their own collections page is their own customer's
        page = self._page().text
        self.assertIn(self.invoice_other.name, page)
        self.assertNotIn(self.invoice_2.name, page)
        promise = self.assertAnswersThisInvoiceOnly(response.text)
        # made by the follower, not in the name of the customer's contact
        message = self.invoice_1.message_ids.filtered(
            lambda m: "Promise to pay made on the portal" in m.body
        )
        self.assertEqual(message.author_id, self.intruder.partner_id)
        self.assertEqual(promise.partner_id, self.customer)

    def test_holder_of_the_invoice_link_gets_that_invoice_only(self):
        response = self.url_open(self.invoice_1.get_portal_url())
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("o_collection_answer_link", response.text)
        self.assertOpensNothingElse(response.text)
        self.assertAnswersThisInvoiceOnly(response.text)

    def test_invoice_link_answers_for_no_other_invoice(self):
        """The token of one invoice, sent to the route of another (of the same
        customer, or another's) with a forged id: refused, nothing written."""
        page = self.url_open(self.invoice_1.get_portal_url()).text
        csrf = CSRF_RE.search(page).group(1)
        token = self.invoice_1._portal_ensure_token()
        before = self._answers()
        for invoice in (self.invoice_2, self.invoice_other):
            response = self.url_open(
                f"/my/invoices/{invoice.id}/collections/promise",
                data=[
                    *self._promise_data(invoice),
                    ("csrf_token", csrf),
                    ("access_token", token),
                ],
                allow_redirects=False,
            )
            self.assertEqual(response.status_code, 403, invoice.name)
        # nor without any token, logged in as another customer's user
        self.authenticate("tina", "tina")
        page = self.url_open(f"/my/invoices/{self.invoice_1.id}").text
        response = self.url_open(
            f"/my/invoices/{self.invoice_2.id}/collections/promise",
            data=[
                *self._promise_data(self.invoice_2),
                ("csrf_token", CSRF_RE.search(page).group(1)),
            ],
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 403)
        self.env.invalidate_all()
        self.assertEqual(self._answers(), before)

    def test_customers_own_user_is_led_to_their_page(self):
        self.authenticate("paula", "paula")
        response = self.url_open(f"/my/invoices/{self.invoice_1.id}")
        self.assertIn('o_collection_answer_link" href="/my/collections"', response.text)
        self.assertIn(self.invoice_2.name, self._page().text)
        promise = self.assertAnswersThisInvoiceOnly(response.text)
        message = self.invoice_1.message_ids.filtered(
            lambda m: "Promise to pay made on the portal" in m.body
        )
        self.assertEqual(message.author_id, self.portal_contact)
        self.assertEqual(promise.partner_id, self.customer)

    def test_refusal_is_shown_on_the_invoice_page(self):
        response = self.url_open(self.invoice_1.get_portal_url())
        forms = self._forms(response.text)
        response = self.url_open(
            forms["promise"],
            data=[
                *self._promise_data(self.invoice_1, days=-1),
                ("csrf_token", CSRF_RE.search(response.text).group(1)),
                *(("access_token", t) for t in self._tokens(response.text)),
            ],
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("today or a later day", self._error(response))
        self.assertIn(self.invoice_1.name, response.text)
        self.assertNotIn(self.invoice_2.name, response.text)
        self.assertFalse(self._answers()[0])
