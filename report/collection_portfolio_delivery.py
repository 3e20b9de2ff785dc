import logging

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError

_logger = logging.getLogger(__name__)

REPORT_XMLID = "account_collections.action_report_portfolio_status"


class CollectionPortfolioDelivery(models.AbstractModel):
    """Sends the portfolio report: the weekly scheduled action, and "Send now"
    in the settings. Each delivery (or skipped delivery) is logged in
    collection.report.log, whose unique row per company, recipient and ISO week
    keeps a second run in the same week from sending again. The weekly action
    also stores the week's KPI snapshot (collection.kpi.history), which the
    report's trend charts show."""

    _name = "collection.portfolio.delivery"
    _description = "Portfolio Report Sending"

    # -------------------------------------------------------------------------
    # Weekly run
    # -------------------------------------------------------------------------

    @api.model
    def _cron_send_weekly_report(self, batch_size=50):
        """Weekly action: store the KPI snapshot of the week that ended (every
        company, once), then email the portfolio report to each company's
        recipients.

        Each call handles at most ``batch_size`` recipients not yet handled this
        ISO week and reports progress. A recipient is handled at most once per
        company and week (sent or skipped, with the reason in the log), so that
        running the action again in the same week sends nothing more.
        """
        today = fields.Date.context_today(self)
        history = self.env["collection.kpi.history"]
        history._collection_snapshot_week(today)
        week = self._collection_week(today)
        # the report is about the week that ended (as of its Sunday), the week
        # whose snapshot was just stored: its cards and its trend's last point
        # are the same figures
        report_date = history._collection_week_end(today)
        todo = self._collection_weekly_todo(week)
        batch = todo[:batch_size]
        by_company = {}
        for company, user in batch:
            by_company.setdefault(company, self.env["res.users"])
            by_company[company] |= user
        for company, users in by_company.items():
            self._collection_deliver(company, users, report_date, week=week)
        remaining = len(todo) - len(batch)
        _logger.info(
            "Weekly portfolio report: %s recipients handled, %s remaining",
            len(batch),
            remaining,
        )
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=remaining)
        return len(batch)

    @api.model
    def _collection_week(self, day):
        year, week, _weekday = day.isocalendar()
        return f"{year}-W{week:02d}"

    @api.model
    def _collection_weekly_todo(self, week):
        """``[(company, user)]`` subscriptions not handled yet in ``week``."""
        companies = (
            self.env["res.company"]
            .sudo()
            .search([("collection_report_user_ids", "!=", False)], order="id")
        )
        handled = {
            (log.company_id.id, log.user_id.id)
            for log in self.env["collection.report.log"]
            .sudo()
            .search([("week", "=", week)])
        }
        return [
            (company, user)
            for company in companies
            for user in company.collection_report_user_ids.sorted("id")
            if (company.id, user.id) not in handled
        ]

    # -------------------------------------------------------------------------
    # Delivery
    # -------------------------------------------------------------------------

    @api.model
    def _collection_skip_reason(self, company, user):
        """Why ``user`` must not get the report of ``company`` (empty if they may)."""
        if not user.active:
            return self.env._("the user is archived")
        if user.share:
            return self.env._("the user is not an internal user")
        if company not in user.company_ids:
            return self.env._("the user is not allowed in this company")
        if not user.has_group("account_collections.group_collection_manager"):
            # subscribed while a manager, the group was taken away since
            return self.env._("the user is no longer a collection manager")
        if not user.partner_id.email:
            return self.env._("the user has no email address")
        return ""

    @api.model
    def _collection_deliver(self, company, users, date_to, week=False):
        """Email the portfolio report of ``company`` as of ``date_to`` to ``users``,
        each in their language with the PDF attached; return the log rows.

        Runs with superuser rights: the callers check who asks. A recipient who is
        not allowed in the company or has no email address is skipped, with a
        log line and a log row saying why.
        """
        self = self.sudo()  # noqa: PLW0642 - deliveries are written by the system
        Log = self.env["collection.report.log"]
        logs = Log.browse()
        rendered = {}  # lang -> see _collection_render()
        for user in users:
            values = {
                "company_id": company.id,
                "user_id": user.id,
                "week": week,
                "report_date": date_to,
                "email": user.partner_id.email,
            }
            reason = self._collection_skip_reason(company, user)
            if reason:
                _logger.info(
                    "Portfolio report of %s not sent to %s: %s",
                    company.name,
                    user.login,
                    reason,
                )
                logs |= Log.create({**values, "state": "skipped", "note": reason})
                continue
            lang, lang_note = self._collection_recipient_lang(company, user)
            if lang_note:
                _logger.info("Portfolio report to %s: %s", user.login, lang_note)
                values["note"] = lang_note
            try:
                if lang not in rendered:
                    with self.env.cr.savepoint():
                        rendered[lang] = self._collection_render(company, date_to, lang)
            except Exception as error:  # noqa: BLE001 - recorded in the log
                _logger.exception(
                    "Portfolio report of %s could not be rendered", company.name
                )
                logs |= Log.create(
                    {**values, "lang": lang, "state": "error", "note": str(error)}
                )
                continue
            logs |= self._collection_send(values, user, lang, rendered[lang])
        return logs

    @api.model
    def _collection_recipient_lang(self, company, user):
        """Return the language to send the report to ``user`` in, and a note when
        it is not theirs: a language removed after the recipient chose it falls
        back to the company's language, else English."""
        Lang = self.env["res.lang"]
        lang = user.lang or self.env.lang or "en_US"
        if lang == "en_US" or Lang._get_data(code=lang):
            return lang, False
        fallback = company.partner_id.lang
        if not fallback or not Lang._get_data(code=fallback):
            fallback = "en_US"
        return fallback, self.env._(
            "the language %(lang)s of the recipient is not installed: the report was "
            "sent in %(fallback)s.",
            lang=lang,
            fallback=Lang._get_data(code=fallback).name or fallback,
        )

    @api.model
    def _collection_render(self, company, date_to, lang):
        """Render the report of ``company`` in ``lang``: the values of the email
        body, the PDF (its content, type and file name), the subject and the
        trend charts as PNG for the email (``charts``: ``[(key, label, PNG)]``)."""
        env = self.with_context(lang=lang).env
        kpis = env["collection.portfolio.report"]._collection_kpis(company.ids, date_to)
        report_model = env["report.account_collections.report_portfolio_status"]
        values = report_model._collection_page_values(company, kpis)
        content, report_type = env["ir.actions.report"]._render_qweb_pdf(
            REPORT_XMLID,
            company.ids,
            data={
                "date_to": fields.Date.to_string(date_to),
                "period_days": kpis["period_days"],
                "collection_kpis": {company.id: kpis},
            },
        )
        if isinstance(content, str):
            content = content.encode()
        # in test mode, without force_report_rendering, Odoo renders HTML
        extension = "pdf" if report_type == "pdf" else "html"
        filename = env._(
            "Portfolio Status - %(company)s - %(date)s",
            company=company.name,
            date=fields.Date.to_string(date_to),
        )
        subject = env._(
            "Portfolio status of %(company)s as of %(date)s",
            company=company.name,
            date=values["fmt"].date(date_to),
        )
        return {
            "values": values,
            "subject": subject,
            "charts": [
                (chart["key"], chart["label"], chart["chart"].png())
                for chart in values["trend"]
            ],
            "content": content,
            "mimetype": "application/pdf" if extension == "pdf" else "text/html",
            "filename": f"{filename}.{extension}",
        }

    @api.model
    def _collection_send(self, log_values, user, lang, rendered):
        """Queue one email with the report in the body and the PDF attached."""
        log = self.env["collection.report.log"].create(
            {**log_values, "lang": lang, "state": "sent"}
        )
        company = log.company_id
        qweb = self.env["ir.qweb"].with_context(lang=lang)
        if "body" not in rendered:
            # the report's part of the email is the same for every recipient of
            # the rendering: rendered once, around each one's greeting
            rendered["body"] = qweb._render(
                "account_collections.report_portfolio_status_body",
                {
                    **rendered["values"],
                    "chart_images": self._collection_chart_images(log, rendered),
                },
            )
        body = qweb._render(
            "account_collections.report_portfolio_status_mail",
            {"user": user, "body": rendered["body"]},
        )
        attachment = self.env["ir.attachment"].create(
            {
                "name": rendered["filename"],
                "raw": rendered["content"],
                "mimetype": rendered["mimetype"],
                "res_model": log._name,
                "res_id": log.id,
            }
        )
        mail_values = {
            "subject": rendered["subject"],
            "body_html": body,
            "recipient_ids": [Command.link(user.partner_id.id)],
            "attachment_ids": [Command.link(attachment.id)],
            "auto_delete": False,
        }
        email_from = company.email_formatted or self.env.user.email_formatted
        if email_from:
            mail_values["email_from"] = email_from
        mail = self.env["mail.mail"].create(mail_values)
        log.write({"mail_id": mail.id, "attachment_id": attachment.id})
        return log

    @api.model
    def _collection_chart_images(self, log, rendered):
        """``{chart key: URL}``: the trend charts as PNG attachments, each
        readable with its own access token (mail clients fetch them as the
        public user; Gmail and Outlook do not show inline SVG, and Odoo's mail
        sending attaches files without a Content-ID that ``cid:`` could name).
        The mail queue makes the URLs absolute (``_replace_local_links``).

        Made once per rendering (company and language), attached to the log of
        its first recipient, and shared by the others' emails."""
        if "chart_images" in rendered:
            return rendered["chart_images"]
        Attachment = self.env["ir.attachment"]
        images = rendered["chart_images"] = {}
        for key, label, content in rendered["charts"]:
            token = Attachment._generate_access_token()
            attachment = Attachment.create(
                {
                    "name": f"{label}.png",
                    "raw": content,
                    "mimetype": "image/png",
                    "res_model": log._name,
                    "res_id": log.id,
                    "access_token": token,
                }
            )
            images[key] = f"/web/image/{attachment.id}?access_token={token}"
        return images

    # -------------------------------------------------------------------------
    # Send now
    # -------------------------------------------------------------------------

    @api.model
    def _collection_send_now(self, company, users):
        """Send the report of ``company`` to ``users`` now, as the weekly action
        would (a test of the weekly sending; not counted as this week's
        delivery)."""
        if not self.env.user.has_group("account_collections.group_collection_manager"):
            raise AccessError(
                self.env._("Only collection managers can send the portfolio report.")
            )
        if company not in self.env.user.company_ids:
            raise AccessError(
                self.env._("You are not allowed in %(company)s.", company=company.name)
            )
        # as the weekly action would send it: as of the week that ended
        report_date = self.env["collection.kpi.history"]._collection_week_end(
            fields.Date.context_today(self)
        )
        return self._collection_deliver(company, users, report_date, week=False)
