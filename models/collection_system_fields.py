from odoo import api, models

from .collection_tools import without_defaults


class CollectionSystemFields(models.AbstractModel):
    """The fields of a model that the system sets (the daily run, the actions
    after their own checks, or the moment a record is logged), declared once in
    ``_collection_system_fields``. No default of any kind stands in for them:
    the context's ``default_<field>`` and the ``ir.default`` values (personal,
    company-wide, conditional or the fallback of a company-dependent field) are
    ignored, and ``ir.default`` refuses them (see ir_default.py); a record
    created without them gets the field's own default. Each model's create and
    write refuse them from users."""

    _name = "collection.system.fields"
    _description = "Collection: Fields Set by the System"

    _collection_system_fields = frozenset()

    @api.model
    def default_get(self, fields_list):
        system = self._collection_system_fields.intersection(fields_list)
        if not system:
            return super().default_get(fields_list)
        # whoever calls (a user, or the system on a user's request), with
        # whatever context
        records = without_defaults(self, system)
        return super(CollectionSystemFields, records).default_get(fields_list)
