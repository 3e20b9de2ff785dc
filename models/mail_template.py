from functools import lru_cache

from lxml import html
from markupsafe import Markup

from odoo import api, models
from odoo.tools import safe_eval

from .collection_format import amount_formatter


def batch_format_amount(env):
    """``format_amount`` of the rendering context (``tools.format_amount``),
    with a formatter per currency and language for the batch
    (``amount_formatter``) instead of the language read at every amount."""
    formatters = {}

    def format_amount(amount, currency, lang_code=False):
        key = (currency.id, lang_code)
        if key not in formatters:
            formatters[key] = amount_formatter(env, currency, lang_code)
        return formatters[key](amount)

    return format_amount


class MailTemplate(models.Model):
    """The customer emails of the daily run are rendered many at a time
    (``collection.conversation``): their QWeb body is compiled once per call
    rather than once per email."""

    _inherit = "mail.template"

    @api.model
    def _render_template_qweb(
        self, template_src, model, res_ids, add_context=None, options=None
    ):
        """As Odoo renders a raw QWeb template, one result per record, but, when
        the collection run renders a batch (context ``collection_mail_batch``),
        the template is parsed and compiled once for all the records, instead
        of once per record (Odoo compiles a raw template at every rendering:
        about a fifth of the cost of an email), the dates formatted once
        per date and the amounts with their currency's and language's format
        looked up once. Restricted rendering (a user who may not edit templates) and
        templates without code take Odoo's way."""
        if (
            not self.env.context.get("collection_mail_batch")
            or len(res_ids) < 2
            or not template_src
            or not self._has_unsafe_expression_template_qweb(template_src, model)
            or not (
                self._unrestricted_rendering
                or self.env.is_admin()
                or self.env.user.has_group("mail.group_mail_template_editor")
            )
        ):
            return super()._render_template_qweb(
                template_src, model, res_ids, add_context=add_context, options=options
            )
        variables = self._render_eval_context()
        if add_context:
            variables.update(**add_context)
        # the same due dates come back in every email of a batch
        variables["format_date"] = lru_cache(maxsize=1024)(variables["format_date"])
        variables["format_amount"] = batch_format_amount(self.env)
        element = html.fragment_fromstring(template_src, create_parent="div")
        qweb = self.env["ir.qweb"].with_context(**(options or {}))
        render = None
        results = {}
        for record in self.env[model].browse(res_ids):
            values = dict(variables, object=record)
            renderer = qweb._prepare_environment(values)
            safe_eval.check_values(values)
            if render is None:
                functions, name = renderer._compile(element)
                render = functions[name]
            # without the <div> wrapping the template's nodes
            results[record.id] = Markup("".join(render(renderer, values)))[5:-6]
        return results
