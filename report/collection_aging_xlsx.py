"""XLSX writer of the receivable aging (xlsxwriter): writes the values the aging
report model computed."""

import contextlib
import gc
import io
from datetime import date

import xlsxwriter

# widths in characters
NAME_WIDTH_MIN, NAME_WIDTH_MAX = 20, 50
AMOUNT_WIDTH = 15


# day 0 of Excel's (1900) date system, leap-year bug included
EXCEL_EPOCH = date(1899, 12, 30)


def _excel_date(day):
    """The serial number xlsxwriter's write_datetime() would store for ``day``,
    without its per-cell datetime conversion (a third of the detail sheet's
    time)."""
    return (day - EXCEL_EPOCH).days


@contextlib.contextmanager
def without_cyclic_gc():
    """Pause Python's cyclic garbage collector for a bounded piece of work that
    allocates many objects.

    An aging export allocates a dict per journal item and xlsxwriter a tuple per
    cell: hundreds of thousands of objects, which set off the collector again
    and again, and each of its full passes walks every object of the Odoo
    process: a quarter of the export's time at 46,000 items. Reference
    counting still frees them as usual; the few cycles the work may leave (the
    workbook and its sheets) are collected once the collector runs again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _money_format(currency):
    decimals = currency.decimal_places
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def collection_aging_xlsx(env, values, detail):
    """Return the bytes of the aging workbook of ``values``.

    :param values: the aging's values (``_collection_aging_values()`` of the
        report model: the aging's result, ``currency``, ``group_label``,
        ``parameters``) and ``company_names`` (``{company id: name}`` of the
        companies of the aging).
    :param detail: the rows returned by ``_collection_aging_detail``.

    Sheet 1: a header row (group, bucket labels, Total), one row per group and a
    last row whose first cell is "Total". Sheet 2: one row per journal item.
    Sheet 3: the parameters. Every figure is written as a value.
    """
    currency = values["currency"]
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True})
    header = workbook.add_format(
        {"bold": True, "bg_color": "#D9E1F2", "bottom": 1, "text_wrap": True}
    )
    header_amount = workbook.add_format(
        {"bold": True, "bg_color": "#D9E1F2", "bottom": 1, "align": "right"}
    )
    money = workbook.add_format({"num_format": _money_format(currency)})
    total_label = workbook.add_format({"bold": True, "top": 1})
    total_money = workbook.add_format(
        {"bold": True, "top": 1, "num_format": _money_format(currency)}
    )
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})

    # --- sheet 1: one row per group --------------------------------------------
    sheet = workbook.add_worksheet(env._("Aging"))
    group_label = values["group_label"]
    sheet.write_row(0, 0, [group_label], header)
    sheet.write_row(0, 1, [*values["labels"], env._("Total")], header_amount)
    for row_index, row in enumerate(values["rows"], start=1):
        sheet.write_string(row_index, 0, row["name"])
        sheet.write_row(row_index, 1, [*row["amounts"], row["total"]], money)
    total_row = len(values["rows"]) + 1
    sheet.write_string(total_row, 0, env._("Total"), total_label)
    sheet.write_row(total_row, 1, [*values["totals"], values["total"]], total_money)
    last_col = len(values["labels"]) + 1
    name_width = max([len(row["name"]) for row in values["rows"]] + [len(group_label)])
    sheet.set_column(0, 0, min(max(name_width + 2, NAME_WIDTH_MIN), NAME_WIDTH_MAX))
    sheet.set_column(1, last_col, AMOUNT_WIDTH)
    sheet.freeze_panes(1, 1)
    sheet.autofilter(0, 0, max(total_row - 1, 0), last_col)

    # --- sheet 2: one row per journal item --------------------------------------
    # tens of thousands of rows, and xlsxwriter's cost is per cell: the company
    # column only when there are several, "Excluded" only where it says yes (an
    # empty cell costs nothing), and no column of days, which the dates and the
    # bucket already give (sort by the due date, or the date, to age them)
    sheet = workbook.add_worksheet(env._("Detail"))
    company_names = values["company_names"]
    several = len(company_names) > 1
    columns = [
        *([(env._("Company"), 20)] if several else []),
        (env._("Customer"), 30),
        (env._("Salesperson"), 20),
        (env._("Journal Entry"), 20),
        (env._("Date"), 12),
        (env._("Due Date"), 12),
        (env._("Bucket"), 12),
        (env._("Excluded"), 10),
        (env._("Open Amount"), AMOUNT_WIDTH),
    ]
    for col, (title, width) in enumerate(columns):
        sheet.write_string(0, col, title, header)
        sheet.set_column(col, col, width)
    labels = values["labels"]
    yes = env._("Yes")
    first = 1 if several else 0
    write_string, write_number = sheet.write_string, sheet.write_number
    for row_index, item in enumerate(detail, start=1):
        if several:
            write_string(row_index, 0, company_names.get(item["company_id"], ""))
        if item["partner_name"]:
            write_string(row_index, first, item["partner_name"])
        if item["user_name"]:
            write_string(row_index, first + 1, item["user_name"])
        write_string(row_index, first + 2, item["move_name"] or "")
        write_number(row_index, first + 3, _excel_date(item["date"]), date_format)
        if item["date_maturity"]:
            write_number(
                row_index, first + 4, _excel_date(item["date_maturity"]), date_format
            )
        write_string(row_index, first + 5, labels[item["bucket"]])
        if item["excluded"]:
            write_string(row_index, first + 6, yes)
        write_number(row_index, first + 7, item["amount"], money)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(detail), 1), len(columns) - 1)

    # --- sheet 3: parameters ------------------------------------------------------
    sheet = workbook.add_worksheet(env._("Parameters"))
    for row_index, (label, value) in enumerate(values["parameters"]):
        sheet.write_string(row_index, 0, label, header)
        sheet.write_string(row_index, 1, value)
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 60)

    workbook.close()
    return output.getvalue()
