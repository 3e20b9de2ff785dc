from odoo.tests import freeze_time

from .common import CollectionCommon, day


class PromiseCommon(CollectionCommon):
    """Helpers to record promises and log contacts as a given user on a given day."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.activity_type_broken = cls.env.ref(
            "account_collections.mail_activity_type_collection_promise_broken"
        )
        cls.manager = cls._create_collection_user(
            "collmanager",
            "Mona Manager",
            groups=[
                "base.group_user",
                "account.group_account_invoice",
                "account_collections.group_collection_manager",
            ],
        )

    def _promise(self, moves, promised_date, amount=None, on=None, user=None):
        """Record a promise to pay on ``moves`` made on day ``on``."""
        user = user or self.salesperson
        with freeze_time(on or day(2)):
            return (
                self.env["collection.promise"]
                .with_user(user)
                .create(
                    {
                        "move_ids": [(6, 0, moves.ids)],
                        "promised_date": promised_date,
                        "amount": sum(moves.mapped("amount_residual"))
                        if amount is None
                        else amount,
                    }
                )
                .sudo()
            )

    def _contact_wizard(
        self, moves=None, user=None, partner=None, activity=None, **vals
    ):
        user = user or self.salesperson
        Wizard = self.env["collection.contact.wizard"].with_user(user)
        action = Wizard._collection_action_open(
            moves=moves and moves.with_user(user),
            partner=partner,
            activity=activity and activity.with_user(user),
        )
        return Wizard.with_context(**action["context"]).create(vals)

    def _log_contact(self, moves, on=None, user=None, activity=None, **vals):
        """Log a contact through the wizard, as the salesperson, on day ``on``."""
        with freeze_time(on or day(2)):
            wizard = self._contact_wizard(moves, user=user, activity=activity, **vals)
            wizard.action_log()
        return self.env["collection.contact"].search(
            [("move_ids", "in", moves.ids)], order="id desc", limit=1
        )

    def _broken_activities(self, moves):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "account.move"),
                ("res_id", "in", moves.ids),
                ("activity_type_id", "=", self.activity_type_broken.id),
            ]
        )

    def _messages(self, move, text):
        return move.message_ids.filtered(lambda m: text in (m.body or ""))
