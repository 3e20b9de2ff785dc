from datetime import timedelta

from odoo.exceptions import AccessError, UserError
from odoo.models import MAGIC_COLUMNS
from odoo.tests import freeze_time, tagged

from .common import day
from .common_rpc import RpcCommon

ADDON = "account_collections"
MIXIN = "collection.system.fields"


@tagged("post_install", "-at_install")
class TestSystemFieldDefaults(RpcCommon):
    """The fields the system sets take no default of any kind: not a user's own
    (``ir.default``, the web client's *Set Default*), not a company-wide one,
    not the context's, on any model of the addon. Called through RPC, as the
    web client does, with a context of the caller's choosing."""

    # -------------------------------------------------------------------------
    # issue 27, item 6: a kept plan and a portal promise, by a personal default
    # -------------------------------------------------------------------------

    def test_rpc_personal_defaults_forge_no_kept_plan_nor_portal_promise(self):
        forged = (
            ("collection.plan", "state", "kept"),
            ("collection.plan", "amount_paid", 1000.0),
            ("collection.plan", "date_closed", str(day(1))),
            ("collection.plan.installment", "state", "paid"),
            ("collection.plan.installment", "amount_paid", 500.0),
            ("collection.promise", "source", "portal"),
        )
        for model, fname, value in forged:
            with (
                self.subTest(model=model, field=fname),
                self._refused(AccessError, "cannot have a default value"),
            ):
                self._rpc(
                    self.salesperson,
                    "ir.default",
                    "set",
                    model,
                    fname,
                    value,
                    user_id=True,
                    context=self.ATTACKER_CONTEXT,
                )
        # those written anyway (by an older version, or by the superuser) stand
        # in for nothing either
        for model, fname, value in forged:
            self.env["ir.default"].sudo().set(
                model, fname, value, user_id=self.salesperson.id
            )
        move = self._post_invoice(day(0), 1000.0)
        self._run(day(1))
        context = {
            **self.ATTACKER_CONTEXT,
            "default_state": "kept",
            "default_amount_paid": 1000.0,
            "default_date_closed": str(day(1)),
            "default_source": "portal",
        }
        with freeze_time(day(1)):
            form = self._rpc(
                self.salesperson,
                "collection.plan",
                "default_get",
                ["state", "amount_paid", "date_closed", "note"],
                context=context,
            )
            self.assertEqual(form.get("state"), "open")
            self.assertFalse(form.get("amount_paid"))
            self.assertFalse(form.get("date_closed"))
            plan = self.env["collection.plan"].browse(
                self._rpc(
                    self.salesperson,
                    "collection.plan",
                    "create",
                    {
                        "move_ids": [(6, 0, move.ids)],
                        "installment_ids": [
                            (0, 0, {"date": str(day(10)), "amount": 500.0}),
                            (0, 0, {"date": str(day(20)), "amount": 500.0}),
                        ],
                    },
                    context=context,
                )
            )
        self.assertEqual(plan.state, "open")
        self.assertEqual(plan.amount_paid, 0.0)
        self.assertFalse(plan.date_closed)
        self.assertEqual(plan.installment_ids.mapped("state"), ["open", "open"])
        self.assertEqual(plan.installment_ids.mapped("amount_paid"), [0.0, 0.0])
        # judged from the payments: nothing paid, still open
        self._run(day(2))
        self.assertEqual(plan.state, "open")
        # a promise the salesperson records is theirs, not the customer's
        with freeze_time(day(2)):
            promise = self.env["collection.promise"].browse(
                self._rpc(
                    self.salesperson,
                    "collection.promise",
                    "create",
                    {
                        "move_ids": [(6, 0, self._post_invoice(day(0), 300.0).ids)],
                        "promised_date": str(day(9)),
                        "amount": 300.0,
                    },
                    context=context,
                )
            )
        self.assertEqual(promise.source, "internal")
        self.assertEqual(promise.state, "open")

    # -------------------------------------------------------------------------
    # the rule behind it, on every model
    # -------------------------------------------------------------------------

    def _system_models(self):
        """{model: its declared system fields} for every model of the addon's
        (the addon's own and the core models it extends) that declares them."""
        mixin = self.env.registry[MIXIN]
        return {
            name: frozenset(model_class._collection_system_fields)
            for name, model_class in self.env.registry.items()
            if name != MIXIN and mixin in model_class.__mro__
        }

    def test_every_system_field_is_declared(self):
        """A field of the addon's that no user types in (stored, read-only, not
        computed) is a system field: declared on its model, which inherits the
        guard (wizards, filled in by the action that opens them, and SQL views
        aside)."""
        declared = self._system_models()
        for name, model_class in self.env.registry.items():
            if model_class._abstract or model_class._transient or not model_class._auto:
                continue
            model = self.env[name]
            system = {
                fname
                for fname, field in model._fields.items()
                if ADDON in field._modules
                and field.store
                and field.readonly
                and not field.compute
                and not field.related
                and fname not in MAGIC_COLUMNS
            }
            with self.subTest(model=name):
                self.assertLessEqual(system, declared.get(name, frozenset()))
            for fname in declared.get(name, ()):
                with self.subTest(model=name, field=fname):
                    self.assertIn(fname, model._fields)

    def _forged_value(self, model, fname, own):
        """A value for ``fname`` other than its own default (None: skipped)."""
        field = model._fields[fname]
        if field.type == "boolean":
            return not own
        if field.type in ("integer", "float", "monetary"):
            return 7
        if field.type in ("char", "text", "html"):
            return "forged"
        if field.type == "date":
            return "2020-01-02"
        if field.type == "datetime":
            return "2020-01-02 10:00:00"
        if field.type == "selection" and isinstance(field.selection, list):
            return next(
                (value for value, _label in field.selection if value != own), None
            )
        if field.type == "many2one":
            return self.env[field.comodel_name].search([], limit=1).id or None
        return None

    def test_no_default_of_any_kind_for_a_system_field(self):
        """On every model that declares system fields: *Set Default* is refused
        for them, even to an administrator; a default written anyway (personal,
        company-wide, or a company-dependent field's fallback) and the
        context's are ignored: the form and the record get the field's own."""
        admin = self.env.ref("base.user_admin")
        # frozen: the defaults of the records' dates are "now"
        with freeze_time(day(1)):
            self._check_no_default(admin)
        # a company-dependent field reads no fallback from a default
        partner = self.env["res.partner"].create({"name": "New Customer"})
        self.assertFalse(partner.with_company(self.company).collection_segment_id)

    def _check_no_default(self, admin):
        checked = []
        for name, fnames in self._system_models().items():
            model = self.env[name].with_user(admin)
            own = model.default_get(list(fnames))
            for fname in sorted(fnames):
                with (
                    self.subTest(model=name, field=fname),
                    self._refused(AccessError, "cannot have a default value"),
                ):
                    self._rpc(
                        admin, "ir.default", "set", name, fname, False, user_id=True
                    )
                value = self._forged_value(model, fname, own.get(fname))
                if value is None:
                    continue
                checked.append((name, fname, value, own.get(fname)))
        self.assertGreater(len(checked), 50)
        ir_default = self.env["ir.default"].sudo()
        for name, fname, value, _own in checked:
            ir_default.set(name, fname, value)
            ir_default.set(name, fname, value, user_id=admin.id)
        for name, fname, value, own in checked:
            with self.subTest(model=name, field=fname):
                defaults = self._rpc(
                    admin,
                    name,
                    "default_get",
                    [fname],
                    context={f"default_{fname}": value},
                )
                self.assertEqual(defaults.get(fname), own)
                self.assertNotIn(fname, ir_default._get_model_defaults(name))


