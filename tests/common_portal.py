import re
from datetime import timedelta

from odoo import Command, fields

from .common import CollectionCommon

ERROR_RE = re.compile(r'o_collection_error" role="alert">(.*?)</div>', re.S)
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


class PortalCommon(CollectionCommon):
    """A customer with a portal user, two open invoices (one overdue), another
    customer with one; the pages and forms of /my/collections over HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.today()
        cls.portal_contact = cls.env["res.partner"].create(
            {
                "name": "Paula Portal",
                "email": "paula@acme.example",
                "parent_id": cls.customer.id,
            }
        )
        cls.portal_user = (
            cls.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "login": "paula",
                    "password": "paula",
                    "partner_id": cls.portal_contact.id,
                    "company_id": cls.company.id,
                    "company_ids": [Command.set(cls.company.ids)],
                    "groups_id": [Command.set([cls.env.ref("base.group_portal").id])],
                }
            )
        )
        cls.invoice_1 = cls._post_invoice(cls.today - timedelta(days=3), amount=1200.0)
        cls.invoice_2 = cls._post_invoice(cls.today + timedelta(days=5), amount=800.0)
        cls.invoice_other = cls._post_invoice(
            cls.today - timedelta(days=3), amount=500.0, partner=cls.customer_2
        )
        cls.Portal = cls.env["collection.portal"]

    def _token(self, partner=None, company=None):
        return self.Portal._collection_portal_token(
            partner or self.customer, company or self.company
        )

    def _page(self, token=None):
        url = "/my/collections"
        if token:
            url += f"?access_token={token}"
        return self.url_open(url)

    def _csrf(self, token=None):
        response = self._page(token)
        self.assertEqual(response.status_code, 200, response.text[:500])
        return CSRF_RE.search(response.text).group(1)

    def _answer(self, kind, data, token=None, files=None, csrf=True):
        """POST an answer as the page's form would (``data`` a list of pairs)."""
        data = list(data)
        if csrf:
            data.append(("csrf_token", self._csrf(token)))
        if token:
            data.append(("access_token", token))
        return self.url_open(
            f"/my/collections/{kind}", data=data, files=files, allow_redirects=False
        )

    def _error(self, response):
        """The error the page shows, if any."""
        found = ERROR_RE.search(response.text)
        return found and found.group(1)

    def _promise_data(self, moves, amount=500.0, days=7):
        return [
            *(("move_ids", str(move.id)) for move in moves),
            ("promised_date", str(self.today + timedelta(days=days))),
            ("amount", str(amount)),
        ]

    def _dispute_data(self, move, reason="wrong_amount", message="Price is wrong"):
        return [("move_id", str(move.id)), ("reason", reason), ("message", message)]

    def _answers(self):
        """Everything the portal writes: promises, disputes, claims."""
        return (
            self.env["collection.promise"].sudo().search([]),
            self.env["collection.dispute"].sudo().search([]),
            self.env["collection.payment.claim"].sudo().search([]),
        )
