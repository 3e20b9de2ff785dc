import json

from odoo.tests import tagged
from odoo.tools import SQL

from .common import AGING_REPORT, DUE, CollectionCommon, day


@tagged("post_install", "-at_install")
class TestReceivableRulesAgree(CollectionCommon):
    """The salesperson, the policy and the open invoice are each one rule: what
    ``account.move`` says of one invoice in Python, the SQL of the set-based
    queries (the daily run, the aging, the KPIs, the dashboard) says of all."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_2 = cls.setup_other_company()["company"]
        cls.allowed = {"allowed_company_ids": (cls.company + cls.company_2).ids}
        cls.strict = cls.policy.copy({"name": "Strict"})
        cls.lenient = cls.policy.copy({"name": "Lenient"})
        cls.company_2.collection_policy_id = cls.lenient
        users = {
            login: cls._create_collection_user(login, name)
            for login, name in (
                ("seller_archived", "Archie Archived"),
                ("seller_customer", "Cora Customer-Owner"),
                ("seller_contact", "Connie Contact-Owner"),
                ("seller_gone", "Gus Gone"),
            )
        }
        cls.archived = users["seller_archived"]
        cls.gone = users["seller_gone"]
        Partner = cls.env["res.partner"]
        # a customer with its own salesperson and, in company 1 only, its policy
        cls.owned = Partner.create(
            {"name": "Owned Customer", "is_company": True, "user_id": cls.gone.id}
        )
        cls.owned.with_company(cls.company).collection_policy_id = cls.strict
        cls.owned_contact = Partner.create(
            {"name": "Owned's Contact", "parent_id": cls.owned.id}
        )
        # a customer without salesperson whose contact has one
        cls.plain = Partner.create({"name": "Plain Customer", "is_company": True})
        cls.plain_contact = Partner.create(
            {
                "name": "Plain's Contact",
                "parent_id": cls.plain.id,
                "user_id": users["seller_contact"].id,
            }
        )
        # a customer with a salesperson, no policy of its own
        cls.served = Partner.create(
            {
                "name": "Served Customer",
                "is_company": True,
                "user_id": users["seller_customer"].id,
            }
        )
        nobody = cls.env["res.users"]
        invoice = cls._post_invoice
        cls.moves = {
            # the invoice's own salesperson
            "own salesperson": invoice(DUE, partner=cls.served),
            # archived invoice salesperson: the customer's
            "archived, customer's": invoice(DUE, partner=cls.served, user=cls.archived),
            # no invoice salesperson: the customer's
            "none, customer's": invoice(DUE, partner=cls.served, user=nobody),
            # no invoice salesperson, none on the customer: the contact's
            "contact's": invoice(DUE, partner=cls.plain_contact, user=nobody),
            # archived invoice salesperson and customer salesperson (archived
            # below): the contact's, which has none either: nobody
            "all archived": invoice(DUE, partner=cls.owned_contact, user=cls.archived),
            # the customer's own policy in company 1
            "customer's policy": invoice(DUE, partner=cls.owned),
            # in company 2 the customer has no policy of its own: company 2's
            "company 2's default": invoice(
                DUE, partner=cls.owned, company=cls.company_2, user=cls.gone
            ),
            # company 1's default policy
            "company's default": invoice(DUE, partner=cls.plain),
        }
        for move in cls.moves.values():
            # the salesperson as the invoice keeps it (Odoo fills an empty one
            # from the customer when it is created)
            if move.invoice_user_id == cls.env.user:
                move.invoice_user_id = False
        cls.moves["none, customer's"].invoice_user_id = False
        cls.moves["contact's"].invoice_user_id = False
        (cls.archived | cls.gone).active = False

    def _sql_rules(self, moves):
        """``{move id: (salesperson id, policy id)}`` read by the shared SQL."""
        receivable = self.env["collection.receivable"]
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT m.id, %(salesperson)s, %(policy)s
                  FROM account_move m
                  %(joins)s
                 WHERE m.id = ANY(%(ids)s)
                """,
                salesperson=receivable._collection_salesperson_sql("rcv"),
                policy=receivable._collection_policy_sql("rcv"),
                joins=receivable._collection_invoice_joins("m", alias="rcv"),
                ids=moves.ids,
            )
        )
        return {
            move_id: (user_id or False, policy_id or False)
            for move_id, user_id, policy_id in rows
        }

    def _python_rules(self, moves):
        moves.invalidate_recordset()
        return {
            move.id: (
                move._collection_salesperson().id or False,
                move.with_company(move.company_id).collection_policy_id.id or False,
            )
            for move in moves
        }

    def _all_moves(self):
        moves = self.env["account.move"]
        for move in self.moves.values():
            moves |= move
        return moves.with_context(**self.allowed)

    def test_fixture_covers_every_fallback(self):
        expected = {
            "own salesperson": (self.salesperson, self.policy),
            "archived, customer's": (self.served.user_id, self.policy),
            "none, customer's": (self.served.user_id, self.policy),
            "contact's": (self.plain_contact.user_id, self.policy),
            "all archived": (self.env["res.users"], self.strict),
            "customer's policy": (self.salesperson, self.strict),
            "company 2's default": (self.env["res.users"], self.lenient),
            "company's default": (self.salesperson, self.policy),
        }
        python = self._python_rules(self._all_moves())
        for name, (user, policy) in expected.items():
            with self.subTest(name):
                self.assertEqual(python[self.moves[name].id], (user.id, policy.id))

    def test_salesperson_and_policy_agree(self):
        moves = self._all_moves()
        self.assertEqual(self._sql_rules(moves), self._python_rules(moves))

    def test_policy_default_of_the_company_agrees(self):
        """A default policy for customers set per company (Odoo keeps it apart
        from the customers' own values) is the customers' policy there."""
        self.env["ir.default"].set(
            "res.partner",
            "collection_policy_id",
            self.strict.id,
            company_id=self.company_2.id,
        )
        self.env.invalidate_all()
        moves = self._all_moves()
        python = self._python_rules(moves)
        self.assertEqual(
            python[self.moves["company 2's default"].id][1], self.strict.id
        )
        self.assertEqual(python[self.moves["company's default"].id][1], self.policy.id)
        self.assertEqual(self._sql_rules(moves), python)

    def test_queries_follow_the_rules(self):
        """The aging, the dashboard and the daily run read the same salesperson
        and policy as the invoice."""
        moves = self._all_moves()
        python = self._python_rules(moves)
        detail = (
            self.env[AGING_REPORT]
            .with_context(**self.allowed)
            ._collection_aging_detail((self.company + self.company_2).ids, day(0))
        )
        by_move = {item["move_id"]: item["user_id"] for item in detail}
        lines = (
            self.env["collection.portfolio.line"]
            .with_context(**self.allowed)
            .search([("move_id", "in", moves.ids)])
        )
        for name, move in self.moves.items():
            with self.subTest(name):
                user_id, policy_id = python[move.id]
                self.assertEqual(by_move[move.id], user_id, "aging")
                line = lines.filtered(lambda line, m=move: line.move_id == m)
                self.assertEqual(line.user_id.id, user_id, "dashboard")
                self.assertEqual(line.policy_id.id, policy_id, "dashboard")
        # the daily run executes the stages of each invoice's own policy
        self.strict.stage_ids.sorted("day_offset")[0].day_offset = -10
        work = dict(
            self.env["collection.engine"]._collection_due_work(
                (self.company + self.company_2).ids, day(-10)
            )
        )
        self.assertEqual(
            self.env["collection.stage"].browse(set(work.values())).policy_id,
            self.strict,
        )
        self.assertEqual(
            set(work),
            {self.moves["all archived"].id, self.moves["customer's policy"].id},
        )

    def test_policy_with_segments_and_experiments_agrees(self):
        """With segments active and experiments running, the SQL policy (the
        arms and the segments' policies read once per query, then looked up
        per row) is the Python one: an arm wins over the segment, the latest
        running experiment over an earlier one, a policy set by hand over both;
        a finished experiment, an archived segment, and a segment or an arm of
        another company give nothing."""
        policies = {
            name: self.policy.copy({"name": name, "company_id": False})
            for name in ("Segment", "Control", "Variant", "Later", "Company 2 arm")
        }
        Segment = self.env["collection.segment"].sudo()

        def segment(name, company, policy, sequence, active=True):
            return Segment.create(
                {
                    "name": name,
                    "company_id": company.id,
                    "policy_id": policy.id,
                    "sequence": sequence,
                    "active": active,
                }
            )

        pilot = segment("Pilot", self.company, policies["Segment"], 91)
        other = segment("Other", self.company, self.lenient, 92)
        archived = segment("Archived", self.company, self.strict, 93, active=False)
        pilot_2 = segment("Pilot 2", self.company_2, self.strict, 91)
        Partner = self.env["res.partner"]
        newcomer = Partner.create({"name": "Newcomer", "is_company": True})
        dormant = Partner.create({"name": "Dormant", "is_company": True})
        stray = Partner.create({"name": "Stray", "is_company": True})
        # the customers' segments as the evaluation writes them, per company
        members = {
            self.served: {self.company: pilot},
            self.plain: {self.company: pilot},
            self.owned: {self.company: pilot, self.company_2: pilot_2},
            newcomer: {self.company: pilot},
            dormant: {self.company: archived},
            # a segment of company 2 stored for company 1: not company 1's
            stray: {self.company: pilot_2},
        }
        self.env.flush_all()
        for partner, segments in members.items():
            self.env.cr.execute(
                SQL(
                    "UPDATE res_partner SET collection_segment_id = %s::jsonb "
                    "WHERE id = %s",
                    json.dumps({str(c.id): s.id for c, s in segments.items()}),
                    partner.id,
                )
            )
        Partner.invalidate_model(["collection_segment_id"])

        Experiment = self.env["collection.experiment"].sudo()

        def experiment(company, seg, control, variant, arms, state="running"):
            record = Experiment.create(
                {
                    "name": f"Experiment on {seg.name}",
                    "company_id": company.id,
                    "segment_id": seg.id,
                    "control_policy_id": control.id,
                    "variant_policy_id": variant.id,
                }
            )
            record.write({"state": state, "seed": 7, "date_start": day(-30)})
            self.env["collection.experiment.assignment"].sudo().create(
                [
                    {
                        "experiment_id": record.id,
                        "company_id": company.id,
                        "partner_id": partner.id,
                        "arm": arm,
                        "date": day(-30),
                    }
                    for partner, arm in arms.items()
                ]
            )
            return record

        experiment(
            self.company,
            pilot,
            policies["Control"],
            policies["Variant"],
            {self.served: "variant", self.plain: "control", self.owned: "variant"},
        )
        # started later, on another segment: its arm wins for the customer in both
        experiment(
            self.company,
            other,
            self.strict,
            policies["Later"],
            {self.plain: "variant"},
        )
        # finished: its arms no longer count
        experiment(
            self.company,
            pilot,
            self.strict,
            self.lenient,
            {newcomer: "variant", dormant: "control"},
            state="done",
        )
        experiment(
            self.company_2,
            pilot_2,
            policies["Company 2 arm"],
            self.strict,
            {self.owned: "control"},
        )
        moves = self._all_moves() | self._post_invoice(DUE, partner=newcomer)
        moves |= self._post_invoice(DUE, partner=dormant)
        moves |= self._post_invoice(DUE, partner=stray)
        moves |= self._post_invoice(DUE, partner=stray, company=self.company_2)
        moves = moves.with_context(**self.allowed)
        python = self._python_rules(moves)
        self.assertEqual(self._sql_rules(moves), python)
        expected = {
            "own salesperson": policies["Variant"],
            "contact's": policies["Later"],
            "company's default": policies["Later"],
            "customer's policy": self.strict,
            "company 2's default": policies["Company 2 arm"],
        }
        for name, policy in expected.items():
            with self.subTest(name):
                self.assertEqual(python[self.moves[name].id][1], policy.id)
        by_partner = {
            (move.commercial_partner_id, move.company_id): python[move.id][1]
            for move in moves
        }
        self.assertEqual(by_partner[newcomer, self.company], policies["Segment"].id)
        self.assertEqual(by_partner[dormant, self.company], self.policy.id)
        self.assertEqual(by_partner[stray, self.company], self.policy.id)
        self.assertEqual(by_partner[stray, self.company_2], self.lenient.id)

    def test_open_invoice_rule_agrees(self):
        """The domain, the SQL and the record's own answer say which invoices the
        collection process follows."""
        paid = self._post_invoice(DUE, partner=self.served)
        self._pay(paid)
        excluded = self._post_invoice(DUE, partner=self.served)
        excluded._collection_exclude("dispute")
        refund = self._post_invoice(DUE, partner=self.served, move_type="out_refund")
        draft = self.moves["own salesperson"].copy()
        moves = self._all_moves() | paid | excluded | refund | draft
        receivable = self.env["collection.receivable"]
        self.env.flush_all()
        by_sql = {
            move_id
            for (move_id,) in self.env.execute_query(
                SQL(
                    "SELECT m.id FROM account_move m WHERE m.id = ANY(%s) AND %s",
                    moves.ids,
                    receivable._collection_open_sql("m"),
                )
            )
        }
        by_domain = set(
            moves.search(
                [("id", "in", moves.ids), *receivable._collection_open_domain()]
            ).ids
        )
        by_record = {move.id for move in moves if move._collection_is_open()}
        self.assertEqual(by_sql, by_domain)
        self.assertEqual(by_record, by_domain)
        self.assertEqual(by_domain, set(self._all_moves().ids))
