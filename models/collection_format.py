import ast

from odoo.tools import get_lang

from odoo.addons.base.models.res_lang import intersperse


def amount_formatter(env, currency, lang_code=None):
    """A function writing an amount in ``currency`` as ``tools.format_amount``
    does (in ``lang_code``, else the context's language), with the language
    and the currency read once: ``format_amount`` reads the language and
    parses its grouping at every amount, the better part of writing one in a
    statement's lines or an email's table of invoices."""
    lang = get_lang(env, lang_code)
    grouping = ast.literal_eval(lang.grouping)
    separator, point = lang.thousands_sep or "", lang.decimal_point
    number_format = f"%.{currency.decimal_places}f"
    symbol = currency.symbol or ""
    before = currency.position == "before"

    def amount_text(value):
        parts = (number_format % currency.round(value)).split(".")
        parts[0] = intersperse(parts[0], grouping, separator)[0]
        number = (
            point.join(parts)
            .replace(" ", "\N{NO-BREAK SPACE}")
            .replace("-", "-\N{ZERO WIDTH NO-BREAK SPACE}")
        )
        if before:
            return f"{symbol}\N{NO-BREAK SPACE}{number}"
        return f"{number}\N{NO-BREAK SPACE}{symbol}"

    return amount_text
