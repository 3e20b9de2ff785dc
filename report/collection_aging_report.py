from itertools import pairwise

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, float_round, format_date

from ..models.collection_receivable import COLLECTION_AGING_LIMITS
from .collection_aging_xlsx import collection_aging_xlsx, without_cyclic_gc


class CollectionAgingReport(models.AbstractModel):
    """The receivable aging: computes its values from parameters, for the screen
    (the aging wizard's pivot), the QWeb PDF, the XLSX and the weekly report.

    The parameters (see :meth:`_collection_aging`) are checked here against the
    user's rights, whoever gathered them: the wizard, or a caller of the report.
    """

    _name = "report.account_collections.collection_aging_report_document"
    _description = "Receivable Aging Report"

    # -------------------------------------------------------------------------
    # Parameters and rights
    # -------------------------------------------------------------------------

    @api.model
    def _collection_aging_sees_all(self):
        """Collection managers and accounting users see every salesperson's
        customers; other collection users only see their own."""
        user = self.env.user
        return (
            self.env.su
            or user.has_group("account_collections.group_collection_manager")
            or user.has_group("account.group_account_readonly")
        )

    @api.model
    def _collection_aging_scope(self, company_ids, limits, user_ids):
        """Check the arguments of an aging computation and the user's rights.

        Return ``(companies, limits, user_ids)``, the salespeople being forced to
        the current user for a user who only sees their own customers.
        """
        companies = self.env["res.company"].browse(company_ids or []).exists()
        if not companies:
            companies = self.env.company
        if not self.env.su:
            forbidden = companies - self.env.companies
            if forbidden:
                raise AccessError(
                    self.env._(
                        "You cannot run the aging of %(companies)s: only the companies "
                        "you are working in can be chosen.",
                        companies=", ".join(forbidden.sudo().mapped("name")),
                    )
                )
        if len(companies.currency_id) > 1:
            raise UserError(
                self.env._(
                    "The companies %(companies)s do not share a currency: run the "
                    "aging for each currency separately.",
                    companies=", ".join(companies.mapped("name")),
                )
            )
        limits = tuple(limits)
        if (
            not limits
            or not all(isinstance(limit, int) and limit >= 0 for limit in limits)
            or any(b <= a for a, b in pairwise(limits))
        ):
            raise UserError(
                self.env._(
                    "Aging buckets must be strictly increasing whole numbers of days "
                    "starting at 0 or more, not %(limits)s.",
                    limits=limits,
                )
            )
        user_ids = list(user_ids or [])
        if not self._collection_aging_sees_all():
            if set(user_ids) - {self.env.uid}:
                raise AccessError(
                    self.env._("You can only see the aging of your own customers.")
                )
            user_ids = [self.env.uid]
        return companies, limits, user_ids

    # -------------------------------------------------------------------------
    # SQL
    # -------------------------------------------------------------------------

    @api.model
    def _collection_aging_detail_query(
        self,
        companies,
        date_at,
        limits,
        aging_by="due",
        partner_ids=None,
        user_ids=None,
        include_excluded=True,
    ):
        """SQL selecting the receivable journal items open on ``date_at``, one row
        per item, with their as-of open amount, days and bucket index.

        Arguments must have been checked by :meth:`_collection_aging_scope`.
        """
        if aging_by not in ("due", "invoice"):
            raise UserError(self.env._("Age by must be 'due' or 'invoice'."))
        receivable = self.env["collection.receivable"]
        salesperson = receivable._collection_salesperson_sql("rcv")
        conditions = [SQL("TRUE")]
        if partner_ids:
            commercial_ids = (
                self.env["res.partner"]
                .sudo()
                .browse(partner_ids)
                .commercial_partner_id.ids
            )
            conditions.append(
                SQL(
                    "COALESCE(p.commercial_partner_id, p.id) = ANY(%s)",
                    commercial_ids,
                )
            )
        if user_ids:
            conditions.append(SQL("%s = ANY(%s)", salesperson, user_ids))
        if not include_excluded:
            conditions.append(SQL("NOT COALESCE(m.collection_excluded, FALSE)"))
        aging_date = (
            SQL("COALESCE(item.date_maturity, item.date)")
            if aging_by == "due"
            else SQL("COALESCE(m.invoice_date, item.date)")
        )
        days = receivable._collection_days_sql(date_at, aging_date)
        return SQL(
            """
            SELECT item.id AS line_id,
                   item.move_id,
                   m.name AS move_name,
                   item.company_id,
                   COALESCE(p.commercial_partner_id, p.id) AS partner_id,
                   %(salesperson)s AS user_id,
                   item.date,
                   item.date_maturity,
                   m.invoice_date,
                   COALESCE(m.collection_excluded, FALSE) AS excluded,
                   %(days)s AS days,
                   %(bucket)s AS bucket,
                   item.amount
              FROM (%(items)s) item
              JOIN account_move m ON m.id = item.move_id
         LEFT JOIN res_partner p ON p.id = item.partner_id
              %(invoice_joins)s
             WHERE %(conditions)s
            """,
            salesperson=salesperson,
            days=days,
            bucket=receivable._collection_bucket_sql(days, limits),
            items=receivable._collection_open_items_sql(date_at, companies.ids),
            invoice_joins=receivable._collection_invoice_joins(
                "m", SQL("COALESCE(m.partner_id, item.partner_id)"), "rcv"
            ),
            conditions=SQL(" AND ").join(conditions),
        )

    @api.model
    def _collection_aging_grouped_query(self, detail, group_by):
        """SQL summing the items of ``detail`` per group and bucket: group key,
        group name, bucket index, open amount, number of items."""
        if group_by == "partner":
            key = SQL("d.partner_id")
            name_join = SQL("LEFT JOIN res_partner grp ON grp.id = d.partner_id")
        else:
            key = SQL("d.user_id")
            name_join = SQL(
                "LEFT JOIN res_users usr ON usr.id = d.user_id "
                "LEFT JOIN res_partner grp ON grp.id = usr.partner_id"
            )
        return SQL(
            """
            SELECT %(key)s AS key, grp.name, d.bucket, SUM(d.amount) AS amount,
                   COUNT(*) AS item_count
              FROM (%(detail)s) d
              %(name_join)s
          GROUP BY 1, 2, 3
            """,
            key=key,
            detail=detail,
            name_join=name_join,
        )

    # -------------------------------------------------------------------------
    # Values
    # -------------------------------------------------------------------------

    @api.model
    def _collection_aging(
        self,
        company_ids,
        date_at,
        limits=COLLECTION_AGING_LIMITS,
        aging_by="due",
        group_by="partner",
        partner_ids=None,
        user_ids=None,
        include_excluded=True,
    ):
        """Receivable aging as of ``date_at``, grouped by customer or salesperson.

        The open amount of each receivable journal item (posted, dated on or
        before ``date_at``, any receivable account) is its balance minus the
        partial reconciliations dated on or before ``date_at``: what was matched
        later is still open then. Unmatched payments and credit notes count as
        negative amounts. Amounts are in company currency, so the grand total
        equals the balance of the receivable accounts on ``date_at`` (when
        ``include_excluded`` and no customer/salesperson filter).

        :param company_ids: ids of the companies (default: the current one); they
            must be among ``self.env.companies`` unless in sudo, and share a
            currency.
        :param date_at: the aging date.
        :param limits: strictly increasing upper bounds in days of all buckets but
            the last: ``(0, 30, 60, 90, 120)`` gives "Not due" (days <= 0), "1-30",
            "31-60", "61-90", "91-120" and "Over 120".
        :param aging_by: ``'due'`` ages from the due date of each item, ``'invoice'``
            from its invoice date (else its accounting date).
        :param group_by: ``'partner'`` (commercial customer) or ``'user'``
            (salesperson of the invoice, else of the customer).
        :param partner_ids: only these customers (their commercial entities).
        :param user_ids: only these salespeople. A user who is neither collection
            manager nor accounting user only gets their own customers.
        :param include_excluded: include invoices excluded from collection.
        :return: ``{'labels': [bucket labels], 'rows': [{'key': id or False,
            'name': str, 'amounts': [per bucket], 'total': float}], 'totals':
            [per bucket], 'total': float, 'currency_id': id}``; rows sorted by
            total descending; amounts rounded to the company currency.
        :raise AccessError: company not allowed, or other salespeople requested by
            a user restricted to their own customers.
        :raise UserError: invalid buckets or companies with different currencies.
        """
        grouped = self._collection_aging_grouped(
            company_ids,
            date_at,
            limits,
            aging_by,
            group_by,
            partner_ids,
            user_ids,
            include_excluded,
        )
        rows = self.env.execute_query(grouped["query"])
        return self._collection_aging_result_from(
            ((key, name, bucket, amount) for key, name, bucket, amount, _n in rows),
            self.env["res.currency"].browse(grouped["currency_id"]),
            grouped["limits"],
            group_by,
        )

    @api.model
    def _collection_aging_grouped(
        self,
        company_ids,
        date_at,
        limits=COLLECTION_AGING_LIMITS,
        aging_by="due",
        group_by="partner",
        partner_ids=None,
        user_ids=None,
        include_excluded=True,
    ):
        """The aging's sums per group and bucket, not yet read (the wizard writes
        them into its pivot's lines in one query): ``{'query': SQL of rows
        (key, name, bucket, amount, item_count), 'labels', 'limits',
        'currency_id'}``. Same arguments and checks as :meth:`_collection_aging`."""
        if group_by not in ("partner", "user"):
            raise UserError(self.env._("Group by must be 'partner' or 'user'."))
        companies, limits, user_ids = self._collection_aging_scope(
            company_ids, limits, user_ids
        )
        self.env.flush_all()
        detail = self._collection_aging_detail_query(
            companies,
            date_at,
            limits,
            aging_by,
            partner_ids,
            user_ids,
            include_excluded,
        )
        return {
            "query": self._collection_aging_grouped_query(detail, group_by),
            "labels": self.env["collection.receivable"]._collection_bucket_labels(
                limits
            ),
            "limits": limits,
            "currency_id": companies.currency_id.id,
        }

    @api.model
    def _collection_aging_result_from(self, amounts, currency, limits, group_by):
        """The result of :meth:`_collection_aging` from ``(group key, group name,
        bucket, amount)`` tuples (per group and bucket, or per item)."""
        labels = self.env["collection.receivable"]._collection_bucket_labels(limits)
        no_name = (
            self.env._("No customer")
            if group_by == "partner"
            else self.env._("No salesperson")
        )
        groups = {}
        for group_key, name, bucket, amount in amounts:
            group = groups.get(group_key or False)
            if group is None:
                group = groups[group_key or False] = {
                    "key": group_key or False,
                    "name": name or no_name,
                    "amounts": [0.0] * len(labels),
                }
            group["amounts"][bucket] += amount
        to_cent = self._collection_rounder(currency)
        result_rows = []
        for group in groups.values():
            group["amounts"] = rounded = [
                to_cent(amount) for amount in group["amounts"]
            ]
            group["total"] = to_cent(sum(rounded))
            if any(rounded) or group["total"]:
                result_rows.append(group)
        result_rows.sort(key=lambda row: (-row["total"], row["name"].lower()))
        totals = [
            to_cent(sum(row["amounts"][index] for row in result_rows))
            for index in range(len(labels))
        ]
        return {
            "labels": labels,
            "rows": result_rows,
            "totals": totals,
            "total": to_cent(sum(totals)),
            "currency_id": currency.id,
        }

    @api.model
    def _collection_rounder(self, currency):
        """A function rounding amounts to ``currency``.

        currency.round() with the rounding read once: thousands of customers
        times the buckets. The amounts are sums of amounts kept in the
        currency's precision, so they hold no half unit to round: where the
        rounding is a power of ten, Python's round() gives float_round()'s
        result at a tenth of its cost.
        """
        rounding = currency.rounding
        digits = currency.decimal_places
        if rounding == float(f"1e-{digits}"):

            def to_cent(amount):
                return round(amount, digits) + 0.0  # no -0.0

        else:

            def to_cent(amount):
                return float_round(amount, precision_rounding=rounding)

        return to_cent

    @api.model
    def _collection_aging_detail(
        self,
        company_ids,
        date_at,
        limits=COLLECTION_AGING_LIMITS,
        aging_by="due",
        partner_ids=None,
        user_ids=None,
        include_excluded=True,
    ):
        """Journal items behind :meth:`_collection_aging`, same arguments and checks
        (no ``group_by``).

        :return: a list of dicts, one per receivable journal item open on
            ``date_at``, ordered by customer, date and id: ``move_line_id``,
            ``move_id``, ``move_name``, ``company_id``, ``partner_id`` (commercial
            customer or False), ``partner_name``, ``user_id`` (salesperson or
            False), ``user_name``, ``date``, ``date_maturity``, ``invoice_date``,
            ``days`` (days past the aging date: due date or invoice date),
            ``bucket`` (index in the labels), ``excluded`` (excluded from
            collection) and ``amount`` (open amount on ``date_at`` in company
            currency, negative for payments and credit notes).
        """
        companies, limits, user_ids = self._collection_aging_scope(
            company_ids, limits, user_ids
        )
        self.env.flush_all()
        detail = self._collection_aging_detail_query(
            companies,
            date_at,
            limits,
            aging_by,
            partner_ids,
            user_ids,
            include_excluded,
        )
        rows = self.env.execute_query_dict(
            SQL(
                """
                SELECT d.line_id AS move_line_id,
                       d.move_id,
                       d.move_name,
                       d.company_id,
                       d.partner_id,
                       partner.name AS partner_name,
                       d.user_id,
                       user_partner.name AS user_name,
                       d.date,
                       d.date_maturity,
                       d.invoice_date,
                       d.days,
                       d.bucket,
                       d.excluded,
                       d.amount
                  FROM (%(detail)s) d
             LEFT JOIN res_partner partner ON partner.id = d.partner_id
             LEFT JOIN res_users usr ON usr.id = d.user_id
             LEFT JOIN res_partner user_partner ON user_partner.id = usr.partner_id
              ORDER BY partner.name, d.partner_id, d.date, d.line_id
                """,
                detail=detail,
            )
        )
        for row in rows:
            row["partner_id"] = row["partner_id"] or False
            row["user_id"] = row["user_id"] or False
        return rows

    # -------------------------------------------------------------------------
    # Renderers' values
    # -------------------------------------------------------------------------

    @api.model
    def _collection_aging_parameter_lines(self, params):
        """(label, value) pairs describing the aging's parameters (the arguments
        of :meth:`_collection_aging`), printed on the PDF and the XLSX."""
        wizard_fields = self.env["collection.aging.wizard"]._fields
        aging_by = dict(wizard_fields["aging_by"]._description_selection(self.env))
        group_by = dict(wizard_fields["group_by"]._description_selection(self.env))
        companies = self.env["res.company"].sudo().browse(params["company_ids"])
        partners = self.env["res.partner"].browse(params.get("partner_ids") or [])
        users = self.env["res.users"].browse(params.get("user_ids") or [])
        return [
            (self.env._("As of"), format_date(self.env, params["date_at"])),
            (self.env._("Aged by"), aging_by[params.get("aging_by", "due")]),
            (self.env._("Grouped by"), group_by[params.get("group_by", "partner")]),
            (self.env._("Companies"), ", ".join(companies.mapped("name"))),
            (
                self.env._("Customers"),
                ", ".join(partners.mapped("display_name")) or self.env._("All"),
            ),
            (
                self.env._("Salespeople"),
                ", ".join(users.mapped("name")) or self.env._("All"),
            ),
            (
                self.env._("Excluded invoices"),
                self.env._("Included")
                if params.get("include_excluded", True)
                else self.env._("Left out"),
            ),
        ]

    @api.model
    def _collection_aging_values(self, params, result):
        """What the PDF and the XLSX print besides the aging ``result`` of
        ``params``: the result itself, the share of each bucket, the currency,
        the parameters and the title of the groups' column."""
        total = result["total"]
        return {
            **result,
            "percents": [
                (amount / total * 100.0) if total else 0.0
                for amount in result["totals"]
            ],
            "currency": self.env["res.currency"].browse(result["currency_id"]),
            "parameters": self._collection_aging_parameter_lines(params),
            "group_label": self.env._("Customer")
            if params.get("group_by", "partner") == "partner"
            else self.env._("Salesperson"),
        }

    @api.model
    def _get_report_values(self, docids, data=None):
        """The aging of each wizard printed, from the parameters it gathered."""
        wizards = self.env["collection.aging.wizard"].browse(docids)
        results = {}
        for wizard in wizards:
            params = wizard._collection_aging_params()
            result = self._collection_aging(**params)
            results[wizard.id] = self._collection_aging_values(params, result)
        return {
            "doc_ids": docids,
            "doc_model": "collection.aging.wizard",
            "docs": wizards,
            "results": results,
        }

    @api.model
    def _collection_aging_xlsx(self, params):
        """The aging of ``params`` (the arguments of :meth:`_collection_aging`) as
        an XLSX workbook: ``(content, file name)``."""
        group_by = params.get("group_by", "partner")
        detail_params = {
            key: value for key, value in params.items() if key != "group_by"
        }
        companies, limits, _users = self._collection_aging_scope(
            params["company_ids"],
            params.get("limits", COLLECTION_AGING_LIMITS),
            params.get("user_ids"),
        )
        key, name = (
            ("partner_id", "partner_name")
            if group_by == "partner"
            else ("user_id", "user_name")
        )
        with without_cyclic_gc():
            # one query: the groups are summed from the items of the detail sheet
            detail = self._collection_aging_detail(**detail_params)
            result = self._collection_aging_result_from(
                (
                    (item[key], item[name], item["bucket"], item["amount"])
                    for item in detail
                ),
                companies.currency_id,
                limits,
                group_by,
            )
            values = self._collection_aging_values(params, result)
            values["company_names"] = {
                company.id: company.name for company in companies.sudo()
            }
            content = collection_aging_xlsx(self.env, values, detail)
            del detail
        filename = self.env._(
            "aging_%(date)s.xlsx", date=fields.Date.to_string(params["date_at"])
        )
        return content, filename
