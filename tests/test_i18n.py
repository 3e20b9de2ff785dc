import re

import polib

from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged
from odoo.tools.misc import file_path
from odoo.tools.translate import TranslationModuleReader

from .common import DUE, CollectionCommon, day

POT = "account_collections/i18n/account_collections.pot"
PO_ES = "account_collections/i18n/es.po"
# what a translation must keep from its source: placeholders and markup
KEPT = (r"%\(\w+\)s", r"\{\{.*?\}\}", r"<[^>]+>", r"\bt-[\w-]+=\"[^\"]*\"")


@tagged("post_install", "-at_install")
class TestCollectionTranslations(CollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_spanish()
        cls.env_es = cls.env(context=dict(cls.env.context, lang="es_ES"))

    def test_pot_is_up_to_date_with_the_code(self):
        reader = TranslationModuleReader(self.env.cr, modules=["account_collections"])
        in_code = {row[4] for row in reader}
        in_pot = {entry.msgid for entry in polib.pofile(file_path(POT)) if entry.msgid}
        missing, stale = sorted(in_code - in_pot), sorted(in_pot - in_code)
        self.assertFalse(
            missing or stale,
            "i18n/account_collections.pot is out of date: run `make pot` and "
            f"translate the new terms.\nMissing from the .pot: {missing}\n"
            f"No longer in the code: {stale}",
        )

    def test_spanish_is_complete_and_keeps_placeholders(self):
        in_pot = {entry.msgid for entry in polib.pofile(file_path(POT)) if entry.msgid}
        es = {entry.msgid: entry for entry in polib.pofile(file_path(PO_ES))}
        self.assertFalse(sorted(in_pot - set(es)), "terms of the .pot missing in es.po")
        untranslated = sorted(m for m in in_pot if not es[m].msgstr or es[m].fuzzy)
        self.assertFalse(untranslated, "untranslated or fuzzy terms in es.po")
        for msgid in in_pot:
            for pattern in KEPT:
                self.assertEqual(
                    sorted(re.findall(pattern, msgid)),
                    sorted(re.findall(pattern, es[msgid].msgstr)),
                    f"the Spanish translation of {msgid!r} must keep {pattern}",
                )

    def test_spanish_interface_labels(self):
        env = self.env_es
        self.assertEqual(
            env.ref("account_collections.collection_menu_root").name, "Cobranzas"
        )
        self.assertEqual(
            env.ref("account_collections.collection_worklist_menu").name,
            "Mis cobranzas",
        )
        description = env["collection.stage"].fields_get(["responsible", "day_offset"])
        self.assertEqual(description["responsible"]["string"], "Responsable")
        self.assertEqual(
            dict(description["responsible"]["selection"]),
            {"salesperson": "Vendedor", "manager": "Gerente"},
        )
        self.assertEqual(
            description["day_offset"]["string"], "Días desde el vencimiento"
        )
        self.assertEqual(
            env.ref("account_collections.mail_activity_type_collection_overdue").name,
            "Cobranza: Seguimiento de vencida",
        )
        self.assertEqual(
            env.ref("account_collections.collection_stage_default_overdue").name,
            "Seguimiento de vencidas",
        )
        action = env.ref("account_collections.account_move_action_collection")
        self.assertEqual(action.name, "Facturas en cobranza")
        self.assertIn("No hay facturas en cobranza", action.help)
        kanban = env["account.move"].get_view(
            env.ref("account_collections.account_move_view_kanban_collection").id,
            "kanban",
        )
        self.assertIn("días de atraso", kanban["arch"])
        self.assertIn("Aún no vence", kanban["arch"])

    def test_spanish_engine_messages_and_emails(self):
        # the scheduler runs without a language: notes follow its company's
        self.cron.user_id.company_id.partner_id.lang = "es_ES"
        self.customer.lang = "es_ES"
        self.salesperson.lang = "es_ES"
        invoice = self._post_invoice(DUE, amount=1000.0)
        mails_before = self.env["mail.mail"].search([])
        with freeze_time(day(1)):
            self.cron.with_context(lang=None).method_direct_trigger()

        stage_note = invoice.message_ids[1].body  # under the customer email
        self.assertIn("Etapa de cobranza Seguimiento de vencidas", stage_note)
        self.assertIn("actividad para Sam Seller", stage_note)

        email = invoice.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(
            email.subject,
            f"{self.company.name}: la factura {invoice.name} está vencida",
        )
        self.assertIn("Estimado/a Acme Customer", email.body)
        self.assertIn("Estas son sus facturas pendientes con nosotros", email.body)
        self.assertIn("Ver y pagar", email.body)
        self.assertNotIn("Dear", email.body)

        digest = (self.env["mail.mail"].search([]) - mails_before).filtered(
            lambda m: self.salesperson.partner_id in m.recipient_ids
        )
        self.assertEqual(digest.mapped("subject"), ["Cobranzas: 1 actividad nueva"])
        self.assertIn("Factura", digest.body_html)

    def test_spanish_errors(self):
        nothing_open = self.env["res.partner"].create({"name": "Paid Up Ltd"})
        with self.assertRaisesRegex(UserError, "no tiene facturas pendientes"):
            self.env_es["collection.contact.wizard"]._collection_action_open(
                partner=nothing_open
            )
        with self.assertRaisesRegex(UserError, "debe conservar al menos una etapa"):
            self.env_es["collection.stage"].browse(self.policy.stage_ids.ids).unlink()
