from odoo import api, models
from odoo.exceptions import AccessError

from .collection_contact import CONTACT_SYSTEM_FIELDS
from .collection_promise import DATE_FIELD, JUDGED_FIELDS
from .collection_tools import COLLECTION_PROTECTED_FIELDS
from .mail_activity import ACTIVITY_SYSTEM_FIELDS
from .res_partner import PARTNER_SYSTEM_FIELDS

# the fields set by the collection run, by the collection actions after their own
# checks, or when a record is logged: a default value (a user's own, set from the
# web client, or anyone's) would stand in for them in every record created
COLLECTION_NO_DEFAULT_FIELDS = {
    "account.move": set(COLLECTION_PROTECTED_FIELDS),
    "collection.promise": JUDGED_FIELDS | {DATE_FIELD, "user_id"},
    "collection.contact": CONTACT_SYSTEM_FIELDS | {"date", "user_id"},
    "mail.activity": set(ACTIVITY_SYSTEM_FIELDS),
    "res.partner": PARTNER_SYSTEM_FIELDS,
}


class IrDefault(models.Model):
    _inherit = "ir.default"

    @api.model_create_multi
    def create(self, vals_list):
        defaults = super().create(vals_list)
        if not self.env.su:
            defaults._collection_check_fields()
        return defaults

    def write(self, vals):
        result = super().write(vals)
        if not self.env.su and {"field_id", "json_value"}.intersection(vals):
            self._collection_check_fields()
        return result

    def _collection_check_fields(self):
        for default in self:
            field = default.sudo().field_id
            if field.name in COLLECTION_NO_DEFAULT_FIELDS.get(field.model, ()):
                raise AccessError(
                    self.env._(
                        "%(field)s is set by the collection process when a record is "
                        "created or logged: it cannot have a default value.",
                        field=field.field_description,
                    )
                )
