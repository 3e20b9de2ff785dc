from datetime import date, timedelta

from odoo import Command
from odoo.tests import freeze_time
from odoo.tools import SQL

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

# the due date of the tests' invoices, from which their days are counted
DUE = date(2026, 3, 16)
# the model that computes the aging
AGING_REPORT = "report.account_collections.collection_aging_report_document"


def day(offset):
    """The day ``offset`` days after ``DUE`` (before it when negative)."""
    return DUE + timedelta(days=offset)


class CollectionCommon(AccountTestInvoicingCommon):
    """Salespeople in a sales team with a leader, customers, and helpers to post
    invoices, pay them and run the daily collection action on a given day."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.company_data["company"]
        cls.policy = cls.env.ref("account_collections.collection_policy_default")
        cls.company.collection_policy_id = cls.policy
        cls.stage_reminder, cls.stage_overdue, cls.stage_escalation, cls.stage_final = (
            cls.policy.stage_ids.sorted("day_offset")
        )
        cls.cron = cls.env.ref("account_collections.ir_cron_collection_run")
        cls.salesperson = cls._create_collection_user("salesperson", "Sam Seller")
        cls.salesperson_2 = cls._create_collection_user("salesperson2", "Sally Seller")
        cls.leader = cls._create_collection_user("leader", "Leo Leader")
        cls.team = cls.env["crm.team"].create(
            {
                "name": "Direct Sales",
                "user_id": cls.leader.id,
                "company_id": cls.company.id,
                "member_ids": [Command.set([cls.salesperson.id, cls.salesperson_2.id])],
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Acme Customer", "email": "ap@acme.example", "is_company": True}
        )
        cls.customer_2 = cls.env["res.partner"].create(
            {
                "name": "Globex Customer",
                "email": "ap@globex.example",
                "is_company": True,
            }
        )
        cls.mail_activity_model = cls.env["mail.activity"]

    @classmethod
    def _stage_template(cls, name, subject, stage=None):
        """A customer email on invoices with ``subject``, set on ``stage``."""
        template = cls.env["mail.template"].create(
            {
                "name": name,
                "model_id": cls.env["ir.model"]._get_id("account.move"),
                "subject": subject,
                "body_html": "<p>Please pay <t t-out='object.name'/></p>",
                "partner_to": "{{ object.partner_id.id }}",
            }
        )
        if stage:
            stage.mail_template_id = template
        return template

    @classmethod
    def _load_spanish(cls):
        """Activate Spanish with the addon's terms (from i18n/es.po)."""
        cls.env["res.lang"]._activate_lang("es_ES")
        cls.env["ir.module.module"]._load_module_terms(
            ["account_collections"], ["es_ES"], overwrite=True
        )

    @classmethod
    def _create_collection_user(cls, login, name, groups=None, company=None):
        company = company or cls.company_data["company"]
        return (
            cls.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "login": login,
                    "name": name,
                    "email": f"{login}@example.com",
                    "company_id": company.id,
                    "company_ids": [Command.set(company.ids)],
                    "groups_id": [
                        Command.set(
                            [
                                cls.env.ref(xmlid).id
                                for xmlid in groups
                                or [
                                    "base.group_user",
                                    "sales_team.group_sale_salesman",
                                    "account.group_account_invoice",
                                ]
                            ]
                        )
                    ],
                }
            )
        )

    @classmethod
    def _post_invoice(
        cls,
        due,
        amount=1000.0,
        partner=None,
        user=None,
        company=None,
        move_type="out_invoice",
        invoice_date=None,
        currency=None,
    ):
        """Post a customer invoice (or ``move_type``) due on ``due`` for ``amount``."""
        company = company or cls.company_data["company"]
        user = cls.salesperson if user is None else user
        move = (
            cls.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": move_type,
                    "partner_id": (partner or cls.customer).id,
                    "invoice_date": invoice_date
                    or min(due, date(due.year, due.month, 1)),
                    "invoice_date_due": due,
                    "invoice_user_id": user.id,
                    "currency_id": (currency or company.currency_id).id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Consulting",
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        move.action_post()
        return move

    def _pay(self, move, amount=None, pay_date=None):
        """Register a real payment on ``move`` (all of it unless ``amount``)."""
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create(
                {
                    "payment_date": pay_date or move.invoice_date,
                    **({"amount": amount} if amount is not None else {}),
                }
            )
        )
        return wizard._create_payments()

    def _run(self, day, **kwargs):
        """Run the daily collection action as the scheduler would, on ``day``."""
        with freeze_time(day):
            if kwargs:
                return self.env["account.move"]._cron_collection_run(**kwargs)
            self.cron.method_direct_trigger()

    def _attach_statements(self, day):
        """Run the statement job as the scheduler does once the run of ``day``
        queued its emails (the run triggers it): their statements attached,
        the emails released."""
        cron = self.env.ref("account_collections.ir_cron_collection_statements")
        queue = self.env["collection.statement.queue"].sudo()
        with freeze_time(day):
            for _call in range(10):  # the scheduler's calls while some remain
                cron.method_direct_trigger()
                if not queue.search_count([]):
                    return

    def _run_with_statements(self, day):
        """The daily run of ``day``, then the statement job it triggers."""
        self._run(day)
        self._attach_statements(day)

    def _sql_policy(self, moves):
        """``{move id: policy id}`` as the set-based queries read the policy rule
        (to hold it to the Python rule, ``_policy()``)."""
        receivable = self.env["collection.receivable"]
        self.env.flush_all()
        return dict(
            self.env.execute_query(
                SQL(
                    "SELECT m.id, %s FROM account_move m %s WHERE m.id = ANY(%s)",
                    receivable._collection_policy_sql("rcv"),
                    receivable._collection_invoice_joins("m", alias="rcv"),
                    moves.ids,
                )
            )
        )

    def _policy(self, move):
        """The invoice's policy as the Python rule computes it now."""
        move.invalidate_recordset(["collection_policy_id"])
        return move.collection_policy_id

    def _days_overdue(self, move, on):
        """The invoice's days overdue as a user reads them on ``on``."""
        with freeze_time(on):
            move.invalidate_recordset(["collection_days_overdue"])
            return move.collection_days_overdue

    def _collection_activities(self, moves):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "account.move"),
                ("res_id", "in", moves.ids),
                ("collection_stage_id", "!=", False),
            ]
        )

    def _done_collection_messages(self, move):
        return move.message_ids.filtered(
            lambda m: (
                m.mail_activity_type_id
                and m.mail_activity_type_id.res_model == "account.move"
                and m.subtype_id == self.env.ref("mail.mt_activities")
            )
        )
