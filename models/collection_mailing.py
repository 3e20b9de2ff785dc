import logging
from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# an invoice whose first stage is reached later than this (days) gets no stale email
COLLECTION_MAIL_MAX_DELAY = 7
# the customer emails list at most this many open invoices (a large debtor has
# hundreds); the others are counted, and the total covers them all
COLLECTION_MAIL_MAX_INVOICES = 20
# activities listed in a user's digest email (the rest are counted): a first run
# over a large portfolio creates thousands per user
COLLECTION_DIGEST_MAX_ACTIVITIES = 200
# invoices listed in the note saying their stale email was not sent (the rest
# are counted)
COLLECTION_LATE_ENTRY_MAX_LISTED = 50


class CollectionMailing(models.AbstractModel):
    """The emails of the daily run: the stages' emails to customers (with the
    notes and to-dos when one cannot be sent), the open invoices they list, and
    each user's digest of their new collection activities.

    A service without records: its methods take the invoices they work on, and
    none is public (no remote call reaches them)."""

    _name = "collection.mailing"
    _description = "Collection Emails"

    # -------------------------------------------------------------------------
    # Who receives the emails, and the open invoices they list
    # -------------------------------------------------------------------------

    @api.model
    def _collection_recipients(self, moves):
        """``{move: partner}``: who receives the collection emails of each invoice,
        the invoice's contact if it has an email address, else the customer's
        contact marked for collections, else the customer (an empty partner when
        none has an address)."""
        commercial = moves.commercial_partner_id
        partners = moves.env["res.partner"]
        contacts = partners.search(
            [
                ("commercial_partner_id", "in", commercial.ids),
                ("collection_mail_contact", "=", True),
                ("email", "!=", False),
            ],
            order="commercial_partner_id, id",
        )
        contact_of = {}
        for contact in contacts:
            contact_of.setdefault(contact.commercial_partner_id, contact)
        recipients = {}
        for move in moves:
            customer = move.commercial_partner_id
            if move.partner_id.email and move.partner_id != customer:
                recipient = move.partner_id
            else:
                recipient = contact_of.get(customer) or (customer.email and customer)
            recipients[move] = recipient or partners
        return recipients

    @api.model
    def _collection_open_invoices(self, moves):
        """For each of ``moves``, its customer's open invoices in its company as
        ``moves``' reader may see them: ``{move: (listed, count, amount)}``, the
        first ``COLLECTION_MAIL_MAX_INVOICES`` by due date (the invoice itself
        always among them when open), how many there are, and their total in the
        invoice's currency (0 when they are in several)."""
        Move = moves.browse()
        keys = {(m.commercial_partner_id.id, m.company_id.id) for m in moves}
        domain = [
            *Move._collection_open_domain(),
            ("commercial_partner_id", "in", [key[0] for key in keys]),
            ("company_id", "in", [key[1] for key in keys]),
        ]
        totals = defaultdict(lambda: [0, 0.0, set()])
        for partner, company, currency, count, amount in Move._read_group(
            domain,
            ["commercial_partner_id", "company_id", "currency_id"],
            ["__count", "amount_residual:sum"],
        ):
            total = totals[partner.id, company.id]
            total[0] += count
            total[1] += amount
            total[2].add(currency.id)
        # the first invoices of each customer by due date, in one query
        Move.flush_model(
            ["commercial_partner_id", "company_id", "collection_date_due", "name"]
        )
        query = Move._search(domain)
        rows = self.env.execute_query(
            SQL(
                """
                SELECT id, commercial_partner_id, company_id
                  FROM (
                        SELECT m.id, m.commercial_partner_id, m.company_id,
                               ROW_NUMBER() OVER (
                                   PARTITION BY m.commercial_partner_id, m.company_id
                                   ORDER BY m.collection_date_due, m.name, m.id
                               ) AS position
                          FROM account_move m
                         WHERE m.id IN %(ids)s
                       ) ranked
                 WHERE position <= %(limit)s
              ORDER BY position
                """,
                ids=query.subselect(),
                limit=COLLECTION_MAIL_MAX_INVOICES,
            )
        )
        first = defaultdict(list)
        for move_id, partner_id, company_id in rows:
            first[partner_id, company_id].append(move_id)
        result = {}
        for move in moves:
            key = (move.commercial_partner_id.id, move.company_id.id)
            listed = Move.browse(first.get(key, []))
            this = move._origin
            if this.id and this not in listed and this._collection_is_open():
                # this invoice is always listed, in its place by due date
                listed = (listed[: COLLECTION_MAIL_MAX_INVOICES - 1] | this).sorted(
                    lambda m: (m.collection_date_due, m.name, m.id)
                )
            count, amount, currencies = totals.get(key, (0, 0.0, set()))
            amount = amount if currencies == {move.currency_id.id} else 0.0
            result[move] = (listed, count, amount)
        return result

    # -------------------------------------------------------------------------
    # The stages' emails to customers
    # -------------------------------------------------------------------------

    @api.model
    def _collection_send_stage_mail(self, moves, stage, entering=None):
        """Email the stage's template to each invoice's customer, recorded in the chatter.

        The email goes to ``collection_mail_partner_id``, in that contact's language,
        from the salesperson, with the salesperson in copy. When the customer has no
        email address at all, the invoice's chatter says so and the salesperson gets
        an activity to complete the customer's data: nothing fails silently.

        ``entering`` are the invoices executing their first collection stage now:
        one whose first stage is reached more than ``COLLECTION_MAIL_MAX_DELAY``
        days after its date (an old invoice when the addon goes live) gets no
        email, so that its customer is not sent a stale notice; the chatter says so.
        """
        template = stage.mail_template_id
        if not template or not moves:
            return
        today = fields.Date.context_today(moves)
        entering = moves.browse(entering.ids if entering else [])
        late = entering & moves.filtered(
            lambda m: (
                m.collection_date_due
                and (today - m.collection_date_due).days - stage.day_offset
                > COLLECTION_MAIL_MAX_DELAY
            )
        )
        self._collection_report_late_entry(late, stage)
        without_email = (moves - late).filtered(
            lambda m: not m.collection_mail_partner_id
        )
        self._collection_report_missing_email(without_email, stage)
        to_send = moves - late - without_email
        if not to_send:
            return
        # the recipient's lang, the open invoices and the portal links are read per
        # invoice while rendering: prefetch them for the whole batch
        self._collection_ensure_access_tokens(
            to_send | to_send.collection_open_invoice_ids
        )
        messages = self.env["mail.message"]
        comment = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment")
        lang_of = template._render_lang(to_send.ids)
        for (salesperson, lang), lang_moves in to_send.grouped(
            lambda m: (m._collection_salesperson(), lang_of.get(m.id))
        ).items():
            # one composer per salesperson, who signs the emails (batch rendering),
            # and language (the button of the email says "View Invoice" in it)
            composer = (
                self.env["mail.compose.message"]
                .with_context(
                    model_description=lang_moves[:1].with_context(lang=lang).type_name,
                    # queued for the mail queue's cron: the run does not wait on
                    # the mail server, hundreds of emails a day
                    mail_notify_force_send=False,
                    default_composition_mode="comment",
                    default_model=moves._name,
                    default_res_ids=lang_moves.ids,
                    default_template_id=template.id,
                )
                .create(
                    {
                        "message_type": "comment",
                        "subtype_id": comment,
                        # a composer on one invoice takes its author from the
                        # rendered sender; on several, they must be given
                        **(
                            {
                                "author_id": salesperson.partner_id.id,
                                "email_from": template.email_from
                                or salesperson.email_formatted,
                            }
                            if salesperson and len(lang_moves) > 1
                            else {}
                        ),
                    }
                )
            )
            messages |= composer._action_send_mail()[1]
        self._collection_copy_salesperson(to_send, messages)

    @api.model
    def _collection_ensure_access_tokens(self, moves):
        """Give the invoices linked from the emails their portal token, in one query
        (the portal mixin writes them one invoice at a time)."""
        moves.flush_recordset(["access_token"])
        self.env.execute_query(
            SQL(
                "UPDATE account_move SET access_token = gen_random_uuid()::text "
                "WHERE id = ANY(%s) AND access_token IS NULL",
                moves.ids,
            )
        )
        moves.invalidate_recordset(["access_token"])
        # read back for all of them at once, not invoice by invoice when each
        # email's links are rendered
        moves.fetch(["access_token"])

    @api.model
    def _collection_copy_salesperson(self, moves, messages):
        """Put each invoice's salesperson in copy of the emails sent to its customer."""
        salesperson_of = {move.id: move._collection_salesperson() for move in moves}
        customer_mails = (
            self.env["mail.mail"]
            .sudo()
            .search([("mail_message_id", "in", messages.ids)])
            .filtered(lambda mail: mail.recipient_ids.filtered("partner_share"))
        )
        for mail in customer_mails:
            salesperson = salesperson_of.get(mail.res_id) or self.env["res.users"]
            if salesperson.email and salesperson.partner_id not in mail.recipient_ids:
                mail.email_cc = salesperson.email_formatted

    @api.model
    def _collection_report_late_entry(self, moves, stage):
        """Say in each customer's chatter which of its invoices' stage email is
        not sent, being stale: one note per customer listing its invoices (at
        most ``COLLECTION_LATE_ENTRY_MAX_LISTED``, the others counted), not one
        per invoice, since going live over a backlog of old invoices would
        write thousands of them."""
        if not moves:
            return
        today = fields.Date.context_today(moves)
        # translated once for the thousands of lines of a go-live
        days_after = self.env._("(%(days)s days after the stage's date)")
        bodies = {}
        for customer, customer_moves in moves.grouped("commercial_partner_id").items():
            customer_moves = customer_moves.sorted(
                lambda m: (m.collection_date_due, m.name or "", m.id)
            )
            listed = customer_moves[:COLLECTION_LATE_ENTRY_MAX_LISTED]
            items = Markup("").join(
                Markup("<li>%s %s</li>")
                % (
                    move._get_html_link(),
                    days_after
                    % {
                        "days": (today - move.collection_date_due).days
                        - stage.day_offset
                    },
                )
                for move in listed
            )
            more = len(customer_moves) - len(listed)
            bodies[customer.id] = Markup("<p>%s</p><ul>%s</ul>%s") % (
                self.env._(
                    "The email '%(template)s' of collection stage %(stage)s was not "
                    "sent for these invoices: they entered the collection process "
                    "more than %(max)s days after that stage's date. Send it from "
                    "an invoice if it is still relevant.",
                    template=stage.mail_template_id.name,
                    stage=stage.name,
                    max=COLLECTION_MAIL_MAX_DELAY,
                ),
                items,
                Markup("<p>%s</p>")
                % self.env._("… and %(count)s more invoices.", count=more)
                if more
                else "",
            )
        self.env["res.partner"].browse(bodies)._message_log_batch(bodies)

    @api.model
    def _collection_report_missing_email(self, moves, stage):
        """Chatter note and salesperson activity for customers without email."""
        if not moves:
            return
        todo = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        model_id = self.env["ir.model"]._get_id("account.move")
        activity_vals, bodies = [], {}
        for move in moves:
            customer = move.commercial_partner_id
            bodies[move.id] = Markup("<p>%s</p>") % self.env._(
                "The email '%(template)s' of collection stage %(stage)s was not sent: "
                "neither %(customer)s nor its contacts have an email address.",
                template=stage.mail_template_id.name,
                stage=stage.name,
                customer=customer.display_name,
            )
            user = move._collection_assignee("missing_email")
            if not user or not todo:
                continue
            activity_vals.append(
                {
                    "res_model_id": model_id,
                    "res_id": move.id,
                    "activity_type_id": todo.id,
                    "summary": self.env._(
                        "Add an email address for %(customer)s",
                        customer=customer.display_name,
                    ),
                    "note": Markup("<p>%s</p>")
                    % self.env._(
                        "The customer did not receive the collection email of stage "
                        "%(stage)s. Contact them another way, and add an email address "
                        "on the customer or on a contact marked for collections.",
                        stage=stage.name,
                    ),
                    "date_deadline": fields.Date.context_today(moves),
                    "user_id": user.id,
                    "automated": True,
                    "collection_stage_id": stage.id,
                    "collection_notified": False,
                }
            )
        moves._message_log_batch(bodies)
        if activity_vals:
            self.env["mail.activity"].sudo().with_context(
                mail_activity_quick_update=True
            ).create(activity_vals)

    # -------------------------------------------------------------------------
    # The users' digests
    # -------------------------------------------------------------------------

    @api.model
    def _collection_send_digests(self, limit=COLLECTION_DIGEST_MAX_ACTIVITIES):
        """One email per user listing the collection activities created for them
        since their last digest (the per-activity assignment email is suppressed):
        the first ``limit`` by deadline, and how many there are in all.

        The activities are grouped by user in SQL and only those listed are read,
        so that a first run over a large portfolio (thousands of activities per
        user) costs no more memory than an ordinary day.
        """
        Activity = self.env["mail.activity"].sudo()
        Activity.flush_model(
            ["collection_notified", "collection_stage_id", "active", "user_id"]
        )
        by_user = self.env.execute_query(
            SQL(
                """
                SELECT user_id, array_agg(id ORDER BY date_deadline, id)
                  FROM mail_activity
                 WHERE collection_stage_id IS NOT NULL
                   AND collection_notified IS NOT TRUE
                   AND active
              GROUP BY user_id
              ORDER BY user_id
                """
            )
        )
        if not by_user:
            return
        Move = self.env["account.move"]
        base_url = Move.get_base_url()
        mails = []
        # the users (and their partners) read together, not one by one
        users = (
            self.env["res.users"]
            .sudo()
            .browse([user_id for user_id, _ids in by_user if user_id])
        )
        for user_id, activity_ids in by_user:
            user = users.browse(user_id).with_prefetch(users._prefetch_ids)
            if not user.partner_id.email:
                _logger.info(
                    "Collection digest not sent to %s: the user has no email address",
                    user.login,
                )
                continue
            lang = user.lang or self.env.lang
            listed = Activity.with_context(lang=lang).browse(activity_ids[:limit])
            moves = Move.with_context(lang=lang).browse(listed.mapped("res_id"))
            move_by_id = {move.id: move for move in moves}
            body = (
                self.env["ir.qweb"]
                .with_context(lang=lang)
                ._render(
                    "account_collections.collection_digest_mail",
                    {
                        "user": user,
                        "activities": listed,
                        "count": len(activity_ids),
                        "move_by_id": move_by_id,
                        "base_url": base_url,
                    },
                )
            )
            mails.append(
                {
                    "subject": (
                        self.with_context(lang=lang).env._(
                            "Collections: %(count)s new activities",
                            count=len(activity_ids),
                        )
                        if len(activity_ids) > 1
                        else self.with_context(lang=lang).env._(
                            "Collections: 1 new activity"
                        )
                    ),
                    "body_html": body,
                    "email_from": (
                        self.env.company.email_formatted
                        or self.env.user.email_formatted
                    ),
                    "recipient_ids": [fields.Command.link(user.partner_id.id)],
                    "auto_delete": True,
                }
            )
            # what the rendering read is not needed any more
            listed.invalidate_recordset()
            moves.invalidate_recordset()
        self.env["mail.mail"].sudo().create(mails)
        Activity.browse(
            [activity_id for _user, ids in by_user for activity_id in ids]
        ).write({"collection_notified": True})
