from datetime import timedelta

from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, tagged

from odoo.addons.account_collections.models.collection_receivable import (
    DEFAULT_PROMISE_MAX_DAYS,
    DEFAULT_PROMISE_MIN_PERCENT,
)

from .common_portal import PortalCommon


@tagged("post_install", "-at_install")
class TestPromiseLimits(PortalCommon, HttpCase):
    """What a customer may promise is one check with one set of defaults
    (``collection.receivable._collection_promise_limits``: the invoice's policy,
    else its company's, else the addon's defaults), for the portal's form, Log a
    Contact and the promise itself."""

    def assertNothingWritten(self, before):
        self.env.invalidate_all()
        self.assertEqual(self._answers(), before)

    def _without_policy(self):
        """Neither the customer nor the company has a collection policy."""
        self.company.collection_policy_id = False
        self.env["ir.default"].search(
            [("field_id.name", "=", "collection_policy_id")]
        ).unlink()
        self.env.invalidate_all()
        self.assertFalse(self.invoice_1.collection_policy_id)

    def test_limits_policy_else_company_else_defaults(self):
        receivable = self.env["collection.receivable"]
        strict = self.policy.copy(
            {"name": "Strict", "promise_max_days": 7, "promise_min_percent": 50.0}
        )
        self.company.collection_policy_id = self.policy.copy(
            {"name": "Company's", "promise_max_days": 20, "promise_min_percent": 25.0}
        )
        self.env.invalidate_all()
        limits = receivable._collection_promise_limits(self.invoice_1, self.today)
        self.assertEqual((limits["max_days"], limits["min_percent"]), (20, 25.0))
        self.assertEqual(limits["minimum"], 300.0)
        self.assertEqual(limits["due"], 1200.0)
        self.customer.with_company(self.company).collection_policy_id = strict
        self.env.invalidate_all()
        limits = receivable._collection_promise_limits(self.invoice_1, self.today)
        self.assertEqual((limits["max_days"], limits["min_percent"]), (7, 50.0))
        self.assertEqual(limits["last_date"], self.today + timedelta(days=7))
        self.customer.with_company(self.company).collection_policy_id = False
        self._without_policy()
        limits = receivable._collection_promise_limits(
            self.invoice_1 | self.invoice_2, self.today
        )
        self.assertEqual(
            (limits["max_days"], limits["min_percent"]),
            (DEFAULT_PROMISE_MAX_DAYS, DEFAULT_PROMISE_MIN_PERCENT),
        )
        self.assertEqual((limits["due"], limits["minimum"]), (2000.0, 200.0))

    def test_portal_refuses_what_the_promise_refuses_with_the_right_figures(self):
        """Without any policy, a promise of 5% of what is due is refused by the
        portal with a message (not an error page), naming the minimum and the
        amount due; 10% is accepted, and the promise keeps it."""
        self._without_policy()
        token = self._token()
        before = self._answers()
        response = self._answer(
            "promise", self._promise_data(self.invoice_1, amount=60.0), token
        )
        self.assertEqual(response.status_code, 400)
        error = self._error(response)
        self.assertIn("less than the minimum of", error)
        self.assertIn("120.00", error)  # the minimum
        self.assertIn("10% of the amount due", error)
        self.assertIn("1,200.00", error)  # the amount due
        self.assertNothingWritten(before)
        # beyond the default horizon
        response = self._answer(
            "promise",
            self._promise_data(self.invoice_1, amount=600.0, days=31),
            token,
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("more than 30 days away", self._error(response))
        self.assertNothingWritten(before)
        # at the limits: accepted
        response = self._answer(
            "promise",
            self._promise_data(self.invoice_1, amount=120.0, days=30),
            token,
        )
        self.assertEqual(response.status_code, 303, self._error(response))
        promise = self.env["collection.promise"].search(
            [("move_ids", "in", self.invoice_1.ids)]
        )
        self.assertEqual(promise.amount, 120.0)
        self.assertEqual(promise.state, "open")

    def test_page_shows_the_limits_before_submitting(self):
        self._without_policy()
        response = self._page(self._token())
        self.assertEqual(response.status_code, 200)
        last = self.today + timedelta(days=30)
        self.assertIn(f'max="{last}"', response.text)
        self.assertIn(f'min="{self.today}"', response.text)
        self.assertIn("o_collection_promise_limits", response.text)
        # invoice 1: at least 120.00, 10% of 1,200.00
        self.assertIn("120.00", response.text)
        self.assertIn("10% of", response.text)

    def test_promise_and_log_a_contact_name_the_right_quantities(self):
        self._without_policy()
        with self.assertRaises(ValidationError) as caught:
            self.env["collection.promise"].with_user(self.salesperson).create(
                {
                    "move_ids": self.invoice_1.ids,
                    "promised_date": self.today + timedelta(days=7),
                    "amount": 60.0,
                }
            )
        message = caught.exception.args[0]
        self.assertIn("less than the minimum of", message)
        self.assertIn("120.00", message)
        self.assertIn("1,200.00", message)
        self.assertIn("only a collection manager", message)
        # Log a Contact shows the same limits and refuses the same promise
        Wizard = self.env["collection.contact.wizard"].with_user(self.salesperson)
        action = Wizard._collection_action_open(
            moves=self.invoice_1.with_user(self.salesperson)
        )
        wizard = Wizard.with_context(**action["context"]).create(
            {
                "outcome": "promise",
                "promised_date": self.today + timedelta(days=7),
                "promise_amount": 60.0,
            }
        )
        self.assertEqual(wizard.promise_amount_min, 120.0)
        self.assertEqual(wizard.promise_date_max, self.today + timedelta(days=30))
        with self.assertRaisesRegex(ValidationError, "less than the minimum of"):
            wizard.action_log()