@tagged("post_install", "-at_install")
class TestExperimentSystemFields(RpcCommon):
    """issue 27, item 7: the state, start date and seed of an experiment are
    the system's, whatever a collection manager sends."""

    START = day(0)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.light = cls.env.ref("account_collections.collection_policy_light")
        cls.strict = cls.env.ref("account_collections.collection_policy_strict")
        cls.segment = cls.env["collection.segment"].create(
            {
                "name": "Pilot customers",
                "sequence": 99,
                "company_id": cls.company.id,
                "policy_id": cls.policy.id,
            }
        )

    def _setup(self, **values):
        return {
            "name": "Stricter reminders",
            "company_id": self.company.id,
            "segment_id": self.segment.id,
            "control_policy_id": self.light.id,
            "variant_policy_id": self.strict.id,
            **values,
        }

    def _call(self, method, *args, on=None, **kwargs):
        with freeze_time(on or self.START):
            return self._rpc(
                self.manager, "collection.experiment", method, *args, **kwargs
            )

    def test_rpc_experiment_not_created_running_nor_with_its_seed(self):
        context = {
            **self.ATTACKER_CONTEXT,
            "default_state": "running",
            "default_date_start": str(self.START - timedelta(days=400)),
            "default_seed": 4242,
        }
        experiment = self.env["collection.experiment"].browse(
            self._call("create", self._setup(), context=context)
        )
        self.assertEqual(experiment.state, "draft")
        self.assertFalse(experiment.date_start)
        self.assertFalse(experiment.seed)
        # so it is not rolled out the day it was created
        with self._refused(UserError, "is not running"):
            self._call("action_roll_out", experiment.ids)
        self.assertEqual(self.segment.policy_id, self.policy)
        # nor created with a seed of the manager's choosing (who goes where)
        with self._refused(UserError, "set by its buttons"):
            self._call("create", self._setup(seed=4242))
        # nor through personal defaults
        for fname, value in (
            ("state", "running"),
            ("date_start", str(self.START - timedelta(days=400))),
            ("seed", 4242),
        ):
            with (
                self.subTest(field=fname),
                self._refused(AccessError, "cannot have a default value"),
            ):
                self._rpc(
                    self.manager,
                    "ir.default",
                    "set",
                    "collection.experiment",
                    fname,
                    value,
                    user_id=True,
                )
        # started by its button: today, with a seed the system draws
        self._call("action_start", experiment.ids)
        self.assertEqual(experiment.state, "running")
        self.assertEqual(experiment.date_start, self.START)
        self.assertTrue(experiment.seed)
        self.assertNotEqual(experiment.seed, 4242)
        # rolled out once it has run its minimum duration, not before
        with self._refused(UserError, "minimum duration"):
            self._call("action_roll_out", experiment.ids, on=self.START)
        self.assertEqual(experiment.state, "running")
        self._call(
            "action_roll_out",
            experiment.ids,
            on=self.START + timedelta(days=experiment.min_duration_days),
        )
        self.assertEqual(experiment.state, "done")
        self.assertEqual(self.segment.policy_id, self.strict)
