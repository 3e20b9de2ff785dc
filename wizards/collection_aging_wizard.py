import base64
import re
from itertools import pairwise

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, float_round, format_date

from ..report.collection_aging_xlsx import collection_aging_xlsx, without_cyclic_gc

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# default bucket upper bounds in days past the aging date (0 = not due yet)
DEFAULT_LIMITS = (0, 30, 60, 90, 120)
# more boundaries than this would not fit on the landscape PDF
MAX_BOUNDARIES = 6


class CollectionAgingWizard(models.TransientModel):
    _name = "collection.aging.wizard"
    _description = "Receivable Aging"

    date_at = fields.Date(
        string="As of",
        required=True,
        default=fields.Date.context_today,
        help="The aging shows the receivable as it was at the end of this day: "
        "payments and credit notes matched later are still open.",
    )
    bucket_limits = fields.Char(
        string="Buckets",
        required=True,
        default="30,60,90,120",
        help="Upper bounds of the overdue buckets in days, strictly increasing and "
        "separated by commas. '30,60,90,120' gives: not due, 1-30, 31-60, 61-90, "
        "91-120 and over 120 days.",
    )
    aging_by = fields.Selection(
        [("due", "Due Date"), ("invoice", "Invoice Date")],
        string="Age By",
        required=True,
        default="due",
    )
    group_by = fields.Selection(
        [("partner", "Customer"), ("user", "Salesperson")],
        string="Group By",
        required=True,
        default="partner",
    )
    company_ids = fields.Many2many(
        "res.company",
        string="Companies",
        required=True,
        default=lambda self: self.env.company,
    )
    company_id = fields.Many2one(
        "res.company",
        compute="_compute_company_id",
        help="Company whose header is printed on the PDF.",
    )
    partner_ids = fields.Many2many(
        "res.partner",
        string="Customers",
        help="Leave empty for all customers.",
    )
    user_ids = fields.Many2many(
        "res.users",
        string="Salespeople",
        default=lambda self: self._default_user_ids(),
        help="Leave empty for all salespeople.",
    )
    include_excluded = fields.Boolean(
        string="Include Excluded Invoices",
        default=True,
        help="Include invoices excluded from collection (disputes, agreements, "
        "legal). Leave them out and the totals no longer equal the receivable "
        "balance.",
    )
    collection_restricted = fields.Boolean(
        compute="_compute_collection_restricted",
        help="The user only sees the aging of their own customers.",
    )
    bucket_ids = fields.One2many("collection.aging.bucket", "wizard_id")
    line_ids = fields.One2many("collection.aging.line", "wizard_id")
    xlsx_file = fields.Binary(string="XLSX File", attachment=False, readonly=True)
    xlsx_filename = fields.Char(string="XLSX File Name", readonly=True)

    # -------------------------------------------------------------------------
    # Defaults, computes, constraints
    # -------------------------------------------------------------------------

    @api.model
    def _default_user_ids(self):
        if self._collection_aging_sees_all():
            return self.env["res.users"]
        return self.env.user

    @api.depends("company_ids")
    def _compute_company_id(self):
        for wizard in self:
            wizard.company_id = wizard.company_ids[:1] or self.env.company

    def _compute_collection_restricted(self):
        restricted = not self._collection_aging_sees_all()
        for wizard in self:
            wizard.collection_restricted = restricted

    @api.constrains("bucket_limits")
    def _check_bucket_limits(self):
        for wizard in self:
            wizard._collection_parse_limits()

    def _collection_parse_limits(self):
        """Return the bucket limits of the wizard, ``(0, b1, b2, ...)``.

        :raise ValidationError: when the boundaries are not strictly increasing
            positive whole numbers of days.
        """
        self.ensure_one()
        example = self.env._("for example 30,60,90,120")
        text = (self.bucket_limits or "").strip()
        if not text:
            raise ValidationError(
                self.env._(
                    "Enter the bucket boundaries in days, %(example)s.", example=example
                )
            )
        boundaries = []
        for part in re.split(r"[,;\s]+", text.strip(",; ")):
            if not part.isdigit():
                raise ValidationError(
                    self.env._(
                        "Bucket boundaries must be whole numbers of days separated by "
                        "commas, %(example)s; '%(value)s' is not a whole number.",
                        example=example,
                        value=part,
                    )
                )
            boundaries.append(int(part))
        if boundaries[0] <= 0:
            raise ValidationError(
                self.env._(
                    "Bucket boundaries must be greater than zero (the 'Not due' bucket "
                    "is always first), %(example)s.",
                    example=example,
                )
            )
        if any(b <= a for a, b in pairwise(boundaries)):
            raise ValidationError(
                self.env._(
                    "Bucket boundaries must be strictly increasing, %(example)s; "
                    "'%(value)s' is not.",
                    example=example,
                    value=text,
                )
            )
        if len(boundaries) > MAX_BOUNDARIES:
            raise ValidationError(
                self.env._(
                    "At most %(count)s bucket boundaries are allowed, %(example)s.",
                    count=MAX_BOUNDARIES,
                    example=example,
                )
            )
        return (0, *boundaries)

    # -------------------------------------------------------------------------
    # Reusable computation
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
    def _collection_aging_labels(self, limits):
        """Labels of the buckets defined by ``limits``: 'Not due', '1-30', ...,
        'Over 120'."""
        labels = [
            self.env._("Not due")
            if limits[0] == 0
            else self.env._("Up to %(days)s", days=limits[0])
        ]
        labels += [f"{low + 1}-{high}" for low, high in pairwise(limits)]
        labels.append(self.env._("Over %(days)s", days=limits[-1]))
        return labels

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

    @api.model
    def _collection_receivable_account_ids(self):
        """Every receivable account, whatever its companies (a short list): the
        queries name them, so that PostgreSQL reads the receivable items through
        the indexes on ``account_id`` rather than the whole journal."""
        accounts = self.env["account.account"].sudo()
        return accounts.search(
            [("account_type", "=", "asset_receivable")], order="id"
        ).ids

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
        Candidates are the items open now plus those matched after ``date_at``
        (an item fully matched on or before ``date_at`` has nothing open then).
        """
        if aging_by not in ("due", "invoice"):
            raise UserError(self.env._("Age by must be 'due' or 'invoice'."))
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
            conditions.append(
                SQL(
                    "COALESCE(m.invoice_user_id, cp.user_id, p.user_id) = ANY(%s)",
                    user_ids,
                )
            )
        if not include_excluded:
            conditions.append(SQL("NOT COALESCE(m.collection_excluded, FALSE)"))
        account_ids = self._collection_receivable_account_ids()
        aging_date = (
            SQL("COALESCE(aml.date_maturity, aml.date)")
            if aging_by == "due"
            else SQL("COALESCE(m.invoice_date, aml.date)")
        )
        return SQL(
            """
            WITH later AS (
                -- per item, what matchings dated after the aging date took off
                -- it (signed as they count in its residual)
                SELECT line_id, SUM(amount) AS amount
                  FROM (
                        SELECT debit_move_id AS line_id, amount
                          FROM account_partial_reconcile
                         WHERE max_date > %(date_at)s
                         UNION ALL
                        SELECT credit_move_id, -amount
                          FROM account_partial_reconcile
                         WHERE max_date > %(date_at)s
                       ) p
              GROUP BY line_id
            ),
            candidate AS (
                -- open now and matched on or before the aging date only: what is
                -- open then is what is open now (the residual Odoo keeps); the
                -- condition is that of account_move_line__unreconciled_index
                SELECT aml.id, aml.move_id, aml.company_id, aml.partner_id, aml.date,
                       aml.date_maturity, aml.amount_residual AS amount
                  FROM account_move_line aml
                 WHERE aml.account_id = ANY(%(account_ids)s)
                   AND (aml.reconciled IS NULL OR aml.reconciled = false
                        OR aml.reconciled IS NOT true)
                   AND aml.parent_state = 'posted'
                   AND aml.company_id = ANY(%(company_ids)s)
                   AND aml.date <= %(date_at)s
                   AND aml.id NOT IN (SELECT line_id FROM later)
                 UNION ALL
                -- matched (in part or in full) after the aging date: today's
                -- residual plus what those later matchings took off
                SELECT aml.id, aml.move_id, aml.company_id, aml.partner_id, aml.date,
                       aml.date_maturity, aml.amount_residual + later.amount
                  FROM later
                  JOIN account_move_line aml ON aml.id = later.line_id
                 WHERE aml.account_id = ANY(%(account_ids)s)
                   AND aml.parent_state = 'posted'
                   AND aml.company_id = ANY(%(company_ids)s)
                   AND aml.date <= %(date_at)s
            ),
            open_line AS (
                SELECT aml.id,
                       aml.move_id,
                       m.name AS move_name,
                       aml.company_id,
                       aml.date,
                       aml.date_maturity,
                       m.invoice_date,
                       aml.amount,
                       COALESCE(p.commercial_partner_id, p.id) AS partner_id,
                       COALESCE(m.invoice_user_id, cp.user_id, p.user_id) AS user_id,
                       COALESCE(m.collection_excluded, FALSE) AS excluded,
                       %(date_at)s::date - %(aging_date)s AS days
                  FROM candidate aml
                  JOIN account_move m ON m.id = aml.move_id
             LEFT JOIN res_partner p ON p.id = aml.partner_id
             LEFT JOIN res_partner cp ON cp.id = p.commercial_partner_id
                 WHERE aml.amount != 0 AND %(conditions)s
            )
            SELECT open_line.id AS line_id,
                   open_line.move_id,
                   open_line.move_name,
                   open_line.company_id,
                   open_line.partner_id,
                   open_line.user_id,
                   open_line.date,
                   open_line.date_maturity,
                   open_line.invoice_date,
                   open_line.excluded,
                   open_line.days,
                   %(bucket)s AS bucket,
                   open_line.amount
              FROM open_line
            """,
            account_ids=account_ids,
            company_ids=companies.ids,
            date_at=date_at,
            conditions=SQL(" AND ").join(conditions),
            aging_date=aging_date,
            bucket=self._collection_aging_bucket_sql(SQL("open_line.days"), limits),
        )

    @api.model
    def _collection_aging_bucket_sql(self, days, limits):
        """SQL: the index of the bucket of an item ``days`` old (an SQL
        expression): 0 up to ``limits[0]`` days, 1 up to ``limits[1]``... and
        ``len(limits)`` beyond the last limit."""
        return SQL("width_bucket(%s - 1, %s::integer[])", days, list(limits))

    @api.model
    def _collection_aging(
        self,
        company_ids,
        date_at,
        limits=DEFAULT_LIMITS,
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
        rows = self.env.execute_query(
            self._collection_aging_grouped_query(detail, group_by)
        )
        return self._collection_aging_result_from(
            ((key, name, bucket, amount) for key, name, bucket, amount, _n in rows),
            companies.currency_id,
            limits,
            group_by,
        )

    @api.model
    def _collection_aging_result_from(self, amounts, currency, limits, group_by):
        """The result of :meth:`_collection_aging` from ``(group key, group name,
        bucket, amount)`` tuples (per group and bucket, or per item)."""
        labels = self._collection_aging_labels(limits)
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
        # currency.round() with the rounding read once: thousands of customers
        # times the buckets. The amounts are sums of amounts kept in the
        # currency's precision, so they hold no half unit to round: where the
        # rounding is a power of ten, Python's round() gives float_round()'s
        # result at a tenth of its cost.
        rounding = currency.rounding
        digits = currency.decimal_places
        if rounding == float(f"1e-{digits}"):

            def to_cent(amount):
                return round(amount, digits) + 0.0  # no -0.0

        else:

            def to_cent(amount):
                return float_round(amount, precision_rounding=rounding)

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

    @api.model
    def _collection_aging_detail(
        self,
        company_ids,
        date_at,
        limits=DEFAULT_LIMITS,
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
    # Wizard actions
    # -------------------------------------------------------------------------

    def _collection_aging_params(self):
        """Arguments of :meth:`_collection_aging` taken from the wizard, checked
        against the user's rights."""
        self.ensure_one()
        params = {
            # as stored: a company the user may not read must be refused by
            # _collection_aging_scope(), not silently replaced by the current one
            "company_ids": self.sudo().company_ids.ids,
            "date_at": self.date_at,
            "limits": self._collection_parse_limits(),
            "aging_by": self.aging_by,
            "partner_ids": self.partner_ids.ids,
            "user_ids": self.user_ids.ids,
            "include_excluded": self.include_excluded,
        }
        self._collection_aging_scope(
            params["company_ids"], params["limits"], params["user_ids"]
        )
        return params

    def _collection_aging_result(self):
        self.ensure_one()
        return self._collection_aging(
            group_by=self.group_by, **self._collection_aging_params()
        )

    def _collection_aging_parameter_lines(self):
        """(label, value) pairs describing the wizard, printed on the reports."""
        self.ensure_one()
        selection = dict(self._fields["aging_by"]._description_selection(self.env))
        grouping = dict(self._fields["group_by"]._description_selection(self.env))
        return [
            (self.env._("As of"), format_date(self.env, self.date_at)),
            (self.env._("Aged by"), selection[self.aging_by]),
            (self.env._("Grouped by"), grouping[self.group_by]),
            (self.env._("Companies"), ", ".join(self.company_ids.mapped("name"))),
            (
                self.env._("Customers"),
                ", ".join(self.partner_ids.mapped("display_name")) or self.env._("All"),
            ),
            (
                self.env._("Salespeople"),
                ", ".join(self.user_ids.mapped("name")) or self.env._("All"),
            ),
            (
                self.env._("Excluded invoices"),
                self.env._("Included")
                if self.include_excluded
                else self.env._("Left out"),
            ),
        ]

    def action_view_aging(self):
        """Show the aging on screen: a pivot of the open amounts by group and bucket;
        each line drills down to its journal items."""
        self.ensure_one()
        params = self._collection_aging_params()
        companies, limits, user_ids = self._collection_aging_scope(
            params["company_ids"], params["limits"], params["user_ids"]
        )
        self.line_ids.unlink()
        self.bucket_ids.unlink()
        buckets = self.env["collection.aging.bucket"].create(
            [
                {"wizard_id": self.id, "sequence": index, "name": label}
                for index, label in enumerate(self._collection_aging_labels(limits))
            ]
        )
        self.env.flush_all()
        detail = self._collection_aging_detail_query(
            companies,
            params["date_at"],
            limits,
            params["aging_by"],
            params["partner_ids"],
            user_ids,
            params["include_excluded"],
        )
        group_field = "partner_id" if self.group_by == "partner" else "user_id"
        self.env.execute_query(
            SQL(
                """
                INSERT INTO collection_aging_line (
                    create_uid, write_uid, create_date, write_date, wizard_id,
                    bucket_id, %(group_field)s, currency_id, amount, item_count)
                SELECT %(uid)s, %(uid)s, NOW() AT TIME ZONE 'UTC',
                       NOW() AT TIME ZONE 'UTC', %(wizard_id)s,
                       (%(bucket_ids)s::integer[])[g.bucket + 1], g.key,
                       %(currency_id)s, g.amount, g.item_count
                  FROM (%(grouped)s) g
                """,
                group_field=SQL.identifier(group_field),
                uid=self.env.uid,
                wizard_id=self.id,
                bucket_ids=buckets.ids,
                currency_id=companies.currency_id.id,
                grouped=self._collection_aging_grouped_query(detail, self.group_by),
            )
        )
        self.env["collection.aging.line"].invalidate_model()
        self.invalidate_recordset(["line_ids"])
        return {
            "type": "ir.actions.act_window",
            "name": self.env._(
                "Aging as of %(date)s", date=format_date(self.env, self.date_at)
            ),
            "res_model": "collection.aging.line",
            "view_mode": "pivot,list",
            "views": [
                (
                    self.env.ref(
                        "account_collections.collection_aging_line_view_pivot"
                    ).id,
                    "pivot",
                ),
                (
                    self.env.ref(
                        "account_collections.collection_aging_line_view_list"
                    ).id,
                    "list",
                ),
            ],
            "search_view_id": [
                self.env.ref("account_collections.collection_aging_line_view_search").id
            ],
            "domain": [("wizard_id", "=", self.id)],
            "context": {
                "pivot_row_groupby": [group_field],
                "pivot_column_groupby": ["bucket_id"],
                "pivot_measures": ["amount"],
                "collection_aging_group_by": self.group_by,
            },
            "target": "current",
        }

    def _collection_aging_open_move_lines(self, lines):
        """Action listing the journal items behind ``lines`` (of this wizard)."""
        self.ensure_one()
        params = self._collection_aging_params()
        key_field = "partner_id" if self.group_by == "partner" else "user_id"
        wanted = {
            (line[key_field].id or False, line.bucket_id.sequence) for line in lines
        }
        keys = {key for key, _bucket in wanted}
        if keys and False not in keys:
            # only compute the groups asked for
            params["partner_ids" if self.group_by == "partner" else "user_ids"] = list(
                keys
            )
        move_line_ids = [
            item["move_line_id"]
            for item in self._collection_aging_detail(**params)
            if (item[key_field], item["bucket"]) in wanted
        ]
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Journal Items"),
            "res_model": "account.move.line",
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": [("id", "in", move_line_ids)],
            "context": {"create": False},
        }

    def action_print_pdf(self):
        """Print the aging (QWeb PDF, landscape)."""
        self.ensure_one()
        self._collection_aging_params()
        return self.env.ref(
            "account_collections.collection_aging_report_action"
        ).report_action(self)

    def action_export_xlsx(self):
        """Write the aging to ``xlsx_file`` (sheet 1: one row per group and a last
        ``Total`` row; sheet 2: one row per journal item) and download it."""
        self.ensure_one()
        params = self._collection_aging_params()
        currency = self._collection_aging_scope(
            params["company_ids"], params["limits"], params["user_ids"]
        )[0].currency_id
        key, name = (
            ("partner_id", "partner_name")
            if self.group_by == "partner"
            else ("user_id", "user_name")
        )
        with without_cyclic_gc():
            # one query: the groups are summed from the items of the detail sheet
            detail = self._collection_aging_detail(**params)
            result = self._collection_aging_result_from(
                (
                    (item[key], item[name], item["bucket"], item["amount"])
                    for item in detail
                ),
                currency,
                params["limits"],
                self.group_by,
            )
            content = collection_aging_xlsx(self, result, detail)
            del detail
        self.write(
            {
                "xlsx_file": base64.b64encode(content),
                "xlsx_filename": self.env._(
                    "aging_%(date)s.xlsx", date=fields.Date.to_string(self.date_at)
                ),
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": (
                f"/web/content/?model={self._name}&id={self.id}"
                "&field=xlsx_file&filename_field=xlsx_filename&download=true"
                # named, not guessed: Odoo would guess it from the file's first
                # kilobyte, where a zip cannot be read (a warning, and the
                # browser would be told 'application/zip')
                f"&mimetype={XLSX_MIMETYPE}"
            ),
            "target": "self",
        }
