import inspect

from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged

from .common import DUE, day
from .common_rpc import RpcCommon

SERVICE_MODELS = (
    "collection.engine",
    "collection.mailing",
    "collection.promise.judge",
    "collection.exclusion",
)
REFUSED = "cannot be called remotely"


@tagged("post_install", "-at_install")
class TestServiceModelsOverRpc(RpcCommon):
    """The daily run's services (the run itself, its emails, the judging of
    promises) do with superuser rights what the run may do: a salesperson calling
    them through RPC is refused, whatever the context, and nothing is done."""

    def _addon_methods(self, model):
        """Names of the methods the addon defines on ``model``."""
        names = set()
        for cls in type(self.env[model]).mro():
            if cls.__module__.startswith("odoo.addons.account_collections."):
                names.update(
                    name
                    for name, member in vars(cls).items()
                    if inspect.isfunction(member)
                )
        return names

    def test_no_method_of_the_services_is_callable_over_rpc(self):
        """Every method of the three services, now and later ones too."""
        expected = {
            "collection.engine": {"_run", "_collection_execute"},
            "collection.mailing": {"_collection_send_digests"},
            "collection.promise.judge": {"_collection_judge_due"},
            "collection.exclusion": {"_collection_exclude", "_collection_include"},
        }
        for model in SERVICE_MODELS:
            methods = self._addon_methods(model)
            self.assertLessEqual(expected[model], methods, model)
            for method in sorted(methods):
                with (
                    self.subTest(model=model, method=method),
                    self._refused(AccessError, REFUSED),
                ):
                    self._rpc(
                        self.salesperson,
                        model,
                        method,
                        context=self.ATTACKER_CONTEXT,
                    )
            # nor do the ORM's public methods reach them: no access rights at all
            with (
                self.subTest(model=model, method="search_read"),
                self._refused(AccessError, "not allowed"),
            ):
                self._rpc(self.salesperson, model, "search_read", [])

    def test_salesperson_cannot_run_the_daily_run(self):
        """Running the engine early would create the stage's activities and send
        the customer emails before the scheduler does."""
        invoice = self._post_invoice(DUE)
        with freeze_time(day(1)), self._refused(AccessError, REFUSED):
            self._rpc(self.salesperson, "collection.engine", "_run", batch_size=10)
        self.assertFalse(invoice.collection_stage_id)
        self.assertFalse(self._collection_activities(invoice))
        # the scheduler's run does advance it
        self._run(day(1))
        self.assertEqual(invoice.collection_stage_id, self.stage_overdue)

    def test_salesperson_cannot_judge_or_close_a_promise(self):
        """Judging a promise early, or closing it as kept, would pause or resume
        the escalation of its invoice at the salesperson's will."""
        invoice = self._post_invoice(DUE)
        promise = self._promise(invoice, day(5))
        with freeze_time(day(10)):
            with self._refused(AccessError, REFUSED):
                self._rpc(
                    self.salesperson,
                    "collection.promise.judge",
                    "_collection_judge_due",
                    str(day(10)),
                )
            with self._refused(AccessError, REFUSED):
                self._rpc(
                    self.salesperson,
                    "collection.promise.judge",
                    "_collection_close",
                    promise.ids,
                    "kept",
                    "kept",
                )
        self.assertEqual(promise.state, "open")
        self._run(day(10))
        self.assertEqual(promise.state, "broken")

    def test_salesperson_cannot_send_the_digests_or_customer_emails(self):
        """The digest is sent once, at the end of the run; the customer emails
        with the stages that have them."""
        invoices = self._post_invoice(DUE) | self._post_invoice(
            DUE, partner=self.customer_2
        )
        # a first batch: the digest waits for the end of the run
        self._run(day(1), batch_size=1)
        Mail = self.env["mail.mail"].sudo()
        mails_before = Mail.search([])
        with freeze_time(day(1)):
            with self._refused(AccessError, REFUSED):
                self._rpc(
                    self.salesperson, "collection.mailing", "_collection_send_digests"
                )
            with self._refused(AccessError, REFUSED):
                self._rpc(
                    self.salesperson,
                    "collection.mailing",
                    "_collection_send_stage_mail",
                    invoices.ids,
                    self.stage_overdue.id,
                )
        self.assertFalse(Mail.search([]) - mails_before)
        # the run's own call does send the digest
        self.env["collection.mailing"]._collection_send_digests()
        self.assertTrue(Mail.search([]) - mails_before)

    def test_nobody_reaches_the_statement_queue(self):
        """The customer emails waiting for their statement are the run's and the
        statement job's: even a collection manager neither reads nor writes them,
        nor runs the job over RPC."""
        manager = self._create_collection_user(
            "queue_boss",
            "Quinn Boss",
            groups=["base.group_user", "account_collections.group_collection_manager"],
        )
        model = "collection.statement.queue"
        for user in (self.salesperson, manager):
            with self.subTest(user=user.name):
                with self._refused(AccessError, "not allowed"):
                    self._rpc(user, model, "search_read", [])
                with self._refused(AccessError, "not allowed"):
                    self._rpc(
                        user,
                        model,
                        "create",
                        [{"date": "2026-03-17", "partner_id": self.customer.id}],
                    )
                with self._refused(AccessError, REFUSED):
                    self._rpc(
                        user,
                        model,
                        "_cron_attach_statements",
                        context=self.ATTACKER_CONTEXT,
                    )
