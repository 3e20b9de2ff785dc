from odoo.tests import tagged

from .common import DUE, CollectionCommon


@tagged("post_install", "-at_install")
class TestUnmatchedMoney(CollectionCommon):
    """The money a customer sent that is not matched with its invoices yet: what
    the run checks before asking it to pay."""

    def _payment(self, amount, partner=None, post=True):
        payment = self.env["account.payment"].create(
            {
                "amount": amount,
                "date": DUE,
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": (partner or self.customer).id,
            }
        )
        if post:
            payment.action_post()
        return payment

    def _statement_line(self, amount, partner=None):
        return self.env["account.bank.statement.line"].create(
            {
                "journal_id": self.company_data["default_journal_bank"].id,
                "date": DUE,
                "amount": amount,
                "payment_ref": "Transfer",
                "partner_id": (partner or self.customer).id,
            }
        )

    def _unmatched(self, **kwargs):
        return self.env["collection.receivable"]._collection_unmatched_money(**kwargs)

    def test_payments_and_statement_lines_not_matched(self):
        invoice = self._post_invoice(DUE, amount=1000.0)
        paid = self._post_invoice(DUE, amount=400.0)
        self._pay(paid)  # matched: not counted
        self._post_invoice(DUE, amount=90.0, move_type="out_refund")  # not money
        self._payment(300.0)
        self._payment(999.0, post=False)  # a draft is not money received
        self._statement_line(200.0)
        self._statement_line(-50.0)  # money going out
        # a contact's payment counts for its company
        contact = self.env["res.partner"].create(
            {"name": "Ann Acme", "parent_id": self.customer.id}
        )
        self._payment(25.0, partner=contact)
        # a payment matched in part: its open part counts
        partial = self._payment(100.0)
        other = self._post_invoice(DUE, amount=60.0)
        (partial.move_id.line_ids | other.line_ids).filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        ).reconcile()
        self._payment(70.0, partner=self.customer_2)
        self.assertEqual(
            self._unmatched(),
            {
                (self.customer.id, self.company.id): 300.0 + 200.0 + 25.0 + 40.0,
                (self.customer_2.id, self.company.id): 70.0,
            },
        )
        self.assertEqual(
            self._unmatched(partners=contact, companies=self.company),
            {(self.customer.id, self.company.id): 565.0},
        )
        self.assertEqual(self._unmatched(partners=self.customer_2.browse()), {})
        self.assertTrue(invoice)
