"""Legal handover: when an invoice reaches a stage of phase ``legal``, the daily
run hands the customer's case over to the policy's legal responsible."""

import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL

from .collection_tools import log_failure, run_isolated

_logger = logging.getLogger(__name__)

STATEMENT_REPORT = "account_collections.action_report_customer_statement"
CASE_FILE_REPORT = "account_collections.action_report_collection_case_file"
INVOICE_REPORT = "account.account_invoices"


class CollectionLegal(models.AbstractModel):
    _name = "collection.legal"
    _description = "Collection Legal Handover"

    @api.model
    def _collection_handover_due(self, today):
        """Hand over every customer with an open invoice at a legal stage: its
        overdue invoices are excluded (reason legal), the legal responsible gets
        the case file and an activity. An excluded invoice is not selected again:
        a re-run hands nothing over twice. One customer's failure is logged on
        its invoice and does not stop the others."""
        self.env.flush_all()
        receivable = self.env["collection.receivable"]
        rows = self.env.execute_query(
            SQL(
                """
                SELECT m.commercial_partner_id, m.company_id, array_agg(m.id ORDER BY m.id)
                  FROM account_move m
                  JOIN collection_stage stage ON stage.id = m.collection_stage_id
                 WHERE stage.phase = 'legal' AND %s
              GROUP BY m.commercial_partner_id, m.company_id
                """,
                receivable._collection_open_sql("m"),
            )
        )
        moves = self.env["account.move"].sudo()
        cases = [
            (partner_id, company_id, moves.browse(move_ids))
            for partner_id, company_id, move_ids in rows
        ]
        for _partner_id, _company_id, legal_moves in cases:
            run_isolated(
                legal_moves[:1],
                lambda move, legal_moves=legal_moves: self._collection_handover(
                    legal_moves, today
                ),
                lambda move, error: log_failure(
                    move,
                    self.env._("The legal handover of this customer failed:"),
                    error,
                ),
            )
        return len(cases)

    @api.model
    def _collection_handover(self, legal_moves, today):
        """Hand over the customer of ``legal_moves`` (its open invoices at a legal
        stage, of one company)."""
        move = legal_moves[0]
        company = move.company_id
        customer = move.commercial_partner_id
        stage = move.collection_stage_id
        legal_user, law_firm = self._collection_legal_recipients(
            stage.policy_id, company
        )
        recipients = law_firm | legal_user.partner_id
        overdue = (
            self.env["account.move"]
            .sudo()
            .search(
                self.env["collection.receivable"]._collection_open_domain()
                + [
                    ("commercial_partner_id", "=", customer.id),
                    ("company_id", "=", company.id),
                    ("collection_date_due", "<", today),
                ]
            )
        )
        overdue |= legal_moves
        overdue._collection_exclude(
            "legal",
            self.env._(
                "Handed over to %(responsible)s at the stage %(stage)s.",
                responsible=self._collection_responsible_name(recipients),
                stage=stage.display_name,
            ),
        )
        attachments = self._collection_case_file(customer, company, overdue, today)
        body = Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._(
                "Collection case handed over to %(responsible)s: %(count)s overdue "
                "invoices of %(customer)s, %(amount)s. The case file is attached "
                "(statement, contacts, promises and payment plans, invoices).",
                responsible=self._collection_responsible_name(recipients),
                count=len(overdue),
                customer=customer.display_name,
                amount=company.currency_id.format(
                    sum(overdue.mapped("amount_residual_signed"))
                ),
            ),
            Markup().join(
                Markup("<li>%s</li>") % invoice.display_name for invoice in overdue
            ),
        )
        if not recipients:
            body += Markup("<p>%s</p>") % self.env._(
                "The policy has no legal recipient for %(company)s: the case file "
                "stays in the customer's chatter.",
                company=company.name,
            )
        customer.with_company(company).message_post(
            body=body,
            subject=self.env._(
                "Collection case: %(customer)s", customer=customer.display_name
            ),
            partner_ids=recipients.ids,
            attachment_ids=attachments.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment" if recipients else "mail.mt_note",
        )
        for invoice in overdue:
            invoice.message_post(body=body, subtype_xmlid="mail.mt_note")
        user = move._collection_assignee("legal", holder=legal_user)
        if user:
            move.activity_schedule(
                "account_collections.mail_activity_type_collection_legal",
                user_id=user.id,
                summary=self.env._(
                    "Legal handover: %(customer)s", customer=customer.display_name
                ),
                note=body,
            )
        _logger.info(
            "Collection: case of %s (%s invoices) handed over to legal",
            customer.display_name,
            len(overdue),
        )

    @api.model
    def _collection_legal_recipients(self, policy, company):
        """The legal responsible and the law firm of ``policy`` that may receive
        the cases of ``company``: set on a policy of that company (which only its
        managers set up), the user still working for it, the law firm shared or
        of that company. A shared policy's are never used (it may not carry
        any: see the policy's constraint)."""
        policy = policy.sudo()
        users = self.env["res.users"]
        partners = self.env["res.partner"]
        if policy.company_id != company:
            return users, partners
        user = policy.legal_user_id.filtered(
            lambda u: u.active and company in u.company_ids
        )
        law_firm = policy.legal_partner_id.filtered(
            lambda p: not p.company_id or p.company_id in company.parent_ids
        )
        return user, law_firm

    @api.model
    def _collection_responsible_name(self, recipients):
        names = recipients.mapped("display_name")
        return ", ".join(names) or self.env._("the legal responsible")

    @api.model
    def _collection_case_file(self, customer, company, moves, today):
        """The attachments of the case file: the customer statement (when the
        addon has it), the case summary (contacts, promises, payment plans) and
        the invoices' PDFs."""
        reports = self.env["ir.actions.report"].sudo().with_company(company)
        attachments = self.env["ir.attachment"].sudo()
        documents = []
        statement = self.env.ref(STATEMENT_REPORT, raise_if_not_found=False)
        if statement:
            content, _kind = reports._render_qweb_pdf(
                statement,
                customer.ids,
                data={
                    "date_at": fields.Date.to_string(today),
                    "company_id": company.id,
                },
            )
            documents.append((self.env._("Statement"), content))
        content, _kind = reports._render_qweb_pdf(
            CASE_FILE_REPORT,
            customer.ids,
            data={"company_id": company.id, "move_ids": moves.ids},
        )
        documents.append((self.env._("Case file"), content))
        for invoice in moves:
            content, _kind = reports._render_qweb_pdf(INVOICE_REPORT, invoice.ids)
            documents.append((invoice.name.replace("/", "_"), content))
        for name, content in documents:
            attachments |= attachments.create(
                {
                    "name": f"{name} - {customer.display_name}.pdf",
                    "raw": content,
                    "mimetype": "application/pdf",
                    "res_model": "res.partner",
                    "res_id": customer.id,
                }
            )
        return attachments


class CollectionCaseFileReport(models.AbstractModel):
    _name = "report.account_collections.collection_case_file"
    _description = "Collection Case File"

    @api.model
    def _get_report_values(self, docids, data=None):
        data = data or {}
        company = self.env["res.company"].browse(data.get("company_id")).exists()
        company = company or self.env.company
        customers = self.env["res.partner"].browse(docids)
        moves = self.env["account.move"].browse(data.get("move_ids") or [])
        moves.check_access("read")
        domain = [
            ("partner_id", "in", customers.ids),
            ("company_id", "=", company.id),
        ]
        return {
            "doc_ids": docids,
            "doc_model": "res.partner",
            "docs": customers,
            "company": company,
            "moves": moves,
            "contacts": self.env["collection.contact"].search(domain),
            "promises": self.env["collection.promise"].search(domain),
            "plans": self.env["collection.plan"].search(domain),
        }
