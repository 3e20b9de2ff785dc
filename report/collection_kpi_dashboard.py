from datetime import timedelta

import babel.dates

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import formatLang
from odoo.tools.misc import babel_locale_parse, get_lang

from ..models.collection_kpi_snapshot import SNAPSHOT_DIMENSIONS, SNAPSHOT_FIGURES
from .collection_kpi_chart import TrendChart
from .report_portfolio_status import PortfolioFormatter

# the weekly report's trend charts, over its last weeks
REPORT_TREND_WEEKS = 12
TREND_FIGURES = ("overdue_ratio", "dso", "cei", "overdue")
# the dashboard's cards: figure, how it is shown, which way is better
CARD_FIGURES = (
    ("receivable", "amount", None),
    ("overdue", "amount", "down"),
    ("overdue_ratio", "percent", "down"),
    ("dso", "days", "down"),
    ("cei", "percent", "up"),
    ("weighted_days_late", "days", "down"),
)
FIGURE_KINDS = {figure: kind for figure, kind, _better in CARD_FIGURES}
# weeks the dashboard can show, and the changes its cards give
DASHBOARD_WEEKS = (12, 26, 52)
CHANGE_WEEKS = (4, 12)


class CollectionKpiDashboard(models.AbstractModel):
    """Reads the weekly KPI history (collection.kpi.snapshot) for the managers'
    dashboard (cards with the change over 4 and 12 weeks, line charts) and for
    the trend charts of the weekly portfolio report.

    The snapshots are read in the caller's environment: the access rights and
    record rules of collection.kpi.snapshot decide what a user sees (the weekly
    report reads them as the superuser, after its own access check).
    """

    _name = "collection.kpi.dashboard"
    _description = "Collection KPI Dashboard"

    # -------------------------------------------------------------------------
    # Labels and formats
    # -------------------------------------------------------------------------

    @api.model
    def _collection_figure_labels(self):
        return {
            "receivable": self.env._("Total receivable"),
            "overdue": self.env._("Overdue"),
            "overdue_ratio": self.env._("Overdue ratio"),
            "dso": self.env._("DSO (days)"),
            "cei": self.env._("CEI"),
            "weighted_days_late": self.env._("Weighted average days late"),
        }

    @api.model
    def _collection_format(self, fmt, figure, value):
        kind = FIGURE_KINDS.get(figure, "days")
        if kind == "amount":
            return fmt.amount(value)
        if kind == "percent":
            return fmt.percent(value)
        return fmt.number(value)

    @api.model
    def _collection_format_change(self, fmt, figure, value):
        kind = FIGURE_KINDS.get(figure, "days")
        if kind == "amount":
            return fmt.delta_amount(value)
        if kind == "percent":
            return fmt.delta_points(value)
        return fmt.delta_number(value)

    @api.model
    def _collection_tick_format(self, figure):
        """Formatter of a chart's grid values: short amounts (12.5 k, 1.2 M),
        at most one decimal."""
        kind = FIGURE_KINDS.get(figure, "days")

        def number(value):
            digits = 0 if abs(value - round(value)) < 1e-6 else 1
            return formatLang(self.env, value, digits=digits)

        def tick(value):
            if kind == "percent":
                return f"{number(value)} %"
            if kind == "amount":
                for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
                    if abs(value) >= size:
                        return f"{number(round(value / size, 1))} {suffix}"
            return number(value)

        return tick

    @api.model
    def _collection_short_dates(self, days):
        """``{day: its day and month in the user's language}`` (Mar 22, 22 mar)."""
        locale = babel_locale_parse(get_lang(self.env).code)
        pattern = locale.datetime_skeletons["MMMd"]
        return {
            day: babel.dates.format_date(day, format=pattern, locale=locale)
            for day in days
        }

    # -------------------------------------------------------------------------
    # Reading the history
    # -------------------------------------------------------------------------

    @api.model
    def _collection_series(self, company, week_ends, dimension="company", key=False):
        """``{week end: {figure: value}}`` of the snapshots of ``company`` (and of
        ``key`` in ``dimension``) dated in ``week_ends``; a figure that was not
        available is ``None`` (the ORM would read it as 0)."""
        domain = [
            ("company_id", "=", company.id),
            ("dimension", "=", dimension),
            ("date", "in", list(week_ends)),
        ]
        if dimension != "company":
            domain.append((SNAPSHOT_DIMENSIONS[dimension], "=", key or False))
        Snapshot = self.env["collection.kpi.snapshot"]
        # the ORM reads an empty float as 0: select the columns, on the rows
        # the user may read (_search applies the access rights and rules)
        query = Snapshot._search(domain)
        rows = self.env.execute_query(
            query.select(
                *(
                    Snapshot._field_to_sql(query.table, name, query)
                    for name in ("date", *SNAPSHOT_FIGURES)
                )
            )
        )
        return {
            row[0]: dict(zip(SNAPSHOT_FIGURES, row[1:], strict=True)) for row in rows
        }

    @api.model
    def _collection_trend_charts(
        self, company, week_ends, dimension="company", key=False, latest=None, **size
    ):
        """The line charts of the trend figures over ``week_ends``: ``[{key,
        label, value (the last week's, formatted), change (since the first
        week with a value, with its date), chart (TrendChart)}]``.

        :param latest: ``{figure: value}`` of the last day of ``week_ends``,
            computed by the caller (the report's headline) rather than read
            from the history: the charts end on the figures shown above them."""
        series = self._collection_series(company, week_ends, dimension, key)
        if latest is not None:
            series[week_ends[-1]] = latest
        fmt = PortfolioFormatter(self.env, company.currency_id)
        labels = self._collection_figure_labels()
        short_dates = self._collection_short_dates(week_ends)
        charts = []
        for figure in TREND_FIGURES:
            values = [series.get(day, {}).get(figure) for day in week_ends]
            known = [
                (day, value)
                for day, value in zip(week_ends, values, strict=True)
                if value is not None
            ]
            change = known[-1][1] - known[0][1] if len(known) > 1 else None
            points = [
                (short_dates[day], value)
                for day, value in zip(week_ends, values, strict=True)
            ]
            charts.append(
                {
                    "key": figure,
                    "label": labels[figure],
                    "value": self._collection_format(fmt, figure, values[-1]),
                    "change": self.env._(
                        "%(change)s since %(date)s",
                        change=self._collection_format_change(fmt, figure, change),
                        date=short_dates[known[0][0]],
                    )
                    if change is not None
                    else "",
                    "chart": TrendChart(
                        points,
                        self._collection_tick_format(figure),
                        title=labels[figure],
                        **size,
                    ),
                }
            )
        return charts

    @api.model
    def _collection_report_trend(self, company, kpis):
        """The weekly report's trend charts for the report's figures ``kpis``
        (``collection.portfolio.report._collection_kpis()``): the stored weeks
        before the report's date, then the report's date itself with the
        report's own headline figures, so that each chart ends on the card
        above it; ``[]`` when the history has no week before that date. The
        caller has checked that the user may see the company's portfolio."""
        date_to = kpis["date_to"]
        history = self.env["collection.kpi.history"]
        # the weeks ended before the report's date (a Sunday report: its own
        # week is the last point, taken from the headline)
        last_week = history._collection_week_end(date_to)
        days = [
            last_week - timedelta(weeks=back)
            for back in range(REPORT_TREND_WEEKS - 2, -1, -1)
        ] + [date_to]
        stored = (
            self.env["collection.kpi.snapshot"]
            .sudo()
            .search_count(
                [
                    ("company_id", "=", company.id),
                    ("dimension", "=", "company"),
                    ("date", "in", days[:-1]),
                ]
            )
        )
        if not stored:
            return []
        return self.sudo()._collection_trend_charts(
            company, days, latest=self._collection_headline_figures(kpis)
        )

    @api.model
    def _collection_headline_figures(self, kpis):
        """``{figure: value}`` of the trend figures in the report's ``kpis``,
        in the history's units (the overdue ratio in percent)."""
        figures = {figure: kpis.get(figure) for figure in TREND_FIGURES}
        if figures["overdue_ratio"] is not None:
            figures["overdue_ratio"] *= 100.0
        return figures

    # -------------------------------------------------------------------------
    # The dashboard
    # -------------------------------------------------------------------------

    @api.model
    def _collection_dashboard(self, company, dimension, key, weeks):
        """The values of the dashboard of ``company`` for ``key`` in
        ``dimension`` (``company``: the company's total) over ``weeks`` weeks."""
        if dimension != "company" and dimension not in SNAPSHOT_DIMENSIONS:
            raise UserError(self.env._("Unknown breakdown: %s", dimension))
        weeks = weeks if weeks in DASHBOARD_WEEKS else DASHBOARD_WEEKS[-1]
        Snapshot = self.env["collection.kpi.snapshot"]
        company_domain = [("company_id", "=", company.id)]
        [(last,)] = Snapshot._read_group(
            [*company_domain, ("dimension", "=", "company")], [], ["date:max"]
        )
        values = {
            "company": {"id": company.id, "name": company.name},
            "companies": [
                {"id": c.id, "name": c.name} for c in self.env.companies.sorted("name")
            ],
            "dimension": dimension,
            "key": key or False,
            "weeks": weeks,
            "week_choices": [
                {"weeks": choice, "label": self.env._("%(weeks)s weeks", weeks=choice)}
                for choice in DASHBOARD_WEEKS
            ],
            "empty": not last,
        }
        if not last:
            return values
        week_ends = [last - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
        values["date"] = PortfolioFormatter(self.env, company.currency_id).date(last)
        values["dimensions"] = self._collection_dimension_options(
            company_domain, dimension, key, week_ends[0]
        )
        values["subject"] = next(
            (
                f"{dim['label']}: {option['name']}"
                for dim in values["dimensions"]
                for option in dim["options"]
                if option["selected"]
            ),
            company.name,
        )
        values["cards"] = self._collection_cards(company, dimension, key, last)
        values["charts"] = [
            {**chart, "svg": chart.pop("chart").svg(responsive=True)}
            for chart in self._collection_trend_charts(
                company, week_ends, dimension, key, width=640, height=190
            )
        ]
        values["history_action"] = self._collection_history_action(
            company, dimension, key
        )
        return values

    @api.model
    def _collection_dimension_options(self, company_domain, dimension, key, since):
        """For each dimension, its label and the keys with a snapshot since
        ``since`` (name, and whether selected), largest receivable first. A
        key is a record's id (0: none), or a selection's value ("": none)."""
        Snapshot = self.env["collection.kpi.snapshot"]
        labels = dict(Snapshot._fields["dimension"]._description_selection(self.env))
        empty_labels = self._collection_empty_key_labels()
        options = []
        for name, column in SNAPSHOT_DIMENSIONS.items():
            field = Snapshot._fields[column]
            values = (
                dict(field._description_selection(self.env))
                if field.type == "selection"
                else {}
            )
            groups = Snapshot._read_group(
                [*company_domain, ("dimension", "=", name), ("date", ">=", since)],
                [column],
                ["receivable:max"],
                order="receivable:max desc",
            )
            no_key = 0 if field.type == "many2one" else ""
            choices = []
            for value, _receivable in groups:
                if field.type == "many2one":
                    option_key = value.id or no_key
                    label = value.sudo().display_name
                else:
                    option_key = value or no_key
                    label = values.get(value, value)
                choices.append(
                    {
                        "key": option_key,
                        "name": label or empty_labels.get(name, self.env._("None")),
                        "selected": name == dimension and option_key == (key or no_key),
                    }
                )
            options.append({"name": name, "label": labels[name], "options": choices})
        return options

    @api.model
    def _collection_empty_key_labels(self):
        """What a row without key stands for, per dimension."""
        return {
            "salesperson": self.env._("No salesperson"),
            "policy": self.env._("No policy"),
            "segment": self.env._("No segment"),
            "phase": self.env._("No stage yet"),
        }

    @api.model
    def _collection_cards(self, company, dimension, key, last):
        """The cards: each figure on the last week, with its change over 4 and
        12 weeks (``raw`` has the numbers, ``tone`` says whether a change is an
        improvement)."""
        fmt = PortfolioFormatter(self.env, company.currency_id)
        labels = self._collection_figure_labels()
        then = {weeks: last - timedelta(weeks=weeks) for weeks in CHANGE_WEEKS}
        series = self._collection_series(
            company, [last, *then.values()], dimension, key
        )
        now = series.get(last, {})
        cards = []
        for figure, _kind, better in CARD_FIGURES:
            value = now.get(figure)
            card = {
                "key": figure,
                "label": labels[figure],
                "value": self._collection_format(fmt, figure, value),
                "raw": {"value": value},
                "changes": [],
            }
            for weeks, day in then.items():
                before = series.get(day, {}).get(figure)
                change = None if value is None or before is None else value - before
                tone = ""
                if change and better:
                    tone = "good" if (change < 0) == (better == "down") else "bad"
                card["raw"][f"change_{weeks}"] = change
                card["changes"].append(
                    {
                        "weeks": weeks,
                        "label": self.env._("vs %(weeks)s weeks ago", weeks=weeks),
                        "value": self._collection_format_change(fmt, figure, change)
                        if change is not None
                        else self.env._("n/a"),
                        "tone": tone,
                    }
                )
            cards.append(card)
        return cards

    @api.model
    def _collection_history_action(self, company, dimension, key):
        """The snapshots shown on the dashboard, in the history's graph, pivot
        and list views."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_collections.collection_kpi_snapshot_action"
        )
        domain = [("company_id", "=", company.id), ("dimension", "=", dimension)]
        if dimension != "company":
            domain.append((SNAPSHOT_DIMENSIONS[dimension], "=", key or False))
        action["domain"] = domain
        action["context"] = {"search_default_group_date": 1}
        return action
