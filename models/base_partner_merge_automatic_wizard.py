from odoo import models


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _merge(self, partner_ids, dst_partner=None, extra_checks=True):
        # merging moves the invoices of the merged customers to the one kept
        self.env["res.partner"].browse(partner_ids).exists()._collection_check_merge()
        return super()._merge(
            partner_ids, dst_partner=dst_partner, extra_checks=extra_checks
        )
