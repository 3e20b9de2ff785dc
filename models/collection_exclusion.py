"""Excluding invoices from the collection process, and including them again:
the rights, the fields written by the system, the chatter, the promises
cancelled and the activities closed."""

from markupsafe import Markup

from odoo import api, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import plaintext2html


class CollectionExclusion(models.AbstractModel):
    _name = "collection.exclusion"
    _description = "Collection Exclusion"

    @api.model
    def _collection_exclude(self, moves, reason, note=False):
        """Exclude the invoices from collection for ``reason`` (a key of
        ``COLLECTION_EXCLUSION_REASONS``): their open collection activities are
        closed, their open promises cancelled, and the chatter keeps who did it and
        why."""
        if not reason:
            raise UserError(self.env._("Give the reason for the exclusion."))
        moves = self._collection_check_customer_invoices(moves)
        self._collection_check_exclusion_rights(moves)
        reason_field = moves._fields["collection_exclusion_reason"]
        reasons = dict(reason_field._description_selection(self.env))
        if reason not in reasons:
            raise UserError(
                self.env._("'%(reason)s' is not a reason for exclusion.", reason=reason)
            )
        moves._collection_write(
            {"collection_excluded": True, "collection_exclusion_reason": reason}
        )
        body = Markup("<p>%s</p>") % self.env._(
            "Excluded from collection by %(user)s. Reason: %(reason)s.",
            user=self.env.user.name,
            reason=reasons[reason],
        )
        if note:
            body += plaintext2html(note)
        moves._message_log_batch({move.id: body for move in moves})
        promises = moves.sudo().collection_promise_ids
        promises = promises.filtered(lambda p: p.state == "open")
        self.env["collection.promise.judge"]._collection_close(
            promises,
            "cancelled",
            self.env._(
                "Promise to pay of %(amount)s by %(date)s cancelled: the invoices were "
                "excluded from collection by %(user)s."
            ),
        )
        self.env["collection.engine"]._collection_close_settled(moves)

    @api.model
    def _collection_include(self, moves, note=False):
        """Bring excluded invoices back into the collection process."""
        moves = self._collection_check_customer_invoices(moves)
        self._collection_check_exclusion_rights(moves)
        moves = moves.filtered("collection_excluded")
        moves._collection_write(
            {"collection_excluded": False, "collection_exclusion_reason": False}
        )
        body = Markup("<p>%s</p>") % self.env._(
            "Included in collection again by %(user)s.", user=self.env.user.name
        )
        if note:
            body += plaintext2html(note)
        moves._message_log_batch({move.id: body for move in moves})

    @api.model
    def _collection_check_exclusion_rights(self, moves):
        """Excluding or including invoices is a collection user's decision on
        invoices they may edit (the fields themselves are written with superuser
        rights, and the chatter says who did it)."""
        if not self.env.su and not self.env.user.has_group(
            "account_collections.group_collection_user"
        ):
            raise AccessError(
                self.env._(
                    "Only collection users can exclude invoices from collection or "
                    "include them again."
                )
            )
        moves.check_access("write")

    @api.model
    def _collection_check_customer_invoices(self, moves):
        wrong = moves.filtered(
            lambda m: m.move_type != "out_invoice" or m.state != "posted"
        )
        if wrong:
            raise UserError(
                self.env._(
                    "Only posted customer invoices follow the collection process; "
                    "%(moves)s is not one.",
                    moves=", ".join(wrong.mapped("display_name")),
                )
            )
        return moves
