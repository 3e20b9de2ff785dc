import io
import re
from datetime import datetime, timedelta

from werkzeug.datastructures import FileStorage

from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import hash_sign, mute_logger

from odoo.addons.account_collections.models.collection_portal import TOKEN_SCOPE

from .common_portal import PDF, PortalCommon


@tagged("post_install", "-at_install")
class TestPortalPage(PortalCommon, HttpCase):
    """/my/collections: who sees what."""

    def test_portal_user_sees_own_customer_invoices_only(self):
        self.authenticate("paula", "paula")
        response = self._page()
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.invoice_1.name, response.text)
        self.assertIn(self.invoice_2.name, response.text)
        self.assertNotIn(self.invoice_other.name, response.text)
        self.assertNotIn(self.customer_2.name, response.text)
        # total and aging: 2,000.00 due, 1,200.00 of it 1-30 days overdue
        self.assertIn("2,000.00", response.text)
        self.assertIn("1,200.00", response.text)

    def test_token_of_a_collection_email_opens_the_customers_page(self):
        response = self._page(self._token())
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.invoice_1.name, response.text)
        self.assertNotIn(self.invoice_other.name, response.text)

    def test_collection_email_links_to_the_page(self):
        self.stage_overdue.mail_template_id = self.env.ref(
            "account_collections.mail_template_collection_overdue"
        )
        self._run(self.today)
        mail = self.env["mail.mail"].search(
            [("model", "=", "account.move"), ("res_id", "=", self.invoice_1.id)]
        )
        self.assertEqual(len(mail), 1)
        token = mail.body_html.split("/my/collections?access_token=")[1].split('"')[0]
        self.assertIn(self.invoice_1.name, self._page(token).text)

    def test_invoice_portal_page_leads_its_customer_to_the_answers(self):
        # whoever holds the invoice's link gets that invoice, not a link to the
        # customer's page (see test_portal_invoice_access)
        response = self.url_open(self.invoice_1.get_portal_url())
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("o_collection_answer_link", response.text)
        self.assertNotIn("/my/collections", response.text)
        # the customer's portal user goes to their own page
        self.authenticate("paula", "paula")
        response = self.url_open(self.invoice_1.get_portal_url())
        self.assertIn('o_collection_answer_link" href="/my/collections"', response.text)

    def test_invoice_portal_page_has_the_answers_of_that_invoice(self):
        response = self.url_open(self.invoice_1.get_portal_url())
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_collection_invoice_answers", response.text)
        # the forms answer for this invoice only, with the invoice link's token
        self.assertIn(f'value="{self.invoice_1.id}"', response.text)
        self.assertNotIn(f'value="{self.invoice_2.id}"', response.text)
        token = re.search(r'name="access_token" value="([^"]+)"', response.text).group(
            1
        )
        self.assertEqual(token, self.invoice_1.access_token)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)
        answer = self.url_open(
            f"/my/invoices/{self.invoice_1.id}/collections/promise",
            data=[
                *self._promise_data(self.invoice_1, amount=300.0),
                ("csrf_token", csrf),
                ("access_token", token),
            ],
            allow_redirects=False,
        )
        self.assertEqual(answer.status_code, 303, answer.text[:300])
        promise = self.env["collection.promise"].sudo().search([])
        self.assertEqual(promise.move_ids, self.invoice_1)
        self.assertEqual(promise.source, "portal")
        # a paid invoice's page has no answers
        self._pay(self.invoice_2)
        response = self.url_open(self.invoice_2.get_portal_url())
        self.assertNotIn("o_collection_invoice_answers", response.text)

    def test_anonymous_without_token_is_sent_to_login(self):
        response = self.url_open("/my/collections", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login", response.headers["Location"])

    def test_wrong_or_expired_token_is_forbidden(self):
        expired = hash_sign(
            self.env,
            TOKEN_SCOPE,
            {"p": self.customer.id, "c": self.company.id, "a": self.customer.id},
            expiration=datetime.now() - timedelta(hours=1),
        )
        forged = self._token()[:-4] + "AAAA"
        invoice_token = self.invoice_1._portal_ensure_token()
        for token in (expired, forged, invoice_token, "garbage"):
            self.assertEqual(self._page(token).status_code, 403, token)

    def test_page_in_the_customers_language(self):
        self._load_spanish()
        self.customer.lang = "es_ES"
        token = self._token()
        response = self._page(token)
        self.assertIn("Prometer pagar", response.text)
        self.assertNotIn("Promise to pay", response.text)
        # and so are its refusals
        response = self._answer(
            "promise", self._promise_data(self.invoice_1, days=-1), token
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("La fecha de pago debe ser hoy o un día posterior", response.text)

    def test_token_shows_the_invoices_of_its_company_only(self):
        company_2 = self.setup_other_company(name="Other Company")["company"]
        invoice_company_2 = self._post_invoice(
            self.today - timedelta(days=3), company=company_2
        )
        page = self._page(self._token()).text
        self.assertIn(self.invoice_1.name, page)
        self.assertNotIn("Other Company", page)
        self.assertNotIn(f'value="{invoice_company_2.id}"', page)
        # nor may it answer for them
        before = self._answers()
        response = self._answer(
            "promise", self._promise_data(invoice_company_2), self._token()
        )
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self._answers(), before)
        # the other company's token shows them
        page = self._page(self._token(company=company_2)).text
        self.assertIn("Other Company", page)
        self.assertIn(f'value="{invoice_company_2.id}"', page)
        self.assertNotIn(f'value="{self.invoice_1.id}"', page)


@tagged("post_install", "-at_install")
class TestPortalRefusals(PortalCommon, HttpCase):
    """Every refusal of the security list: each writes nothing."""

    def assertNothingWritten(self, before):
        self.env.invalidate_all()
        self.assertEqual(self._answers(), before)
        self.assertFalse(self.invoice_1.collection_paused_until)

    def test_forged_invoice_id_is_not_found(self):
        before = self._answers()
        token = self._token()
        for moves in (self.invoice_other, self.invoice_1 | self.invoice_other):
            response = self._answer("promise", self._promise_data(moves), token)
            self.assertEqual(response.status_code, 404)
        response = self._answer(
            "dispute",
            [("move_id", "999999"), ("reason", "other"), ("message", "x")],
            token,
        )
        self.assertEqual(response.status_code, 404)
        response = self._answer(
            "dispute", self._dispute_data(self.invoice_other), token
        )
        self.assertEqual(response.status_code, 404)
        self.authenticate("paula", "paula")
        response = self._answer("promise", self._promise_data(self.invoice_other))
        self.assertEqual(response.status_code, 404)
        self.assertNothingWritten(before)

    def test_other_customers_token_reaches_only_that_customer(self):
        before = self._answers()
        token = self._token(self.customer_2)
        response = self._answer("promise", self._promise_data(self.invoice_1), token)
        self.assertEqual(response.status_code, 404)
        self.assertNothingWritten(before)

    def test_wrong_or_expired_token_writes_nothing(self):
        before = self._answers()
        expired = hash_sign(
            self.env,
            TOKEN_SCOPE,
            {"p": self.customer.id, "c": self.company.id, "a": self.customer.id},
            expiration=datetime.now() - timedelta(hours=1),
        )
        csrf = self._csrf(self._token())
        for token in (expired, self.invoice_1._portal_ensure_token()):
            response = self.url_open(
                "/my/collections/promise",
                data=[
                    *self._promise_data(self.invoice_1),
                    ("csrf_token", csrf),
                    ("access_token", token),
                ],
                allow_redirects=False,
            )
            self.assertEqual(response.status_code, 403)
        self.assertNothingWritten(before)

    @mute_logger("odoo.http")  # Odoo warns of each request without its token
    def test_missing_csrf_token_is_refused(self):
        before = self._answers()
        response = self._answer(
            "promise", self._promise_data(self.invoice_1), self._token(), csrf=False
        )
        self.assertEqual(response.status_code, 400)
        self.authenticate("paula", "paula")
        response = self._answer(
            "dispute", self._dispute_data(self.invoice_1), csrf=False
        )
        self.assertEqual(response.status_code, 400)
        self.assertNothingWritten(before)

    def test_bad_attachment_is_refused(self):
        before = self._answers()
        token = self._token()
        not_a_pdf = b"#!/bin/sh\nrm -rf /\n"
        response = self._answer(
            "dispute",
            self._dispute_data(self.invoice_1),
            token,
            files=[("attachments", ("invoice.pdf", not_a_pdf, "application/pdf"))],
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("is not a PDF or an image", response.text)
        # over 10 MB: Odoo's request parser refuses it before the form is read
        too_large = PDF + b"0" * (10 * 1024 * 1024)
        response = self._answer(
            "dispute",
            self._dispute_data(self.invoice_1),
            token,
            files=[("attachments", ("big.pdf", too_large, "application/pdf"))],
        )
        self.assertGreaterEqual(response.status_code, 400)
        self.assertNothingWritten(before)
        # and the form's own check, should a parser let it through
        upload = FileStorage(io.BytesIO(too_large), filename="big.pdf")
        with self.assertRaisesRegex(UserError, "is larger than 10 MB"):
            self.Portal._collection_check_files([upload])

    def test_bad_input_is_refused_with_a_message(self):
        before = self._answers()
        token = self._token()
        self._pay(self.invoice_2)
        cases = [
            (self._promise_data(self.invoice_1, days=-1), "today or a later day"),
            (self._promise_data(self.invoice_1, days=31), "more than 30 days away"),
            (
                self._promise_data(self.invoice_1, amount=1200.01),
                "more than what is due",
            ),
            (self._promise_data(self.invoice_1, amount=-5), "greater than zero"),
            (self._promise_data(self.invoice_1, amount="nan"), "valid amount"),
            (self._promise_data(self.invoice_2), "not open any more"),
            (self._promise_data(self.invoice_1.browse()), "at least one invoice"),
        ]
        for data, message in cases:
            response = self._answer("promise", data, token)
            self.assertEqual(response.status_code, 400, message)
            self.assertIn(message, response.text)
        self.assertNothingWritten(before)

    def test_over_the_daily_limit_is_refused_and_the_salesperson_told(self):
        token = self._token()
        for _index in range(10):
            self.Portal._collection_check_rate(self.customer)
            self.env["collection.dispute"].sudo().create(
                {
                    "company_id": self.company.id,
                    "move_id": self.invoice_2.id,
                    "partner_id": self.customer.id,
                    "reason": "other",
                    "message": "test",
                    "state": "rejected",
                }
            )
        before = self._answers()
        response = self._answer("promise", self._promise_data(self.invoice_1), token)
        self.assertEqual(response.status_code, 429)
        self.assertIn("the most we take in a day", response.text)
        self.assertNothingWritten(before)
        activity = self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
        )
        self.assertEqual(activity.user_id, self.salesperson)
        # told once a day
        self._answer("promise", self._promise_data(self.invoice_1), token)
        self.assertEqual(
            self.env["mail.activity"].search_count(
                [("res_model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
            ),
            1,
        )
