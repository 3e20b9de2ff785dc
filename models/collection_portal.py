import binascii
import math
from datetime import datetime, timedelta

from odoo import api, fields, models
from odoo.exceptions import MissingError, UserError
from odoo.tools import (
    SQL,
    float_compare,
    format_amount,
    format_date,
    hash_sign,
    verify_hash_signed,
)
from odoo.tools.mimetypes import guess_mimetype

TOKEN_SCOPE = "account_collections.portal"
# the link of a collection email opens the customer's page this long
TOKEN_DAYS = 60
# answers a customer may give on the portal per day (promises, disputes, claims)
DAILY_ANSWER_LIMIT = 10
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_TYPES = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
}
ATTACHMENT_MAX_COUNT = 5
MESSAGE_MAX_CHARS = 4000
REFERENCE_MAX_CHARS = 120


class CollectionRateLimitError(UserError):
    """A customer gave more answers today than the portal accepts."""


class CollectionPortal(models.AbstractModel):
    """What the customer portal's collections page shows and accepts: the
    controller only reads the request and renders; every check is here, with
    superuser rights limited to the customer (commercial partner) and company
    the caller was identified as."""

    _name = "collection.portal"
    _description = "Collections on the Customer Portal"

    # -------------------------------------------------------------------------
    # Identity: the link of a collection email
    # -------------------------------------------------------------------------

    @api.model
    def _collection_portal_token(self, partner, company):
        """A signed token opening the collections page of ``partner``'s customer
        in ``company`` for ``TOKEN_DAYS`` days; ``partner`` (the recipient of the
        email, a contact of the customer) answers, in their language."""
        return hash_sign(
            self.sudo().env,
            TOKEN_SCOPE,
            {"p": partner.commercial_partner_id.id, "c": company.id, "a": partner.id},
            expiration=timedelta(days=TOKEN_DAYS),
        )

    @api.model
    def _collection_portal_url(self, partner, company):
        token = self._collection_portal_token(partner, company)
        return f"{company.get_base_url()}/my/collections?access_token={token}"

    @api.model
    def _collection_token_customer(self, token):
        """``(customer, company, author)`` of a valid, unexpired token; None for
        any other string."""
        try:
            payload = verify_hash_signed(self.sudo().env, TOKEN_SCOPE, token or "")
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            return None
        if not isinstance(payload, dict):
            return None
        try:
            ids = [int(payload[key]) for key in ("p", "c", "a")]
        except (KeyError, TypeError, ValueError):
            return None
        partner = self.env["res.partner"].sudo().browse(ids[0]).exists()
        company = self.env["res.company"].sudo().browse(ids[1]).exists()
        author = self.env["res.partner"].sudo().browse(ids[2]).exists()
        if not partner or not company or partner.commercial_partner_id != partner:
            return None
        if author.commercial_partner_id != partner:
            author = partner
        return partner, company, author

    # -------------------------------------------------------------------------
    # Identity: the portal page of one invoice
    # -------------------------------------------------------------------------

    @api.model
    def _collection_invoice_identity(self, invoice, user):
        """``(customer, company, author)`` of an answer on the portal page of
        ``invoice`` (the page checked the visitor's access to it): its customer
        and company; the author is the logged-in visitor, else the invoice's
        contact (the link's holder). The answer covers that invoice only
        (``_collection_invoice_moves``): neither the page nor the answer opens
        the customer's other invoices."""
        customer = invoice.commercial_partner_id
        author = invoice.partner_id
        if not user._is_public():
            author = user.partner_id
        return customer, invoice.company_id, author

    @api.model
    def _collection_invoice_moves(self, invoice, move_ids):
        """The invoices ``move_ids`` (strings from the request) of an answer on
        the portal page of ``invoice``: that invoice only; a MissingError (the
        page is not found) for any other id."""
        moves = self._collection_customer_moves(
            invoice.commercial_partner_id, invoice.company_id, move_ids
        )
        if moves - invoice:
            raise MissingError(self.env._("This invoice does not exist."))
        return moves

    # -------------------------------------------------------------------------
    # What the page shows
    # -------------------------------------------------------------------------

    @api.model
    def _collection_open_invoices(self, partner, companies):
        """The customer's invoices the collection process follows, in
        ``companies`` (superuser: the caller identified the customer)."""
        return (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    *self.env["collection.receivable"]._collection_open_domain(),
                    ("commercial_partner_id", "=", partner.commercial_partner_id.id),
                    ("company_id", "in", companies.ids),
                ],
                order="company_id, collection_date_due, name, id",
            )
        )

    @api.model
    def _collection_statement(self, partner, company):
        """The customer statement of ``partner``'s commercial partner in
        ``company`` (one the caller checked the request acts for), in the
        customer's language: ``(content, kind)``."""
        customer = partner.commercial_partner_id.sudo()
        reports = (
            self.env["ir.actions.report"]
            .sudo()
            .with_company(company)
            .with_context(lang=customer.lang or self.env.lang)
        )
        return reports._render_qweb_pdf(
            "account_collections.action_report_customer_statement",
            customer.ids,
            data={"company_id": company.id},
        )

    def _collection_page_values(self, partner, companies):
        """The page's values: per company, the customer's balance
        (collection.receivable's ``_collection_balance()``: the invoices it
        counts, excluded ones labelled, its credit notes and payments not yet
        matched, its total and aging in company currency), the invoices the
        customer may answer for, the open promises, disputes and claims."""
        today = fields.Date.context_today(self)
        moves = self._collection_open_invoices(partner, companies)
        commercial = partner.commercial_partner_id
        promises = (
            self.env["collection.promise"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", commercial.id),
                    ("company_id", "in", companies.ids),
                    ("state", "=", "open"),
                ],
                order="promised_date",
            )
        )
        disputes = (
            self.env["collection.dispute"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", commercial.id),
                    ("company_id", "in", companies.ids),
                    ("state", "=", "open"),
                ]
            )
        )
        claims = (
            self.env["collection.payment.claim"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", commercial.id),
                    ("company_id", "in", companies.ids),
                    ("state", "=", "open"),
                ]
            )
        )
        sections = []
        plans = self._collection_plans(commercial, companies)
        receivable = self.env["collection.receivable"]
        pauses = receivable._collection_pauses(moves, today)
        pause_labels = receivable._collection_pause_labels()
        # what the customer owes: the one rule of the statement and the emails
        balances = receivable._collection_balance(commercial, companies, today)
        Move = self.env["account.move"].sudo()
        open_by_company = moves.grouped("company_id")
        for company in companies.sorted("id"):
            balance = balances.get((commercial.id, company.id))
            company_moves = open_by_company.get(company, Move)
            if not balance and not company_moves:
                continue
            balance = balance or {
                "total": 0.0,
                "buckets": [0.0] * len(self._collection_aging_labels()),
                "invoice_ids": [],
                "excluded_ids": [],
                "other": 0.0,
            }
            sections.append(
                {
                    "company": company,
                    # the invoices the customer may answer for
                    "moves": company_moves,
                    # the invoices the balance counts, excluded ones too
                    "invoices": Move.browse(balance["invoice_ids"]).sorted(
                        lambda m: (m.collection_date_due or today, m.name, m.id)
                    ),
                    "excluded": set(balance["excluded_ids"]),
                    "other": balance["other"],
                    "total": balance["total"],
                    "aging": balance["buckets"],
                    "promised": {
                        move.id
                        for move in promises.filtered(
                            lambda p, c=company: p.company_id == c
                        ).move_ids
                    },
                    "disputed": set(disputes.move_id.ids),
                    # the invoices whose reminders are paused: until when, why
                    "paused": {
                        move.id: self.env._(
                            "Reminders paused until %(date)s (%(reason)s)",
                            date=format_date(self.env, pauses[move.id][0]),
                            reason=pause_labels[pauses[move.id][1]],
                        )
                        for move in company_moves
                        if move.id in pauses
                    },
                }
            )
        return {
            "sections": sections,
            "promises": promises,
            "disputes": disputes,
            "claims": claims,
            "plans": plans,
            "plan_labels": self._collection_plan_labels(),
            "today": today,
            "aging_labels": self._collection_aging_labels(),
            "exclusion_reasons": dict(
                self.env["account.move"]
                ._fields["collection_exclusion_reason"]
                ._description_selection(self.env)
            ),
            "dispute_reasons": self.env["collection.dispute"]
            ._fields["reason"]
            ._description_selection(self.env),
        }

    @api.model
    def _collection_promise_form_limits(self, moves):
        """What the promise form shows before it is sent, for ``moves`` (the
        invoices it lists, a list or a recordset the caller identified as the
        customer's): ``{"moves": {move id: limits of a promise on that invoice
        alone}, "last_date": the latest date any of them allows}``, the limits
        of ``collection.receivable._collection_promise_limits``, which the
        answer (and the promise) check again."""
        moves = self.env["account.move"].sudo().browse([move.id for move in moves])
        today = fields.Date.context_today(self)
        receivable = self.env["collection.receivable"]
        limits = {
            move.id: receivable._collection_promise_limits(move, today)
            for move in moves
        }
        texts = {}
        for move_id, limit in limits.items():
            percent = f"{limit['min_percent']:g}"
            texts[move_id] = self.env._(
                "Pay by %(date)s at the latest, at least %(minimum)s (%(percent)s%% "
                "of %(due)s).",
                date=format_date(self.env, limit["last_date"]),
                minimum=format_amount(self.env, limit["minimum"], limit["currency"]),
                percent=percent,
                due=format_amount(self.env, limit["due"], limit["currency"]),
            )
        return {
            "moves": limits,
            "texts": texts,
            "today": today,
            "last_date": max(
                (limit["last_date"] for limit in limits.values()), default=today
            ),
        }

    @api.model
    def _collection_plans(self, partner, companies, moves=None):
        """The customer's payment plans the portal shows (superuser: the caller
        identified the customer): the open ones, and the broken ones whose
        invoices are still unpaid; only those covering ``moves`` if given."""
        domain = [
            ("partner_id", "=", partner.commercial_partner_id.id),
            ("company_id", "in", companies.ids),
            "|",
            ("state", "=", "open"),
            "&",
            ("state", "=", "broken"),
            ("move_ids.payment_state", "in", ("not_paid", "partial")),
        ]
        if moves is not None:
            domain.append(("move_ids", "in", moves.ids))
        return self.env["collection.plan"].sudo().search(domain)

    @api.model
    def _collection_invoice_plans(self, invoice):
        """The open payment plans covering ``invoice``, on its portal page (the
        page checked the visitor's access to the invoice)."""
        return self._collection_plans(
            invoice.commercial_partner_id, invoice.company_id, invoice
        ).filtered(lambda plan: plan.state == "open")

    @api.model
    def _collection_plan_labels(self):
        """The labels of the plans' and installments' states, in the page's
        language."""
        plan = self.env["collection.plan"]
        installment = self.env["collection.plan.installment"]
        return {
            "plan": dict(plan._fields["state"]._description_selection(self.env)),
            "installment": dict(
                installment._fields["state"]._description_selection(self.env)
            ),
        }

    @api.model
    def _collection_aging_labels(self):
        """The aging buckets' labels: the company's buckets, as the statement
        and the aging show them (collection.receivable's)."""
        return self.env["collection.receivable"]._collection_bucket_labels()

    # -------------------------------------------------------------------------
    # Input: every field is hostile until checked here
    # -------------------------------------------------------------------------

    @api.model
    def _collection_customer_moves(self, partner, companies, move_ids):
        """The customer's invoices ``move_ids`` (strings from the request); a
        MissingError (the page is not found) for any id that is not one of the
        customer's posted invoices of ``companies``."""
        try:
            ids = {int(move_id) for move_id in move_ids}
        except (TypeError, ValueError) as error:
            raise MissingError(self.env._("This invoice does not exist.")) from error
        moves = (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    ("id", "in", list(ids)),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("commercial_partner_id", "=", partner.commercial_partner_id.id),
                    ("company_id", "in", companies.ids),
                ]
            )
        )
        if len(moves) != len(ids):
            raise MissingError(self.env._("This invoice does not exist."))
        return moves

    @api.model
    def _collection_check_open(self, moves):
        if not moves:
            raise UserError(self.env._("Choose at least one invoice."))
        for move in moves:
            if not move._collection_is_open():
                raise UserError(
                    self.env._(
                        "Invoice %(invoice)s has nothing left to pay: it is not "
                        "open any more.",
                        invoice=move.name,
                    )
                )
        if len(moves.company_id) > 1 or len(moves.currency_id) > 1:
            raise UserError(
                self.env._("Choose invoices of one company and one currency at a time.")
            )

    @api.model
    def _collection_parse_date(self, value):
        try:
            return fields.Date.to_date(value)
        except (TypeError, ValueError) as error:
            raise UserError(self.env._("Give a valid date.")) from error

    @api.model
    def _collection_parse_amount(self, value, currency, maximum):
        try:
            amount = float(value)
        except (TypeError, ValueError) as error:
            raise UserError(self.env._("Give a valid amount.")) from error
        if not math.isfinite(amount):
            raise UserError(self.env._("Give a valid amount."))
        amount = currency.round(amount)
        if float_compare(amount, 0.0, precision_rounding=currency.rounding) <= 0:
            raise UserError(self.env._("The amount must be greater than zero."))
        if (
            maximum is not None
            and float_compare(amount, maximum, precision_rounding=currency.rounding) > 0
        ):
            raise UserError(
                self.env._(
                    "The amount %(amount)s is more than what is due (%(due)s).",
                    amount=format_amount(self.env, amount, currency),
                    due=format_amount(self.env, maximum, currency),
                )
            )
        return amount

    @api.model
    def _collection_check_files(self, files):
        """``[(name, content, mimetype)]`` of the uploaded files: PDF or images,
        at most ``ATTACHMENT_MAX_BYTES`` each."""
        checked = []
        files = [f for f in files if f and f.filename]
        if len(files) > ATTACHMENT_MAX_COUNT:
            raise UserError(
                self.env._(
                    "Attach at most %(count)s files.", count=ATTACHMENT_MAX_COUNT
                )
            )
        for upload in files:
            content = upload.read(ATTACHMENT_MAX_BYTES + 1)
            if len(content) > ATTACHMENT_MAX_BYTES:
                raise UserError(
                    self.env._("%(file)s is larger than 10 MB.", file=upload.filename)
                )
            mimetype = guess_mimetype(content)
            if mimetype not in ATTACHMENT_TYPES:
                raise UserError(
                    self.env._(
                        "%(file)s is not a PDF or an image (PNG, JPEG, GIF, WebP).",
                        file=upload.filename,
                    )
                )
            checked.append((upload.filename[:200], content, mimetype))
        return checked

    @api.model
    def _collection_check_rate(self, partner):
        """Refuse the answer when the customer gave ``DAILY_ANSWER_LIMIT`` today,
        and tell the salesperson (once a day). Concurrent answers of one
        customer wait for each other (row lock on the customer)."""
        commercial = partner.commercial_partner_id
        self.env.execute_query(
            SQL(
                "SELECT id FROM res_partner WHERE id = %s FOR UPDATE",
                commercial.id,
            )
        )
        since = datetime.combine(fields.Date.today(), datetime.min.time())
        domain = [("partner_id", "=", commercial.id), ("create_date", ">=", since)]
        count = (
            self.env["collection.promise"]
            .sudo()
            .search_count([*domain, ("source", "=", "portal")])
            + self.env["collection.dispute"].sudo().search_count(domain)
            + self.env["collection.payment.claim"].sudo().search_count(domain)
        )
        if count < DAILY_ANSWER_LIMIT:
            return
        raise CollectionRateLimitError(
            self.env._(
                "Thank you: we received %(count)s answers from you today, the most "
                "we take in a day. Your salesperson will contact you; you can also "
                "answer again tomorrow.",
                count=count,
            )
        )

    @api.model
    def _collection_report_rate_limit(self, partner, companies):
        """Tell the salesperson that the customer was refused (one activity a
        day): called after the refusal, outside the refused answer's
        savepoint."""
        commercial = partner.commercial_partner_id
        move = self._collection_open_invoices(commercial, companies)[:1]
        company = move.company_id or companies[:1]
        user = self.env["collection.receivable"]._collection_assignee(
            "daily_limit", move=move or None, partner=commercial, company=company
        )[0]
        if not user:
            return
        summary = self.env._("Too many answers on the portal today")
        exists = (
            self.env["mail.activity"]
            .sudo()
            .search_count(
                [
                    ("res_model", "=", "res.partner"),
                    ("res_id", "=", commercial.id),
                    ("summary", "=", summary),
                    ("date_deadline", "=", fields.Date.context_today(self)),
                ]
            )
        )
        if exists:
            return
        commercial.sudo().activity_schedule(
            "mail.mail_activity_data_todo",
            user_id=user.id,
            summary=summary,
            note=self.env._(
                "%(customer)s reached the limit of %(limit)s answers a day on the "
                "portal: call them.",
                customer=commercial.name,
                limit=DAILY_ANSWER_LIMIT,
            ),
        )
