from odoo import api, models
from odoo.exceptions import AccessError


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

    @api.model
    def _get_model_defaults(self, model_name, condition=False):
        # the defaults written anyway (by the superuser, or before a field was
        # declared) stand in for no system field: nor in a new record, nor as
        # the fallback of a company-dependent field
        defaults = super()._get_model_defaults(model_name, condition=condition)
        system = self._collection_system_fields_of(model_name)
        if system.intersection(defaults):
            # a copy: the parent's result is cached
            defaults = {
                fname: value for fname, value in defaults.items() if fname not in system
            }
        return defaults

    @api.model
    def _collection_system_fields_of(self, model_name):
        """The system fields that ``model_name`` declares (collection.system.fields)."""
        model_class = self.env.registry.get(model_name)
        return getattr(model_class, "_collection_system_fields", frozenset())

    def _collection_check_fields(self):
        for default in self:
            field = default.sudo().field_id
            if field.name in self._collection_system_fields_of(field.model):
                raise AccessError(
                    self.env._(
                        "%(field)s is set by the collection process when a record is "
                        "created or logged: it cannot have a default value.",
                        field=field.field_description,
                    )
                )
