#!/usr/bin/env bash
# Odoo's own tests of what the addon extends, with the addon installed (a few
# minutes; part of `make test` and so of CI): new invoices, bills, credit notes
# and entries opened in their forms, reconciliation, payments (account and
# account_payment), the invoice portal, partner merge, sending, the payments
# widget. Fails on any failure or error, and when no test ran (a class renamed).
#   WITHOUT_ADDON=1  the same classes with 'account' and 'account_payment' alone
#   ODOO_CORE_TAGS   other Odoo test tags instead of the list below
# Usage: tools/run_odoo_core_tests.sh   (make test-odoo-core)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

CLASSES=(
    /account:TestAccountMoveOutInvoiceOnchanges
    /account:TestAccountMoveOutRefundOnchanges
    /account:TestAccountMoveInInvoiceOnchanges
    /account:TestAccountMoveInRefundOnchanges
    /account:TestAccountMove
    /account:TestAccountMoveReconcile
    /account:TestAccountPaymentRegister
    /account:TestAccountPayment
    /account:TestPortalInvoice
    /account:TestMergePartner
    /account:TestAccountMoveSend
    /account:TestAccountPartner
    /account:TestAccountMovePaymentsWidget
    /account_payment:TestFlows
    /account_payment:TestAccountPayment
)
TAGS="${ODOO_CORE_TAGS:-$(IFS=,; echo "${CLASSES[*]}")}"

ACCOUNT_TEST_DB="${ODOO_CORE_DB:-${TEST_DB:-account_collections_test}_odoo_core}" \
    TEST_TAGS="$TAGS" EXTRA_MODULES=account_payment LOG_NAME=odoo-core-tests \
    exec "$HERE/run_odoo_account_tests.sh"
