import binascii
import math
from collections import defaultdict
from datetime import datetime, timedelta

from markupsafe import Markup

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import MissingError, UserError
from odoo.tools import (
    SQL,
    float_compare,
    format_amount,
    format_date,
    hash_sign,
    plaintext2html,
    verify_hash_signed,
)
from odoo.tools.mimetypes import guess_mimetype

from .collection_dispute import DEFAULT_DISPUTE_PAUSE_DAYS
from .collection_payment_claim import DEFAULT_PAYMENT_CLAIM_PAUSE_DAYS
from .collection_promise import DEFAULT_PROMISE_MAX_DAYS

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
AGING_BUCKETS = [(None, 0), (1, 30), (31, 60), (61, 90), (91, None)]


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
    def _collection_page_values(self, partner, companies):
        """The page's values: per company, the open invoices, their total and
        aging (company currency), the open promises, disputes and claims."""
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
        for company, company_moves in moves.grouped("company_id").items():
            aging = [0.0] * len(AGING_BUCKETS)
            for move in company_moves:
                days = (today - move.collection_date_due).days
                aging[self._collection_bucket(days)] += move.amount_residual_signed
            sections.append(
                {
                    "company": company,
                    "moves": company_moves,
                    "total": sum(company_moves.mapped("amount_residual_signed")),
                    "aging": aging,
                    "promised": {
                        move.id
                        for move in promises.filtered(
                            lambda p, c=company: p.company_id == c
                        ).move_ids
                    },
                    "disputed": set(disputes.move_id.ids),
                }
            )
        return {
            "sections": sections,
            "promises": promises,
            "disputes": disputes,
            "claims": claims,
            "today": today,
            "aging_labels": self._collection_aging_labels(),
            "dispute_reasons": self.env["collection.dispute"]
            ._fields["reason"]
            ._description_selection(self.env),
        }

    @api.model
    def _collection_bucket(self, days):
        for index, (low, high) in enumerate(AGING_BUCKETS):
            if (low is None or days >= low) and (high is None or days <= high):
                return index
        return 0

    @api.model
    def _collection_aging_labels(self):
        return [
            self.env._("Not due"),
            self.env._("1-30 days"),
            self.env._("31-60 days"),
            self.env._("61-90 days"),
            self.env._("Over 90 days"),
        ]

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
        user = (move and move._collection_salesperson()) or commercial.user_id
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

    # -------------------------------------------------------------------------
    # Answers
    # -------------------------------------------------------------------------

    @api.model
    def _collection_submit_promise(self, partner, author, moves, date, amount):
        """Promise to pay ``moves`` (checked as the customer's) ``amount`` by
        ``date`` (strings from the request)."""
        self._collection_check_open(moves)
        policy = moves[:1].collection_policy_id
        max_days = policy.promise_max_days if policy else DEFAULT_PROMISE_MAX_DAYS
        today = fields.Date.context_today(self)
        promised_date = self._collection_parse_date(date)
        if not promised_date or promised_date < today:
            raise UserError(
                self.env._("The payment date must be today or a later day.")
            )
        if (promised_date - today).days > max_days:
            raise UserError(
                self.env._(
                    "The payment date may be at most %(days)s days from today "
                    "(%(date)s).",
                    days=max_days,
                    date=format_date(self.env, today + timedelta(days=max_days)),
                )
            )
        due = sum(moves.mapped("amount_residual"))
        currency = moves.currency_id
        amount = self._collection_parse_amount(amount, currency, due)
        min_percent = policy.promise_min_percent if policy else 0.0
        minimum = currency.round(due * min_percent / 100.0)
        if float_compare(amount, minimum, precision_rounding=currency.rounding) < 0:
            percent = f"{min_percent:g}"
            raise UserError(
                self.env._(
                    "The amount must be at least %(minimum)s (%(percent)s%% of what "
                    "is due).",
                    minimum=format_amount(self.env, minimum, currency),
                    percent=percent,
                )
            )
        taken = moves.filtered(lambda m: m._collection_open_promise())
        if taken:
            raise UserError(
                self.env._(
                    "Invoice %(invoice)s already has a promise to pay.",
                    invoice=taken[0].name,
                )
            )
        self._collection_check_rate(partner)
        promise = (
            self.env["collection.promise"]
            .sudo()
            .with_context(collection_promise_no_log=True)
            .create(
                {
                    "move_ids": [fields.Command.set(moves.ids)],
                    "partner_id": partner.commercial_partner_id.id,
                    "promised_date": promised_date,
                    "amount": amount,
                    "source": "portal",
                }
            )
        )
        text = self.env._(
            "Promise to pay made on the portal: %(amount)s by %(date)s. Collection "
            "escalation is paused until then.",
            amount=format_amount(self.env, amount, promise.currency_id),
            date=format_date(self.env, promised_date),
        )
        self._collection_post(moves, author, text)
        # the activity on the invoice due first
        move = moves.sorted(lambda m: (m.collection_date_due, m.id))[0]
        user = move._collection_salesperson() or move._collection_fallback_user()
        if user:
            move.sudo().activity_schedule(
                "account_collections.mail_activity_type_collection_portal_answer",
                user_id=user.id,
                summary=self.env._(
                    "Promise on the portal: %(amount)s by %(date)s",
                    amount=format_amount(self.env, amount, promise.currency_id),
                    date=format_date(self.env, promised_date),
                ),
                note=plaintext2html(text),
            )
        self._collection_confirm(author, moves.company_id, text)
        return promise

    @api.model
    def _collection_submit_dispute(self, partner, author, move, reason, message, files):
        """Dispute ``move`` (checked as the customer's) for ``reason``."""
        self._collection_check_open(move)
        Dispute = self.env["collection.dispute"].sudo()
        reasons = dict(Dispute._fields["reason"]._description_selection(self.env))
        if reason not in reasons:
            raise UserError(self.env._("Choose the reason of the dispute."))
        message = (message or "").strip()
        if not message:
            raise UserError(self.env._("Tell us what is wrong with the invoice."))
        if len(message) > MESSAGE_MAX_CHARS:
            raise UserError(
                self.env._(
                    "The message is too long (at most %(count)s characters).",
                    count=MESSAGE_MAX_CHARS,
                )
            )
        if Dispute.search_count([("move_id", "=", move.id), ("state", "=", "open")]):
            raise UserError(
                self.env._(
                    "Invoice %(invoice)s is already disputed: your salesperson is "
                    "looking into it.",
                    invoice=move.name,
                )
            )
        uploads = self._collection_check_files(files)
        self._collection_check_rate(partner)
        policy = move.collection_policy_id
        days = policy.dispute_pause_days if policy else DEFAULT_DISPUTE_PAUSE_DAYS
        today = fields.Date.context_today(self)
        salesperson = move._collection_salesperson() or move._collection_manager(
            move._collection_salesperson()
        )
        dispute = Dispute.create(
            {
                "company_id": move.company_id.id,
                "move_id": move.id,
                "partner_id": partner.commercial_partner_id.id,
                "author_id": author.id,
                "user_id": salesperson.id,
                "reason": reason,
                "message": message,
                "paused_until": today + timedelta(days=days),
            }
        )
        attachments = self._collection_attach(dispute, uploads)
        dispute.attachment_ids = attachments
        self._collection_refresh_pause(move)
        text = self.env._(
            "Invoice disputed on the portal. Reason: %(reason)s. Collection is "
            "paused until %(date)s while the dispute is decided.",
            reason=reasons[reason],
            date=format_date(self.env, dispute.paused_until),
        )
        self._collection_post(move, author, text, message, attachments)
        user = salesperson or move._collection_fallback_user()
        if user:
            dispute.activity_schedule(
                "account_collections.mail_activity_type_collection_dispute",
                user_id=user.id,
                summary=dispute._collection_summary(),
                note=plaintext2html(message),
            )
        self._collection_confirm(author, move.company_id, text)
        return dispute

    @api.model
    def _collection_submit_claim(
        self, partner, author, moves, date, amount, reference, files
    ):
        """The customer says they paid ``moves`` (checked as the customer's)."""
        self._collection_check_open(moves)
        payment_date = self._collection_parse_date(date)
        today = fields.Date.context_today(self)
        if not payment_date or payment_date > today:
            raise UserError(
                self.env._("The payment date must be today or an earlier day.")
            )
        if payment_date < today - timedelta(days=365):
            raise UserError(
                self.env._("The payment date must be within the last year.")
            )
        currency = moves.currency_id
        amount = self._collection_parse_amount(amount, currency, None)
        reference = (reference or "").strip()
        if not reference:
            raise UserError(
                self.env._(
                    "Give the reference of the payment (the bank's transfer number)."
                )
            )
        if len(reference) > REFERENCE_MAX_CHARS:
            raise UserError(self.env._("The payment reference is too long."))
        uploads = self._collection_check_files(files)
        if not uploads:
            raise UserError(self.env._("Attach the proof of payment."))
        self._collection_check_rate(partner)
        company = moves.company_id
        commercial = partner.commercial_partner_id
        policy = moves[:1].collection_policy_id
        days = (
            policy.payment_claim_pause_days
            if policy
            else DEFAULT_PAYMENT_CLAIM_PAUSE_DAYS
        )
        salesperson = moves[0]._collection_salesperson()
        manager = company.collection_manager_id
        user = (manager if manager.active else manager.browse()) or salesperson
        # reminders to the customer pause: all its open invoices of the company
        paused = self._collection_open_invoices(commercial, company)
        claim = (
            self.env["collection.payment.claim"]
            .sudo()
            .create(
                {
                    "company_id": company.id,
                    "partner_id": commercial.id,
                    "author_id": author.id,
                    "move_ids": [fields.Command.set(paused.ids)],
                    "user_id": user.id,
                    "salesperson_id": salesperson.id,
                    "payment_date": payment_date,
                    "currency_id": currency.id,
                    "amount": amount,
                    "reference": reference,
                    "paused_until": today + timedelta(days=days),
                }
            )
        )
        attachments = self._collection_attach(claim, uploads)
        claim.attachment_ids = attachments
        self._collection_refresh_pause(paused)
        text = self.env._(
            "Payment reported on the portal: %(amount)s paid on %(date)s, reference "
            "%(reference)s. Reminders are paused until %(until)s while the payment "
            "is found and reconciled.",
            amount=format_amount(self.env, amount, currency),
            date=format_date(self.env, payment_date),
            reference=reference,
            until=format_date(self.env, claim.paused_until),
        )
        self._collection_post(moves, author, text, attachments=attachments)
        user = user or moves[0]._collection_fallback_user()
        if user:
            claim.activity_schedule(
                "account_collections.mail_activity_type_collection_payment_claim",
                user_id=user.id,
                summary=self.env._(
                    "Find and reconcile: %(claim)s", claim=claim.display_name
                ),
                note=plaintext2html(text),
            )
        self._collection_confirm(author, company, text)
        return claim

    # -------------------------------------------------------------------------
    # Helpers
    # -------------------------------------------------------------------------

    @api.model
    def _collection_attach(self, record, uploads):
        return (
            self.env["ir.attachment"]
            .sudo()
            .create(
                [
                    {
                        "name": name,
                        "raw": content,
                        "mimetype": mimetype,
                        "res_model": record._name,
                        "res_id": record.id,
                    }
                    for name, content, mimetype in uploads
                ]
            )
        )

    @api.model
    def _collection_post(self, moves, author, text, message=None, attachments=None):
        """The answer in the invoices' chatter, with the customer as author."""
        body = Markup("<p>%s</p>") % text
        if message:
            body += plaintext2html(message)
        # as the superuser: a public or portal poster's attachments of another
        # record are dropped (these are the answer's own, checked here)
        for move in moves.with_user(SUPERUSER_ID):
            move.message_post(
                body=body,
                author_id=author.id,
                message_type="comment",
                subtype_xmlid="mail.mt_note",
                attachment_ids=(attachments or self.env["ir.attachment"]).ids,
            )

    @api.model
    def _collection_refresh_pause(self, moves):
        """Set each invoice's pause to the latest of its open disputes and of its
        customer's open payment claims (none when there is none left)."""
        if not moves:
            return
        today = fields.Date.context_today(self)
        disputes = (
            self.env["collection.dispute"]
            .sudo()
            .search(
                [
                    ("move_id", "in", moves.ids),
                    ("state", "=", "open"),
                    ("paused_until", ">=", today),
                ]
            )
        )
        claims = (
            self.env["collection.payment.claim"]
            .sudo()
            .search(
                [
                    ("move_ids", "in", moves.ids),
                    ("state", "=", "open"),
                    ("paused_until", ">=", today),
                ]
            )
        )
        until = defaultdict(lambda: False)
        for dispute in disputes:
            until[dispute.move_id.id] = max(
                until[dispute.move_id.id] or dispute.paused_until,
                dispute.paused_until,
            )
        for claim in claims:
            for move in claim.move_ids:
                until[move.id] = max(
                    until[move.id] or claim.paused_until, claim.paused_until
                )
        for date, date_moves in moves.sudo().grouped(lambda m: until[m.id]).items():
            date_moves._collection_write({"collection_paused_until": date})

    @api.model
    def _collection_confirm(self, author, company, text):
        """The confirmation email of an answer, in the author's language."""
        self._collection_send_mail(
            author,
            company,
            self.env._("We received your answer"),
            "account_collections.collection_portal_answer_mail",
            {"text": text},
        )

    @api.model
    def _collection_send_answer_mail(self, disputes, template):
        """Tell the customers who raised ``disputes`` that they were rejected."""
        for dispute in disputes.sudo():
            recipient = dispute.author_id or dispute.partner_id
            lang_env = self.with_context(lang=recipient.lang or self.env.lang)
            self._collection_send_mail(
                recipient,
                dispute.company_id,
                lang_env.env._(
                    "Your dispute of invoice %(invoice)s", invoice=dispute.move_id.name
                ),
                template,
                {"dispute": dispute.with_env(lang_env.env)},
            )

    @api.model
    def _collection_send_mail(self, recipient, company, subject, template, values):
        recipient, company = recipient.sudo(), company.sudo()
        if not recipient.email:
            return
        lang = recipient.lang or self.env.lang
        body = (
            self.env["ir.qweb"]
            .sudo()
            .with_context(lang=lang)
            ._render(template, {"partner": recipient, "company": company, **values})
        )
        self.env["mail.mail"].sudo().create(
            {
                "subject": subject,
                "body_html": body,
                "email_from": company.email_formatted
                or company.partner_id.email_formatted
                or self.env.ref("base.user_root").sudo().email_formatted,
                "recipient_ids": [fields.Command.link(recipient.id)],
                "auto_delete": True,
            }
        )
