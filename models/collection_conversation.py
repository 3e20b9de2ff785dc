import base64
import logging
from collections import defaultdict
from datetime import timedelta

import psycopg2
from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.tools import SQL, format_date

from .collection_mailing import COLLECTION_MAIL_MAX_DELAY
from .collection_tools import log_failure

_logger = logging.getLogger(__name__)

# customer emails rendered per call of their template: at most this many
# customers, and the invoices they name (the template picks its customer's
# invoices among those of the whole batch)
MAIL_RENDER_BATCH = 50
MAIL_RENDER_MAX_INVOICES = 500
# the template's fields the emails need, as Odoo's composer renders them
MAIL_RENDER_FIELDS = (
    "attachment_ids",
    "body_html",
    "email_cc",
    "email_from",
    "email_to",
    "lang",
    "partner_to",
    "report_template_ids",
    "scheduled_date",
    "subject",
)


class CollectionConversation(models.AbstractModel):
    """The customer is one conversation: the stages of the daily run owe their
    emails (``account.move.collection_mail_stage_id``), and the run's mailing
    step sends each customer (commercial partner), company and recipient one
    email, with the template of the most advanced stage owed, naming the
    invoices concerned first. The customer statement follows: the email is
    queued for the statement job (``collection.statement.queue``), which
    attaches it and releases the email, out of the run's way.

    Before emailing a customer it holds the email, saying why in the invoices'
    chatter, when the last collection email is more recent than the policy's
    minimum interval, or when money the customer sent and that is not matched
    yet covers what the email would ask for (the collection manager, else the
    salesperson, is asked to reconcile it). A held email is not lost: its
    invoices stay owed and go in the customer's next email.

    What is owed is stored with the stage, in the same transaction: a crash
    before the email is queued leaves it owed, a queued email clears it in the
    transaction that queues it, so that a re-run sends it once.
    """

    _name = "collection.conversation"
    _description = "Collection Emails per Customer"

    # -------------------------------------------------------------------------
    # Stages owe their email
    # -------------------------------------------------------------------------

    @api.model
    def _collection_owe_mail(self, moves, stage, entering):
        """The email of ``stage`` is owed to the customers of ``moves``, which
        executed it now. An invoice whose first stage (``entering``) is reached
        more than ``COLLECTION_MAIL_MAX_DELAY`` days late owes none: its customer
        is not sent a stale notice: it is marked (held, ``late``), and the
        mailing step says so in its customer's chatter, once for all its
        invoices (``_collection_report_late``)."""
        if not stage.mail_template_id or not moves:
            return
        today = fields.Date.context_today(self)
        late = entering & moves.filtered(
            lambda m: (
                m.collection_date_due
                and (today - m.collection_date_due).days - stage.day_offset
                > COLLECTION_MAIL_MAX_DELAY
            )
        )
        late._collection_write(
            {
                "collection_mail_stage_id": False,
                "collection_mail_held": "late",
                "collection_mail_checked_date": False,
            }
        )
        (moves - late)._collection_write(
            {
                "collection_mail_stage_id": stage.id,
                "collection_mail_held": False,
                "collection_mail_checked_date": False,
            }
        )

    @api.model
    def _collection_report_late(self, company_ids, today):
        """Say in each customer's chatter which of its invoices were not sent
        their stage's email today, being stale (``_collection_owe_mail``): one
        note per customer and stage for the whole run, however many batches
        marked them (going live over a backlog marks thousands)."""
        late = (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    ("collection_mail_held", "=", "late"),
                    ("collection_mail_checked_date", "=", False),
                    ("company_id", "in", list(company_ids)),
                ],
                order="id",
            )
        )
        if not late:
            return
        mailing = self.env["collection.mailing"]
        for stage, moves in late.grouped("collection_stage_id").items():
            mailing._collection_report_late_entry(moves, stage)
        late._collection_write({"collection_mail_checked_date": today})

    # -------------------------------------------------------------------------
    # The mailing step of the run
    # -------------------------------------------------------------------------

    @api.model
    def _collection_owed_sql(self, today, move="m"):
        """SQL condition on ``move``: the invoice owes an email to send today
        (followed, not failed today)."""
        m = SQL.identifier(move)
        return SQL(
            """(%(m)s.collection_mail_stage_id IS NOT NULL
                AND %(open)s
                AND (%(m)s.collection_mail_checked_date IS NULL
                     OR %(m)s.collection_mail_checked_date < %(today)s))""",
            m=m,
            open=self.env["collection.receivable"]._collection_open_sql(move),
            today=today,
        )

    @api.model
    def _collection_owed_customers(self, company_ids, today):
        """``[(commercial partner id, company id)]`` owed an email today."""
        self.env.flush_all()
        return self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT m.commercial_partner_id, m.company_id
                  FROM account_move m
                 WHERE %(owed)s AND m.company_id = ANY(%(company_ids)s)
              ORDER BY 1, 2
                """,
                owed=self._collection_owed_sql(today),
                company_ids=list(company_ids),
            )
        )

    @api.model
    def _collection_mail_customers(self, keys, today):
        """Send the emails owed to the customers ``keys`` (``(commercial partner
        id, company id)``), or hold them until tomorrow; return how many
        customers (and recipients) were handled.

        Their owed invoices are locked first; those a concurrent run holds are
        skipped (that run emails their customer)."""
        if not keys:
            return 0
        locked = self.env.execute_query(
            SQL(
                """
                SELECT m.id
                  FROM account_move m
                  JOIN unnest(%(partners)s::integer[], %(companies)s::integer[])
                       AS k(partner_id, company_id)
                    ON k.partner_id = m.commercial_partner_id
                   AND k.company_id = m.company_id
                 WHERE %(owed)s
              ORDER BY m.id
                   FOR UPDATE OF m SKIP LOCKED
                """,
                partners=[key[0] for key in keys],
                companies=[key[1] for key in keys],
                owed=self._collection_owed_sql(today),
            )
        )
        moves = self.env["account.move"].browse([row[0] for row in locked])
        # a customer some of whose invoices a concurrent run holds is left to
        # that run: half an email now and half later would be two emails
        owed = (
            self.env["account.move"]
            .sudo()
            .search_fetch(
                [
                    ("id", "not in", moves.ids),
                    ("collection_mail_stage_id", "!=", False),
                    "|",
                    ("collection_mail_checked_date", "=", False),
                    ("collection_mail_checked_date", "<", today),
                    *self._collection_keys_domain(keys),
                ],
                ["commercial_partner_id", "company_id"],
            )
        )
        busy = {(m.commercial_partner_id.id, m.company_id.id) for m in owed}
        moves = moves.filtered(
            lambda m: (m.commercial_partner_id.id, m.company_id.id) not in busy
        )
        if not moves:
            return 0
        customers = moves.commercial_partner_id
        companies = moves.company_id
        last_mail = self._collection_last_mail(customers, companies)
        unmatched = self.env["collection.receivable"]._collection_unmatched_money(
            customers, companies
        )
        due = self._collection_amount_due(customers, companies)
        to_send, waiting = [], []
        handled = moves.grouped(
            lambda m: (
                m.commercial_partner_id,
                m.company_id,
                m.collection_mail_partner_id,
            )
        )
        leads = {group: self._collection_lead(group) for group in handled.values()}
        # the policies of all the lead invoices computed at once (each reads
        # its customer's policy, experiment arm and segment)
        self.env["account.move"].concat(*leads.values()).mapped(
            "collection_policy_id.mail_interval_days"
        )
        for (customer, company, recipient), group in handled.items():
            key = (customer.id, company.id)
            lead = leads[group]
            interval = lead.collection_policy_id.mail_interval_days
            last = last_mail.get(key)
            if not recipient:
                self._collection_hold_no_email(group)
            elif last and interval and today < last + timedelta(days=interval):
                # noted and written with the others after the loop
                waiting.append(
                    (group, "interval", {"last": last, "interval": interval})
                )
            elif (
                unmatched.get(key, 0.0) > 0
                and company.currency_id.compare_amounts(
                    unmatched[key], due.get(key, 0.0)
                )
                >= 0
            ):
                self._collection_hold_unmatched(group, unmatched[key], due.get(key))
            else:
                to_send.append(group)
        self._collection_hold_many(waiting)
        self._collection_send_all(to_send)
        return len(handled)

    @api.model
    def _collection_keys_domain(self, keys):
        """Domain of the open invoices of the customers ``keys``."""
        return [
            *self.env["collection.receivable"]._collection_open_domain(),
            ("commercial_partner_id", "in", [key[0] for key in keys]),
            ("company_id", "in", [key[1] for key in keys]),
        ]

    @api.model
    def _collection_key(self, moves):
        return (moves[:1].commercial_partner_id.id, moves[:1].company_id.id)

    @api.model
    def _collection_lead(self, moves):
        """The invoice whose stage is the most advanced: its template writes the
        email (the oldest due first among equals)."""
        return moves.sorted(
            lambda m: (
                -m.collection_mail_stage_id.day_offset,
                m.collection_date_due or fields.Date.today(),
                m.id,
            )
        )[:1]

    @api.model
    def _collection_last_mail(self, customers, companies):
        """``{(commercial partner id, company id): day}`` of the last collection
        email to each customer (on any of its invoices, paid ones too)."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT commercial_partner_id, company_id, MAX(collection_mail_date)
                  FROM account_move
                 WHERE commercial_partner_id = ANY(%s) AND company_id = ANY(%s)
                   AND collection_mail_date IS NOT NULL
              GROUP BY 1, 2
                """,
                customers.ids,
                companies.ids,
            )
        )
        return {(partner, company): day for partner, company, day in rows}

    @api.model
    def _collection_amount_due(self, customers, companies):
        """``{(commercial partner id, company id): amount}`` the customers' emails
        ask for: their open invoices, in company currency."""
        groups = (
            self.env["account.move"]
            .sudo()
            ._read_group(
                [
                    *self.env["collection.receivable"]._collection_open_domain(),
                    ("commercial_partner_id", "in", customers.ids),
                    ("company_id", "in", companies.ids),
                ],
                ["commercial_partner_id", "company_id"],
                ["amount_residual_signed:sum"],
            )
        )
        return {(partner.id, company.id): amount for partner, company, amount in groups}

    # -------------------------------------------------------------------------
    # Holding
    # -------------------------------------------------------------------------

    @api.model
    def _collection_hold(self, moves, reason, **values):
        """Keep the email of ``moves`` for the customer's next one; their chatter
        says why (once per reason)."""
        self._collection_hold_many([(moves, reason, values)])

    @api.model
    def _collection_hold_many(self, holds):
        """``_collection_hold`` for many customers at once (``[(moves, reason,
        values)]``): one batch of chatter notes, one write per reason."""
        bodies = {}
        held = defaultdict(lambda: self.env["account.move"])
        for moves, reason, values in holds:
            for move in moves.filtered(lambda m, r=reason: m.collection_mail_held != r):
                bodies[move.id] = Markup("<p>%s</p>") % self._collection_hold_text(
                    move, reason, **values
                )
            held[reason] |= moves
        if bodies:
            self.env["account.move"].browse(bodies)._message_log_batch(bodies)
        for reason, moves in held.items():
            moves._collection_write(
                {
                    "collection_mail_held": reason,
                    "collection_mail_checked_date": fields.Date.context_today(self),
                }
            )

    @api.model
    def _collection_hold_text(self, move, reason, last=None, interval=None, **values):
        stage = move.collection_mail_stage_id
        if reason == "interval":
            return self.env._(
                "The email of collection stage %(stage)s was held: the customer "
                "was sent a collection email on %(date)s and policy %(policy)s "
                "leaves at least %(days)s days between two. This invoice will be "
                "in the customer's next collection email.",
                stage=stage.name,
                date=format_date(self.env, last),
                policy=move.collection_policy_id.name,
                days=interval,
            )
        return self.env._(
            "The email of collection stage %(stage)s was held: %(customer)s sent "
            "%(money)s that is not matched with its invoices yet, enough for the "
            "%(due)s due. %(user)s was asked to reconcile it; this invoice will be "
            "in the customer's next collection email.",
            stage=stage.name,
            customer=move.commercial_partner_id.display_name,
            money=values["money"],
            due=values["due"],
            user=values["user"].name if values.get("user") else "-",
        )

    @api.model
    def _collection_hold_no_email(self, moves):
        """No address to write to: the chatter and the salesperson say so (once),
        the email stays owed and is tried again the next days."""
        news = moves.filtered(lambda m: m.collection_mail_held != "no_email")
        for stage, stage_moves in news.grouped("collection_mail_stage_id").items():
            self.env["collection.mailing"]._collection_report_missing_email(
                stage_moves, stage
            )
        moves._collection_write(
            {
                "collection_mail_held": "no_email",
                "collection_mail_checked_date": fields.Date.context_today(self),
            }
        )

    @api.model
    def _collection_hold_unmatched(self, moves, money, due):
        """The customer's unmatched money covers the debt: hold the email and
        ask the collection manager, else the salesperson, to reconcile it (one
        open activity on the customer)."""
        lead = self._collection_lead(moves)
        company = lead.company_id
        currency = company.currency_id
        customer = lead.commercial_partner_id
        user = lead._collection_assignee("unmatched_money")
        money_text = tools.format_amount(self.env, money, currency)
        due_text = tools.format_amount(self.env, due or 0.0, currency)
        activity_type = self.env.ref(
            "account_collections.mail_activity_type_collection_reconcile",
            raise_if_not_found=False,
        )
        if user and activity_type:
            existing = (
                self.env["mail.activity"]
                .sudo()
                .search_count(
                    [
                        ("res_model", "=", "res.partner"),
                        ("res_id", "=", customer.id),
                        ("activity_type_id", "=", activity_type.id),
                    ],
                    limit=1,
                )
            )
            if not existing:
                customer.sudo().with_context(
                    mail_activity_quick_update=True
                ).activity_schedule(
                    activity_type_id=activity_type.id,
                    user_id=user.id,
                    date_deadline=fields.Date.context_today(self),
                    summary=self.env._(
                        "Reconcile %(money)s received from %(customer)s",
                        money=money_text,
                        customer=customer.display_name,
                    ),
                    note=Markup("<p>%s</p>")
                    % self.env._(
                        "%(customer)s sent %(money)s that is not matched with its "
                        "invoices yet (payments not fully reconciled, bank "
                        "statement lines not reconciled), and owes %(due)s in "
                        "%(company)s. Its collection email is held until the money "
                        "is reconciled.",
                        customer=customer.display_name,
                        money=money_text,
                        due=due_text,
                        company=company.name,
                    ),
                )
        self._collection_hold(
            moves, "unmatched", money=money_text, due=due_text, user=user
        )

    @api.model
    def _collection_mail_failed(self, moves, error):
        """The email could not be sent: logged on the lead invoice and in the
        server log, tried again tomorrow."""
        log_failure(
            self._collection_lead(moves),
            self.env._(
                "The collection email to the customer could not be sent; the run "
                "will try again tomorrow."
            ),
            error,
        )
        moves._collection_write(
            {
                "collection_mail_held": "error",
                "collection_mail_checked_date": fields.Date.context_today(self),
            }
        )

    # -------------------------------------------------------------------------
    # Sending
    # -------------------------------------------------------------------------

    @api.model
    def _collection_send_all(self, groups):
        """Email the customer of each of ``groups`` (its invoices owed an email).

        The emails of a template are rendered together, in batches (one QWeb
        rendering of its subject and body for many customers), then posted one
        by one, each in its own savepoint: an email that fails is logged on its
        lead invoice and tried again tomorrow, the others go. What follows the
        emails sent (statements queued, notes, invoices updated) is written for
        them all at once (``_collection_sent``), in the same transaction."""
        leads = {group: self._collection_lead(group) for group in groups}
        rendered = self._collection_render_mails(groups, leads)
        self._collection_prepare_signup(rendered)
        sent = {}
        for group in groups:
            try:
                with self.env.cr.savepoint():
                    sent[group] = self._collection_post(
                        group, rendered=rendered.get(leads[group].id)
                    )
            except psycopg2.OperationalError:
                raise
            except Exception as error:  # noqa: BLE001 - logged, retried tomorrow
                self._collection_mail_failed(group, error)
        self._collection_sent(sent)

    @api.model
    def _collection_prepare_signup(self, rendered):
        """The recipients of the ``rendered`` emails ready for the portal
        signup link the email's button carries, in one write: posting an email
        to a customer without a user prepares the signup of each recipient
        (``signup_get_auth_param``), one write of each partner per email
        otherwise (``res.partner.signup_prepare`` skips the unchanged)."""
        partner_ids = {
            partner_id
            for values in rendered.values()
            for partner_id in values.get("partner_ids") or []
        }
        if (
            not partner_ids
            or self.env["res.users"].sudo()._get_signup_invitation_scope() != "b2c"
        ):
            return
        partners = self.env["res.partner"].sudo().browse(sorted(partner_ids))
        partners.filtered(lambda partner: not partner.user_ids).signup_prepare()

    @api.model
    def _collection_render_mails(self, groups, leads):
        """``{lead invoice id: values}``: the emails of ``groups`` rendered by
        the template of their lead invoice (see ``_collection_render``), in
        batches. A batch that fails (one customer's data breaks the template)
        is left out: each of its emails is rendered alone when it is sent, and
        the one that fails is logged."""
        by_template = defaultdict(list)
        for group in groups:
            template = leads[group].collection_mail_stage_id.mail_template_id
            by_template[template].append(group)
        # the portal links of the invoices listed, for all the emails at once
        moves = self.env["account.move"].concat(*groups)
        self.env["collection.mailing"]._collection_ensure_access_tokens(
            moves | moves.collection_open_invoice_ids
        )
        result = {}
        for template, template_groups in by_template.items():
            for batch in self._collection_render_batches(template_groups):
                if len(batch) == 1:
                    continue  # rendered when sent, as a failed batch
                try:
                    with self.env.cr.savepoint():
                        result.update(self._collection_render(template, batch, leads))
                except psycopg2.OperationalError:
                    raise
                except Exception as error:  # noqa: BLE001 - each alone when sent
                    _logger.info(
                        "Collection emails: rendering %s emails of template %s "
                        "together failed (%s), each is rendered alone",
                        len(batch),
                        template.name,
                        error,
                    )
        return result

    @api.model
    def _collection_render_batches(self, groups):
        """``groups`` cut in batches of ``MAIL_RENDER_BATCH`` customers naming at
        most ``MAIL_RENDER_MAX_INVOICES`` invoices, a customer at most once per
        batch (the template picks its customer's invoices among those named)."""
        batches, batch, keys, named = [], [], set(), 0
        pending = list(groups)
        while pending:
            later = []
            for group in pending:
                key = self._collection_key(group)
                if key in keys:
                    later.append(group)  # the same customer, another recipient
                    continue
                if batch and (
                    len(batch) >= MAIL_RENDER_BATCH
                    or named + len(group) > MAIL_RENDER_MAX_INVOICES
                ):
                    batches.append(batch)
                    batch, keys, named = [], set(), 0
                batch.append(group)
                keys.add(key)
                named += len(group)
            if batch:
                batches.append(batch)
            batch, keys, named = [], set(), 0
            pending = later
        return batches

    @api.model
    def _collection_render(self, template, groups, leads):
        """``{lead invoice id: values}``: the emails of ``groups`` rendered by
        ``template`` on their lead invoice in one call, as Odoo's composer
        renders a template (subject, body, sender, recipients, language,
        attachments), each email naming its own invoices first."""
        lead_ids = [leads[group].id for group in groups]
        # the invoices each email is about, by due date
        named = {
            leads[group].id: group.sorted(
                lambda m: (m.collection_date_due, m.name or "", m.id)
            ).ids
            for group in groups
        }
        # the invoices the emails list, read and their days overdue and portal
        # address computed for the whole batch at once (each email's table, a
        # union of its own invoices, would read and compute them email by email)
        listed = (
            self.env["account.move"].concat(*groups)
            | self.env["account.move"].browse(lead_ids).collection_open_invoice_ids
        )
        listed.mapped("collection_days_overdue")
        listed.mapped("access_url")
        values = template.with_context(
            collection_mail_named=named,
            # the template's body compiled once for the batch (mail.template)
            collection_mail_batch=True,
        )._generate_template(lead_ids, MAIL_RENDER_FIELDS, find_or_create_partners=True)
        # the author is the partner of the sender's address, as in the composer
        senders = {
            email: partner.id
            for email in {v.get("email_from") for v in values.values()} - {None, False}
            for partner in self.env["mail.thread"]
            .with_context(active_test=False)
            ._mail_find_partner_from_emails([email])[:1]
            if partner
        }
        # the language the email's layout and the invoice's name are written in
        langs = template._render_lang(lead_ids)
        # the address replies go to, as message_post finds it, for many at once
        by_sender = defaultdict(list)
        for lead_id in lead_ids:
            by_sender[values[lead_id].get("email_from") or False].append(lead_id)
        reply_to = {}
        for sender, ids in by_sender.items():
            reply_to.update(
                self.env["account.move"]
                .browse(ids)
                ._notify_get_reply_to(default=sender or self.env.user.email_formatted)
            )
        leads = self.env["account.move"].browse(lead_ids)
        alias_domains = leads.sudo()._mail_get_alias_domains(
            default_company=self.env.company
        )
        companies = leads._mail_get_companies(default=self.env.company)
        for lead_id in lead_ids:
            value = values[lead_id]
            value["author_id"] = senders.get(value.get("email_from"))
            value["layout_lang"] = langs.get(lead_id)
            # what message_post would look up for each email
            value["post_values"] = {
                "reply_to": reply_to.get(lead_id),
                "record_alias_domain_id": alias_domains[lead_id].id,
                "record_company_id": companies[lead_id].id,
            }
        return values

    @api.model
    def _collection_post(self, moves, rendered=None):
        """Post the email to the customer of ``moves`` on their lead invoice and
        return it (its message); ``_collection_sent`` does the rest for many
        emails at once. ``rendered`` are the email's values rendered in a batch
        (``_collection_render``), else it is rendered here."""
        lead = self._collection_lead(moves)
        template = lead.collection_mail_stage_id.mail_template_id
        if rendered is None:
            self.env["collection.mailing"]._collection_ensure_access_tokens(
                moves | moves.collection_open_invoice_ids
            )
            rendered = self._collection_render(template, [moves], {moves: lead})[
                lead.id
            ]
        lang = rendered.get("layout_lang")
        # the template's own files are copied for the email, its reports
        # rendered for the lead invoice
        attachments = (
            template.attachment_ids.sudo().copy(
                {"res_model": "mail.compose.message", "res_id": 0}
            )
            if template.attachment_ids
            else self.env["ir.attachment"]
        )
        reports = [
            (name, base64.b64decode(content))
            for name, content in rendered.get("attachments") or []
        ]
        return lead.with_context(
            mail_notify_force_send=False,
            # the statement attached is not an invoice to import
            no_new_invoice=True,
            # its author follows the invoice: subscribed with the others'
            # (_collection_sent)
            mail_create_nosubscribe=True,
        ).message_post(
            body=rendered.get("body_html") or "",
            subject=rendered.get("subject") or "",
            email_from=rendered.get("email_from") or self.env.user.email_formatted,
            author_id=rendered.get("author_id") or self.env.user.partner_id.id,
            partner_ids=rendered.get("partner_ids") or [],
            attachment_ids=attachments.ids,
            attachments=reports,
            message_type="comment",
            subtype_id=self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment"),
            email_add_signature=False,
            email_layout_xmlid=template.email_layout_xmlid,
            mail_server_id=template.mail_server_id.id,
            mail_auto_delete=template.auto_delete,
            force_send=False,
            force_email_lang=rendered.get("lang") or False,
            model_description=lead.with_context(lang=lang).type_name,
            scheduled_date=rendered.get("scheduled_date") or False,
            **rendered.get("post_values", {}),
        )

    @api.model
    def _collection_sent(self, sent):
        """What follows the emails ``sent`` (``{invoices: message}``), for all
        of them at once: each one's statement queued for the statement job (its
        outgoing mails wait for it), the salesperson in copy, a note with a link
        on the invoices other than the lead, and the invoices no longer owe an
        email."""
        if not sent:
            return
        today = fields.Date.context_today(self)
        leads = {moves: self._collection_lead(moves) for moves in sent}
        self.env["collection.statement.queue"]._collection_queue_many(
            [
                (message, leads[moves].commercial_partner_id, leads[moves].company_id)
                for moves, message in sent.items()
            ],
            today,
        )
        self.env["collection.mailing"]._collection_copy_salesperson(
            self.env["account.move"].concat(*leads.values()),
            self.env["mail.message"].concat(*sent.values()),
        )
        notes = {}
        for moves, message in sent.items():
            lead = leads[moves]
            body = Markup("<p>%s %s</p>") % (
                self.env._(
                    "This invoice was part of the collection email '%(subject)s' "
                    "sent to %(recipient)s on %(date)s, posted on invoice:",
                    subject=message.subject or "",
                    recipient=", ".join(message.partner_ids.mapped("display_name")),
                    date=format_date(self.env, today),
                ),
                lead._get_html_link(),
            )
            notes.update(dict.fromkeys((moves - lead).ids, body))
        if notes:
            self.env["account.move"].browse(notes)._message_log_batch(notes)
        # the author follows the invoice, to receive the answers, as
        # message_post subscribes it (the user running, else the author)
        user = self.env.user
        followers = defaultdict(lambda: self.env["account.move"])
        for moves, message in sent.items():
            author = user.partner_id if user.active else message.author_id
            if author.active:
                followers[author] |= leads[moves]
        for author, moves in followers.items():
            moves._message_subscribe(partner_ids=author.ids)
        self.env["account.move"].concat(*sent)._collection_write(
            {
                "collection_mail_stage_id": False,
                "collection_mail_held": False,
                "collection_mail_checked_date": False,
                "collection_mail_date": today,
            }
        )
