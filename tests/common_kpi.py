from datetime import date

from odoo.tests import freeze_time

from .common import CollectionCommon

# the tests' "today": a Wednesday; the last complete week ended on Sunday 03-29
TODAY = date(2026, 4, 1)
LAST_WEEK_END = date(2026, 3, 29)
# the week of the first invoice ends on 2025-12-07: 17 weeks to 2026-03-29
FIRST_WEEK_END = date(2025, 12, 7)
WEEKS = 17
# the weekly report's scheduled action, the Monday after
NEXT_MONDAY = "2026-04-06 06:00:00"
SNAPSHOT = "collection.kpi.snapshot"


class KpiHistoryCommon(CollectionCommon):
    """A small portfolio over four months, for the KPI history.

    ===  ==========  ==========  ======  ===========  ==========================
    inv  invoice     due         amount  salesperson  payments
    ===  ==========  ==========  ======  ===========  ==========================
    A    2025-12-01  2025-12-31  1000    Sam          none
    B    2026-01-05  2026-02-04  2000    Sam          paid 2026-02-20
    C    2026-01-20  2026-02-19  3000    Sally        1000 paid 2026-03-10
    D    2026-03-02  2026-04-01  1500    Sally        none
    E    2026-03-16  2026-04-15  800     Sam          paid 2026-03-25
    ===  ==========  ==========  ======  ===========  ==========================
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        post = cls._post_invoice
        cls.inv_a = post(date(2025, 12, 31), 1000, invoice_date=date(2025, 12, 1))
        cls.inv_b = post(date(2026, 2, 4), 2000, invoice_date=date(2026, 1, 5))
        cls.inv_c = post(
            date(2026, 2, 19),
            3000,
            partner=cls.customer_2,
            user=cls.salesperson_2,
            invoice_date=date(2026, 1, 20),
        )
        cls.inv_d = post(
            date(2026, 4, 1),
            1500,
            partner=cls.customer_2,
            user=cls.salesperson_2,
            invoice_date=date(2026, 3, 2),
        )
        cls.inv_e = post(date(2026, 4, 15), 800, invoice_date=date(2026, 3, 16))
        CollectionCommon._pay(cls, cls.inv_b, pay_date=date(2026, 2, 20))
        CollectionCommon._pay(cls, cls.inv_c, 1000, pay_date=date(2026, 3, 10))
        CollectionCommon._pay(cls, cls.inv_e, pay_date=date(2026, 3, 25))
        cls.manager = cls._create_collection_user(
            "kpimanager",
            "Kira Manager",
            groups=["base.group_user", "account.group_account_manager"],
        )
        cls.history = cls.env["collection.kpi.history"]
        cls.portfolio = cls.env["collection.portfolio.report"]

    def _backfill(self, on=TODAY, companies=None):
        with freeze_time(on):
            return self.history._collection_backfill(companies or self.company)

    def _snapshots(self, **domain):
        return self.env[SNAPSHOT].search(
            [(field, "=", value) for field, value in domain.items()]
        )

    def _kpis(self, date_to, company=None):
        return self.portfolio._collection_kpis((company or self.company).ids, date_to)
