from odoo import fields, models


class CollectionReportLog(models.Model):
    """One delivery (or skipped delivery) of the portfolio report to a recipient,
    written by collection.portfolio.delivery.

    The weekly run writes one row per company, recipient and ISO week; the unique
    constraint on them is what keeps a second run in the same week from sending
    again. Deliveries sent with "Send now" have no week.
    """

    _name = "collection.report.log"
    _description = "Portfolio Report Delivery"
    _inherit = ["collection.system.fields"]
    _collection_system_fields = frozenset(
        {
            "company_id",
            "user_id",
            "email",
            "week",
            "date",
            "report_date",
            "state",
            "note",
            "lang",
            "mail_id",
            "attachment_id",
        }
    )
    _order = "date desc, id desc"
    _rec_name = "user_id"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    user_id = fields.Many2one(
        "res.users",
        string="Recipient",
        required=True,
        readonly=True,
        ondelete="cascade",
    )
    email = fields.Char(
        string="Email Address", readonly=True, help="Address the report was sent to."
    )
    week = fields.Char(
        readonly=True,
        index=True,
        help="ISO week of a weekly delivery; empty for a delivery sent on demand.",
    )
    date = fields.Datetime(
        string="Sent On", default=fields.Datetime.now, required=True, readonly=True
    )
    report_date = fields.Date(string="Report as of", readonly=True)
    state = fields.Selection(
        [("sent", "Sent"), ("skipped", "Skipped"), ("error", "Failed")],
        required=True,
        readonly=True,
    )
    note = fields.Char(string="Reason", readonly=True)
    lang = fields.Char(string="Language", readonly=True)
    mail_id = fields.Many2one(
        "mail.mail", string="Email Message", readonly=True, ondelete="set null"
    )
    mail_state = fields.Selection(related="mail_id.state", string="Email Status")
    attachment_id = fields.Many2one("ir.attachment", string="PDF", readonly=True)

    _sql_constraints = [
        (
            "company_user_week_uniq",
            "unique(company_id, user_id, week)",
            "The weekly portfolio report was already sent to this recipient this week.",
        ),
    ]
