from odoo.exceptions import AccessError, ValidationError
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from .common import day
from .common_rpc import RpcCommon

MODELS_LOGGER = "odoo.addons.account_collections.models"


@tagged("post_install", "-at_install")
class TestAccessSegments(RpcCommon):
    """A segment's customer domain is evaluated with the rights of its author in
    the segment's company: it tells its author nothing they could not find by
    searching the company's customers themselves."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Segment = cls.env["collection.segment"]
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.seller_b = cls._create_collection_user(
            "seller_b", "Bea Seller", company=cls.company_b
        )
        # company A invoices both customers; company B invoices Globex 77,777,
        # which company A's people cannot see
        cls._post_invoice(day(0), 4321.0, partner=cls.customer)
        cls._post_invoice(day(0), 100.0, partner=cls.customer_2)
        cls.whale_b = cls._post_invoice(
            day(0),
            77777.0,
            partner=cls.customer_2,
            user=cls.seller_b,
            company=cls.company_b,
        )
        cls.manager_no_accounting = cls._create_collection_user(
            "collmanager_noacc",
            "Nora Manager",
            groups=["base.group_user", "account_collections.group_collection_manager"],
        )

    def _segment_of(self, partner, company=None):
        return partner.with_company(company or self.company).collection_segment_id

    def _create_as(self, user, domain, context=None, **vals):
        return self._rpc(
            user,
            "collection.segment",
            "create",
            {
                "name": "Whales",
                "sequence": 50,
                "policy_id": self.policy.id,
                "partner_domain": domain,
                **vals,
            },
            context=context,
        )

    def test_rpc_domain_on_another_company_s_invoices_reveals_nothing(self):
        self.assertFalse(
            self._rpc(
                self.manager,
                "account.move",
                "search",
                [("amount_total", "=", 77777)],
            ),
            "the manager of company A cannot see company B's invoice",
        )
        segment_id = self._create_as(
            self.manager,
            "['|', ('invoice_ids.amount_total', '=', 77777), "
            "('invoice_ids.amount_total', '=', 4321)]",
        )
        segment = self.Segment.browse(segment_id)
        self.assertEqual(segment.domain_user_id, self.manager)
        # Evaluate Now, as the attacker would
        with freeze_time(day(1)):
            self._rpc(self.manager, "collection.segment", "action_evaluate", [])
        count = self._rpc(
            self.manager, "collection.segment", "read", [segment_id], ["customer_count"]
        )[0]["customer_count"]
        self.assertEqual(count, 1, "only Acme, by its own company's invoice")
        self.assertEqual(self._segment_of(self.customer), segment)
        self.assertFalse(self._segment_of(self.customer_2))
        # the daily run evaluates it with the same rights
        segment.sudo().write({"sequence": 51})  # the system's write: same author
        self.assertEqual(segment.domain_user_id, self.manager)
        self._run(day(2))
        self.assertEqual(self._segment_of(self.customer), segment)
        self.assertFalse(self._segment_of(self.customer_2))

    def test_rpc_domain_uses_only_fields_its_author_may_read(self):
        # a collection manager without accounting rights reads no receivable
        # and no invoice: a domain on them is refused when it is saved
        for domain in (
            "[('credit', '>', 1000)]",
            "[('invoice_ids.amount_total', '=', 77777)]",
            "[('invoice_ids', 'any', [('amount_total', '=', 77777)])]",
        ):
            with self._refused(ValidationError, "not valid"):
                self._create_as(self.manager_no_accounting, domain)
        # written by one who may (or by the system), then given to one who may not:
        # the writer of the domain is its author
        segment_id = self._create_as(self.manager, "[('credit', '>', 1000)]")
        with self._refused(ValidationError, "not valid"):
            self._rpc(
                self.manager_no_accounting,
                "collection.segment",
                "write",
                [segment_id],
                {"partner_domain": "[('credit', '>', 2000)]"},
            )
        # relations whose records Odoo does not check against the author's rights
        with self._refused(ValidationError, "not valid"):
            self._create_as(
                self.manager, "[('message_ids.body', 'ilike', 'secret')]", sequence=55
            )

    def test_rpc_author_of_a_domain_is_not_chosen_by_the_caller(self):
        with self._refused(AccessError, "set by the system"):
            self._create_as(
                self.manager, "[]", domain_user_id=self.env.ref("base.user_admin").id
            )
        segment_id = self._create_as(
            self.manager,
            "[('name', 'ilike', 'Acme')]",
            context={"default_domain_user_id": self.env.ref("base.user_admin").id},
        )
        segment = self.Segment.browse(segment_id)
        self.assertEqual(segment.domain_user_id, self.manager)
        with self._refused(AccessError, "set by the system"):
            self._rpc(
                self.manager,
                "collection.segment",
                "write",
                [segment_id],
                {"domain_user_id": self.env.ref("base.user_admin").id},
            )
        copy_id = self._rpc(
            self.manager, "collection.segment", "copy", [segment_id], {"sequence": 60}
        )
        self.assertEqual(self.Segment.browse(copy_id).domain_user_id, self.manager)

    @mute_logger(MODELS_LOGGER)
    def test_domain_of_an_author_who_lost_the_company_is_not_evaluated(self):
        segment = self.Segment.browse(
            self._create_as(self.manager, "[('name', 'ilike', 'Acme')]")
        )
        with freeze_time(day(1)):
            self.Segment._collection_evaluate(self.company, day(1))
        self.assertEqual(self._segment_of(self.customer), segment)
        # the author no longer works for company A: nobody else's rights stand in
        # for theirs; the segment is skipped (its customers stay) and says why
        self.manager.write(
            {
                "company_ids": [(6, 0, self.company_b.ids)],
                "company_id": self.company_b.id,
            }
        )
        self.customer_2.name = "Acme's sister"
        with freeze_time(day(2)):
            self.Segment._collection_evaluate(self.company, day(2))
        self.assertEqual(self._segment_of(self.customer), segment)
        self.assertFalse(self._segment_of(self.customer_2))
        self.assertIn("could not be evaluated", segment.message_ids[:1].body)
        self.assertIn("Mona Manager", segment.message_ids[:1].body)
