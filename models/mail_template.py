import ast
from functools import lru_cache

from lxml import html
from markupsafe import Markup

from odoo import api, models
from odoo.tools import get_lang, safe_eval

from odoo.addons.base.models.res_lang import intersperse


def batch_format_amount(env):
    """``format_amount`` of the rendering context (``tools.format_amount``),
    with each currency's and language's formatting looked up once for a
    batch instead of at every amount (the language's data read and its
    grouping parsed each time: most of the cost of an amount)."""
    specs = {}

    def format_amount(amount, currency, lang_code=False):
        key = (currency.id, lang_code)
        spec = specs.get(key)
        if spec is None:
            data = get_lang(env, lang_code)
            symbol = currency.symbol or ""
            spec = specs[key] = (
                f"%.{currency.decimal_places}f",
                ast.literal_eval(data.grouping),
                data.thousands_sep or "",
                data.decimal_point,
                f"{symbol}\N{NO-BREAK SPACE}" if currency.position == "before" else "",
                f"\N{NO-BREAK SPACE}{symbol}" if currency.position != "before" else "",
            )
        fmt, grouping, thousands_sep, decimal_point, pre, post = spec
        parts = (fmt % currency.round(amount)).split(".")
        parts[0] = intersperse(parts[0], grouping, thousands_sep)[0]
        formatted = (
            decimal_point.join(parts)
            .replace(" ", "\N{NO-BREAK SPACE}")
            .replace("-", "-\N{ZERO WIDTH NO-BREAK SPACE}")
        )
        return f"{pre}{formatted}{post}"

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
