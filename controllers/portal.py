from werkzeug.exceptions import Forbidden, NotFound
from werkzeug.urls import url_encode

from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request

from odoo.addons.account.controllers.portal import PortalAccount

from ..models.collection_portal import CollectionRateLimitError

ANSWER_KINDS = ("promise", "dispute", "paid")


class CollectionCustomerPortal(PortalAccount):
    """The customer's collections page: a portal user of the customer, or
    whoever follows the (signed, expiring) link of a collection email; and the
    answers on an invoice's portal page, for that invoice only, to whoever may
    see it. Thin: every check is collection.portal's."""

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
                "answered": answered if answered in ANSWER_KINDS else None,
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

    def _collection_answer(self, kind, access_token, post):
        """An answer on the collections page, for the invoices of the customer
        (and companies) the request acts for."""
        identity = self._collection_identify(access_token)
        if identity is None:
            raise Forbidden()
        customer, companies, _author = identity
        portal = request.env["collection.portal"]
        query = {"answered": kind}
        if access_token:
            query["access_token"] = access_token
        return self._collection_submit(
            kind,
            identity,
            lambda ids: portal._collection_customer_moves(customer, companies, ids),
            post,
            lambda error, status: self._collection_render(
                identity, access_token, error=error, status=status
            ),
            f"/my/collections?{url_encode(query)}",
        )

    def _collection_submit(self, kind, identity, moves, post, render_error, done_url):
        """Write the answer ``kind`` of the form ``post`` in a savepoint, with
        ``moves(ids)`` the invoices the form may name (a MissingError, the page
        not found, for any other): on bad input ``render_error(message,
        status)`` says why and nothing is written; else redirect to
        ``done_url``."""
        customer, companies, author = identity
        portal = request.env["collection.portal"]
        answers = request.env["collection.portal.answer"]
        form, files = request.httprequest.form, request.httprequest.files
        try:
            with request.env.cr.savepoint():
                if kind == "promise":
                    answers._collection_submit_promise(
                        customer,
                        author,
                        moves(form.getlist("move_ids")),
                        post.get("promised_date"),
                        post.get("amount"),
                    )
                elif kind == "dispute":
                    answers._collection_submit_dispute(
                        customer,
                        author,
                        moves([post.get("move_id")]),
                        post.get("reason"),
                        post.get("message"),
                        files.getlist("attachments"),
                    )
                else:
                    answers._collection_submit_claim(
                        customer,
                        author,
                        moves(form.getlist("move_ids")),
                        post.get("payment_date"),
                        post.get("amount"),
                        post.get("reference"),
                        files.getlist("proof"),
                    )
        except MissingError as error:
            raise NotFound() from error
        except AccessError:
            raise
        except CollectionRateLimitError as error:
            portal._collection_report_rate_limit(customer, companies)
            return render_error(error.args[0], 429)
        except (UserError, ValidationError) as error:
            return render_error(error.args[0], 400)
        return request.redirect(done_url)

    @http.route(
        [f"/my/collections/{kind}" for kind in ANSWER_KINDS],
        type="http",
        auth="public",
        website=True,
        methods=["POST"],
    )
    def portal_collections_answer(self, access_token=None, **post):
        """A promise, a dispute or a payment claim on the collections page."""
        kind = request.httprequest.path.rsplit("/", 1)[-1]
        return self._collection_answer(kind, access_token, post)

    @http.route(
        "/my/invoices/<int:invoice_id>/collections/<any(promise,dispute,paid):kind>",
        type="http",
        auth="public",
        website=True,
        methods=["POST"],
    )
    def portal_invoice_collections_answer(
        self, invoice_id, kind, access_token=None, **post
    ):
        """An answer on an invoice's portal page: whoever may see the invoice
        (Odoo's rules, or the token of its link) answers for that invoice only;
        the collections page of its customer is never opened from here."""
        try:
            invoice_sudo = self._document_check_access(
                "account.move", invoice_id, access_token
            )
        except MissingError as error:
            raise NotFound() from error
        except AccessError as error:
            raise Forbidden() from error
        portal = request.env["collection.portal"]
        query = {"collection_answered": kind}
        if access_token:
            query["access_token"] = access_token

        def render_error(error, status):
            values = self._invoice_get_page_view_values(invoice_sudo, access_token)
            values["collection_error"] = error
            return request.render("account.portal_invoice_page", values, status=status)

        return self._collection_submit(
            kind,
            portal._collection_invoice_identity(invoice_sudo, request.env.user),
            lambda ids: portal._collection_invoice_moves(invoice_sudo, ids),
            post,
            render_error,
            f"{invoice_sudo.access_url}?{url_encode(query)}",
        )
