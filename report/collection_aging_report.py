from odoo import api, models


class CollectionAgingReport(models.AbstractModel):
    _name = "report.account_collections.collection_aging_report_document"
    _description = "Receivable Aging Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        """Compute the aging of each wizard printed, with percentages per bucket."""
        wizards = self.env["collection.aging.wizard"].browse(docids)
        results = {}
        for wizard in wizards:
            result = wizard._collection_aging_result()
            total = result["total"]
            result["percents"] = [
                (amount / total * 100.0) if total else 0.0
                for amount in result["totals"]
            ]
            result["currency"] = self.env["res.currency"].browse(result["currency_id"])
            result["parameters"] = wizard._collection_aging_parameter_lines()
            results[wizard.id] = result
        return {
            "doc_ids": docids,
            "doc_model": "collection.aging.wizard",
            "docs": wizards,
            "results": results,
        }
