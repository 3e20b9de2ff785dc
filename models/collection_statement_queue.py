import logging
from datetime import timedelta

import psycopg2

from odoo import api, fields, models
from odoo.tools import split_every

from .collection_tools import log_failure

_logger = logging.getLogger(__name__)

# customer statements rendered per wkhtmltopdf call
STATEMENT_BATCH = 100
# a customer email waits this long for its statement at most: if the statement
# job never runs, the email still leaves, without it
STATEMENT_HOLD_HOURS = 6
# renderings tried before the email is released without its statement
STATEMENT_MAX_ATTEMPTS = 3


class CollectionStatementQueue(models.Model):
    """A customer email of the daily run waiting for its customer statement.

    The run posts the email and queues its statement here, in the same
    transaction, with the email's outgoing mails held for a few hours; the
    scheduled action "Collections: customer statements" renders the statements
    in batches (one wkhtmltopdf call per 100 customers), attaches each to its
    email and releases it, and deletes the row in the transaction that attaches
    it: a re-run after a crash attaches nothing twice. No user reads or writes
    these rows (no access rights): only the run and the job, as superuser."""

    _name = "collection.statement.queue"
    _description = "Customer Statement to Attach"
    _order = "company_id, date, id"

    message_id = fields.Many2one(
        "mail.message", required=True, ondelete="cascade", index=True
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, ondelete="cascade"
    )
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade")
    date = fields.Date(string="As of", required=True)
    attempts = fields.Integer()

    # -------------------------------------------------------------------------
    # Queuing (the daily run)
    # -------------------------------------------------------------------------

    @api.model
    def _collection_queue_many(self, emails, date_at):
        """Each email of ``emails`` (``[(message, customer, company)]``) waits
        for the statement of its customer as of ``date_at`` in its company:
        queued, its outgoing mails held."""
        if not emails:
            return
        self.sudo().create(
            [
                {
                    "message_id": message.id,
                    "partner_id": customer.id,
                    "company_id": company.id,
                    "date": date_at,
                }
                for message, customer, company in emails
            ]
        )
        messages = self.env["mail.message"].concat(*(email[0] for email in emails))
        self._collection_mails(messages).write(
            {
                "scheduled_date": fields.Datetime.now()
                + timedelta(hours=STATEMENT_HOLD_HOURS)
            }
        )

    @api.model
    def _collection_mails(self, messages):
        """The outgoing mails of ``messages`` (sudo)."""
        return (
            self.env["mail.mail"]
            .sudo()
            .search(
                [("mail_message_id", "in", messages.ids), ("state", "=", "outgoing")]
            )
        )

    # -------------------------------------------------------------------------
    # The statement job
    # -------------------------------------------------------------------------

    @api.model
    def _cron_attach_statements(self, batch_size=STATEMENT_BATCH):
        """Scheduled action "Collections: customer statements": attach their
        statement to at most ``batch_size`` queued customer emails and release
        them, then report the progress (the scheduler calls again while some
        remain, committing between calls). The daily run triggers it once its
        emails are queued; its own schedule is a safety net."""
        queue = self.sudo()
        rows = queue.search([], limit=batch_size)
        if rows:
            self._collection_attach(rows)
        remaining = queue.search_count([])
        _logger.info(
            "Customer statements: %s emails handled, %s remaining",
            len(rows),
            remaining,
        )
        self.env["ir.cron"]._notify_progress(done=len(rows), remaining=remaining)
        return len(rows)

    @api.model
    def _collection_attach(self, rows):
        """Render the statements of ``rows`` per company and date, in batches of
        ``STATEMENT_BATCH`` customers, attach them and release the emails. A
        batch that fails is tried customer by customer; a customer whose
        statement fails counts an attempt, and after ``STATEMENT_MAX_ATTEMPTS``
        its email leaves without it (its lead invoice's chatter says so)."""
        groups = rows.grouped(lambda row: (row.company_id, row.date))
        for (company, date_at), group in groups.items():
            customers = group.partner_id
            for chunk in split_every(STATEMENT_BATCH, customers.ids, customers.browse):
                chunk_rows = group.filtered(lambda r, c=chunk: r.partner_id in c)
                try:
                    with self.env.cr.savepoint():
                        self._collection_attach_chunk(chunk_rows, company, date_at)
                    continue
                except psycopg2.OperationalError:
                    raise
                except Exception:  # noqa: BLE001 - each customer alone below
                    _logger.info(
                        "Customer statements: a batch of %s failed, rendering "
                        "them one by one",
                        len(chunk),
                    )
                for customer in chunk:
                    customer_rows = chunk_rows.filtered(
                        lambda r, c=customer: r.partner_id == c
                    )
                    try:
                        with self.env.cr.savepoint():
                            self._collection_attach_chunk(
                                customer_rows, company, date_at
                            )
                    except psycopg2.OperationalError:
                        raise
                    except Exception as error:  # noqa: BLE001 - counted, retried
                        self._collection_attach_failed(customer_rows, error)

    @api.model
    def _collection_attach_chunk(self, rows, company, date_at):
        """Render the statements of the customers of ``rows`` in one call, attach
        each to its email, release the emails and delete the rows."""
        statement = self.env["report.account_collections.report_customer_statement"]
        customers = rows.partner_id
        files = statement.sudo()._collection_statement_files(
            customers, date_at, company
        )
        values = []
        for row in rows:
            content, ext = files[row.partner_id.id]
            customer = row.partner_id
            values.append(
                {
                    "name": self.with_context(
                        lang=customer.lang or self.env.lang
                    ).env._(
                        "Statement - %(customer)s.%(ext)s",
                        customer=customer.name,
                        ext=ext,
                    ),
                    "raw": content,
                    "mimetype": "application/pdf" if ext == "pdf" else "text/html",
                    # the email's, on its invoice: not the invoice's main
                    # attachment (its PDF preview)
                    "res_model": row.message_id.model,
                    "res_id": row.message_id.res_id,
                }
            )
        attachments = self.env["ir.attachment"].sudo().create(values)
        for row, attachment in zip(rows, attachments, strict=True):
            # the outgoing mails read the message's attachments (mail.mail
            # inherits mail.message)
            row.message_id.sudo().attachment_ids = [fields.Command.link(attachment.id)]
        self._collection_release(rows)

    @api.model
    def _collection_release(self, rows):
        """The emails of ``rows`` leave now; the rows are done."""
        self._collection_mails(rows.message_id).write({"scheduled_date": False})
        rows.unlink()

    @api.model
    def _collection_attach_failed(self, rows, error):
        """The statement of ``rows`` could not be rendered or attached: counted;
        after ``STATEMENT_MAX_ATTEMPTS`` the emails leave without it and their
        invoice's chatter says so."""
        for row in rows:
            row.attempts += 1
        given_up = rows.filtered(lambda r: r.attempts >= STATEMENT_MAX_ATTEMPTS)
        for row in rows - given_up:
            _logger.info(
                "Customer statements: the statement of %s could not be attached "
                "(attempt %s of %s): %s",
                row.partner_id.display_name,
                row.attempts,
                STATEMENT_MAX_ATTEMPTS,
                error,
            )
        for row in given_up:
            message = row.message_id.sudo()
            record = self.env[message.model].browse(message.res_id).exists()
            if record:
                log_failure(
                    record,
                    self.env._(
                        "The customer statement could not be attached to the "
                        "collection email '%(subject)s': the email was sent "
                        "without it.",
                        subject=message.subject or "",
                    ),
                    error,
                )
        if given_up:
            self._collection_release(given_up)
