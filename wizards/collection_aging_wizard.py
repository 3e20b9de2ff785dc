import base64
import re
from itertools import pairwise

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, format_date

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
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
        if self._collection_aging_report()._collection_aging_sees_all():
            return self.env["res.users"]
        return self.env.user

    @api.depends("company_ids")
    def _compute_company_id(self):
        for wizard in self:
            wizard.company_id = wizard.company_ids[:1] or self.env.company

    def _compute_collection_restricted(self):
        restricted = not self._collection_aging_report()._collection_aging_sees_all()
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
    # Parameters, and the report that computes them
    # -------------------------------------------------------------------------

    def _collection_aging_report(self):
        return self.env["report.account_collections.collection_aging_report_document"]

    def _collection_aging_params(self):
        """The arguments of the aging report's ``_collection_aging()`` gathered
        by the wizard, checked against the user's rights."""
        self.ensure_one()
        params = {
            # as stored: a company the user may not read must be refused by
            # the report, not silently replaced by the current one
            "company_ids": self.sudo().company_ids.ids,
            "date_at": self.date_at,
            "limits": self._collection_parse_limits(),
            "aging_by": self.aging_by,
            "group_by": self.group_by,
            "partner_ids": self.partner_ids.ids,
            "user_ids": self.user_ids.ids,
            "include_excluded": self.include_excluded,
        }
        self._collection_aging_report()._collection_aging_scope(
            params["company_ids"], params["limits"], params["user_ids"]
        )
        return params

    def _collection_aging_result(self):
        """The aging of the wizard's parameters (see the report's
        ``_collection_aging()``)."""
        self.ensure_one()
        return self._collection_aging_report()._collection_aging(
            **self._collection_aging_params()
        )

    # -------------------------------------------------------------------------
    # Actions
    # -------------------------------------------------------------------------

    def action_view_aging(self):
        """Show the aging on screen: a pivot of the open amounts by group and bucket;
        each line drills down to its journal items."""
        self.ensure_one()
        grouped = self._collection_aging_report()._collection_aging_grouped(
            **self._collection_aging_params()
        )
        self.line_ids.unlink()
        self.bucket_ids.unlink()
        buckets = self.env["collection.aging.bucket"].create(
            [
                {"wizard_id": self.id, "sequence": index, "name": label}
                for index, label in enumerate(grouped["labels"])
            ]
        )
        group_field = "partner_id" if self.group_by == "partner" else "user_id"
        # the report's sums written as the pivot's lines in one query
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
                currency_id=grouped["currency_id"],
                grouped=grouped["query"],
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
        del params["group_by"]
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
            for item in self._collection_aging_report()._collection_aging_detail(
                **params
            )
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
        content, filename = self._collection_aging_report()._collection_aging_xlsx(
            self._collection_aging_params()
        )
        self.write({"xlsx_file": base64.b64encode(content), "xlsx_filename": filename})
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
