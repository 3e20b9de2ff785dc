from werkzeug.exceptions import Forbidden, NotFound
from werkzeug.urls import url_encode

from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal

from ..models.collection_portal import CollectionRateLimitError


class CollectionCustomerPortal(CustomerPortal):
    """The customer's collections page: a portal user of the customer, or
    whoever follows the (signed, expiring) link of a collection email. Thin:
    every check is collection.portal's."""

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "collection_invoice_count" in counters:
            user = request.env.user
            values["collection_invoice_count"] = len(
                request.env["collection.portal"]._collection_open_invoices(
                    user.partner_id, user.company_ids
                )
            )
        return values

    def _collection_identify(self, access_token):
        """``(customer, companies, author)`` the request acts for; None for an
        anonymous visitor without token; Forbidden for a wrong or expired
        token."""
        if access_token:
            found = request.env["collection.portal"]._collection_token_customer(
                access_token
            )
            if not found:
                raise Forbidden()
            customer, company, author = found
            lang = author.lang or customer.lang
            if lang in dict(request.env["res.lang"].get_installed()):
                request.update_context(lang=lang)
            return customer, company, author
        user = request.env.user
        if user._is_public():
            return None
        return user.partner_id.commercial_partner_id, user.company_ids, user.partner_id

    @http.route(
        "/my/collections", type="http", auth="public", website=True, methods=["GET"]
    )
    def portal_my_collections(self, access_token=None, answered=None, **kw):
        identity = self._collection_identify(access_token)
        if identity is None:
            return request.redirect("/web/login?redirect=/my/collections")
        return self._collection_render(identity, access_token, answered=answered)

    def _collection_render(
        self, identity, access_token, error=None, answered=None, status=200
    ):
        customer, companies, _author = identity
        values = self._prepare_portal_layout_values()
        values.update(
            request.env["collection.portal"]._collection_page_values(
                customer, companies
            )
        )
        values.update(
            {
                "page_name": "collections",
                "customer": customer,
                "access_token": access_token,
                "error": error,
                "answered": answered
                if answered in ("promise", "dispute", "paid")
                else None,
            }
        )
        return request.render(
            "account_collections.portal_my_collections", values, status=status
        )

    @http.route(
        "/my/collections/statement",
        type="http",
        auth="public",
        website=True,
        methods=["GET"],
    )
    def portal_collections_statement(self, company_id=None, access_token=None, **kw):
        """The customer statement (PDF) of one of the companies the request acts
        for: a company outside them is not found."""
        identity = self._collection_identify(access_token)
        if identity is None:
            return request.redirect("/web/login?redirect=/my/collections")
        customer, companies, _author = identity
        try:
            company = companies.filtered(lambda c: c.id == int(company_id or 0))
        except ValueError as error:
            raise NotFound() from error
        if not company:
            raise NotFound()
        content, kind = request.env["collection.portal"]._collection_statement(
            customer, company
        )
        mimetype = "application/pdf" if kind == "pdf" else "text/html"
        return request.make_response(
            content,
            headers=[
                ("Content-Type", mimetype),
                ("Content-Length", len(content)),
                ("Content-Disposition", 'inline; filename="statement.pdf"'),
            ],
        )

    def _collection_answer(self, kind, access_token, submit):
        """Run ``submit(portal, customer, companies, author)`` in a savepoint:
        on bad input the page says why and nothing is written."""
        identity = self._collection_identify(access_token)
        if identity is None:
            raise Forbidden()
        customer, companies, author = identity
        portal = request.env["collection.portal"]
        try:
            with request.env.cr.savepoint():
                submit(portal, customer, companies, author)
        except MissingError as error:
            raise NotFound() from error
        except AccessError:
            raise
        except CollectionRateLimitError as error:
            portal._collection_report_rate_limit(customer, companies)
            return self._collection_render(
                identity, access_token, error=error.args[0], status=429
            )
        except (UserError, ValidationError) as error:
            return self._collection_render(
                identity, access_token, error=error.args[0], status=400
            )
        query = {"answered": kind}
        if access_token:
            query["access_token"] = access_token
        return request.redirect(f"/my/collections?{url_encode(query)}")

    @http.route(
        "/my/collections/promise",
        type="http",
        auth="public",
        website=True,
        methods=["POST"],
    )
    def portal_collections_promise(self, access_token=None, **post):
        move_ids = request.httprequest.form.getlist("move_ids")

        def submit(portal, customer, companies, author):
            moves = portal._collection_customer_moves(customer, companies, move_ids)
            portal.env["collection.portal.answer"]._collection_submit_promise(
                customer, author, moves, post.get("promised_date"), post.get("amount")
            )

        return self._collection_answer("promise", access_token, submit)

    @http.route(
        "/my/collections/dispute",
        type="http",
        auth="public",
        website=True,
        methods=["POST"],
    )
    def portal_collections_dispute(self, access_token=None, **post):
        files = request.httprequest.files.getlist("attachments")

        def submit(portal, customer, companies, author):
            move = portal._collection_customer_moves(
                customer, companies, [post.get("move_id")]
            )
            portal.env["collection.portal.answer"]._collection_submit_dispute(
                customer, author, move, post.get("reason"), post.get("message"), files
            )

        return self._collection_answer("dispute", access_token, submit)

    @http.route(
        "/my/collections/paid",
        type="http",
        auth="public",
        website=True,
        methods=["POST"],
    )
    def portal_collections_paid(self, access_token=None, **post):
        move_ids = request.httprequest.form.getlist("move_ids")
        files = request.httprequest.files.getlist("proof")

        def submit(portal, customer, companies, author):
            moves = portal._collection_customer_moves(customer, companies, move_ids)
            portal.env["collection.portal.answer"]._collection_submit_claim(
                customer,
                author,
                moves,
                post.get("payment_date"),
                post.get("amount"),
                post.get("reference"),
                files,
            )

        return self._collection_answer("paid", access_token, submit)
