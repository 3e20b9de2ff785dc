from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount, format_date, plaintext2html

from .collection_dispute import DEFAULT_DISPUTE_PAUSE_DAYS
from .collection_payment_claim import DEFAULT_PAYMENT_CLAIM_PAUSE_DAYS
from .collection_portal import MESSAGE_MAX_CHARS, REFERENCE_MAX_CHARS


class CollectionPortalAnswer(models.AbstractModel):
    """The customer's answers on the portal, once collection.portal identified
    the customer and their invoices: what each writes (promise, dispute,
    payment claim), the invoices' pause, the chatter, the salesperson's
    activity and the customer's emails."""

    _name = "collection.portal.answer"
    _description = "Customers' Answers on the Portal"

    # -------------------------------------------------------------------------
    # Answers
    # -------------------------------------------------------------------------

    @api.model
    def _collection_submit_promise(self, partner, author, moves, date, amount):
        """Promise to pay ``moves`` (checked as the customer's) ``amount`` by
        ``date`` (strings from the request)."""
        self.env["collection.portal"]._collection_check_open(moves)
        today = fields.Date.context_today(self)
        promised_date = self.env["collection.portal"]._collection_parse_date(date)
        if not promised_date or promised_date < today:
            raise UserError(
                self.env._("The payment date must be today or a later day.")
            )
        due = sum(moves.mapped("amount_residual"))
        currency = moves.currency_id
        amount = self.env["collection.portal"]._collection_parse_amount(
            amount, currency, due
        )
        # the promise's own limits (it would refuse what is beyond them)
        problems = self.env["collection.receivable"]._collection_promise_problems(
            moves, promised_date, amount, today
        )
        if problems:
            raise UserError(" ".join(problems))
        taken = moves.filtered(lambda m: m._collection_open_promise())
        if taken:
            raise UserError(
                self.env._(
                    "Invoice %(invoice)s already has a promise to pay.",
                    invoice=taken[0].name,
                )
            )
        self.env["collection.portal"]._collection_check_rate(partner)
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
        user = move._collection_assignee("promise", holder=promise.user_id)
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
        self.env["collection.portal"]._collection_check_open(move)
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
        uploads = self.env["collection.portal"]._collection_check_files(files)
        self.env["collection.portal"]._collection_check_rate(partner)
        policy = move.collection_policy_id
        days = policy.dispute_pause_days if policy else DEFAULT_DISPUTE_PAUSE_DAYS
        today = fields.Date.context_today(self)
        salesperson = move._collection_assignee("dispute")
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
        user = salesperson
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
        self.env["collection.portal"]._collection_check_open(moves)
        payment_date = self.env["collection.portal"]._collection_parse_date(date)
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
        amount = self.env["collection.portal"]._collection_parse_amount(
            amount, currency, None
        )
        reference = (reference or "").strip()
        if not reference:
            raise UserError(
                self.env._(
                    "Give the reference of the payment (the bank's transfer number)."
                )
            )
        if len(reference) > REFERENCE_MAX_CHARS:
            raise UserError(self.env._("The payment reference is too long."))
        uploads = self.env["collection.portal"]._collection_check_files(files)
        if not uploads:
            raise UserError(self.env._("Attach the proof of payment."))
        self.env["collection.portal"]._collection_check_rate(partner)
        company = moves.company_id
        commercial = partner.commercial_partner_id
        policy = moves[:1].collection_policy_id
        days = (
            policy.payment_claim_pause_days
            if policy
            else DEFAULT_PAYMENT_CLAIM_PAUSE_DAYS
        )
        salesperson = moves[0]._collection_salesperson()
        user = moves[0]._collection_assignee("payment_claim")
        Claim = self.env["collection.payment.claim"].sudo()
        # one claim at a time pauses, and none once the customer's claims were
        # not found too often (checked before this one is written)
        refusal = Claim._collection_pause_refusal(commercial, company, today)
        # the customer's open invoices of the company, paused while it is found
        paused = self.env["collection.portal"]._collection_open_invoices(
            commercial, company
        )
        claim = Claim.create(
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
                "paused_until": False if refusal else today + timedelta(days=days),
            }
        )
        attachments = self._collection_attach(claim, uploads)
        claim.attachment_ids = attachments
        self._collection_refresh_pause(paused)
        values = {
            "amount": format_amount(self.env, amount, currency),
            "date": format_date(self.env, payment_date),
            "reference": reference,
        }
        if refusal:
            text = self.env._(
                "Payment reported on the portal: %(amount)s paid on %(date)s, "
                "reference %(reference)s. It will be looked for; reminders are not "
                "paused: %(why)s",
                why=refusal,
                **values,
            )
        else:
            text = self.env._(
                "Payment reported on the portal: %(amount)s paid on %(date)s, "
                "reference %(reference)s. Reminders are paused until %(until)s "
                "while the payment is found and reconciled.",
                until=format_date(self.env, claim.paused_until),
                **values,
            )
        self._collection_post(moves, author, text, attachments=attachments)
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
    def _collection_send_claim_rejected_mail(self, claims):
        """Tell the customers who reported ``claims`` that no payment was
        found."""
        for claim in claims.sudo():
            recipient = claim.author_id or claim.partner_id
            lang_env = self.with_context(lang=recipient.lang or self.env.lang)
            self._collection_send_mail(
                recipient,
                claim.company_id,
                lang_env.env._(
                    "The payment you reported (%(reference)s)",
                    reference=claim.reference or "",
                ),
                "account_collections.collection_portal_claim_rejected_mail",
                {"claim": claim.with_env(lang_env.env)},
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
