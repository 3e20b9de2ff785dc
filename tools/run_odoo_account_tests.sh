#!/usr/bin/env bash
# Odoo's own 'account' tests with account_collections installed (long: an hour or
# more; not part of `make test`/CI). Installs the addon on a fresh database, then
# runs Odoo's test runner on the 'account' module's tests: the post-install tests
# run with the addon loaded (its fields, overrides and hooks active).
#   ACCOUNT_TEST_DB  database (default account_collections_odoo_account)
#   WITHOUT_ADDON=1  same run with 'account' alone: a baseline to tell whether a
#                    failure comes from the addon
#   TEST_TAGS        Odoo test tags (default /account)
#   TEMPLATE_DB      start from a database that has 'account' installed
#   EXTRA_MODULES    comma-separated modules installed beside it (e.g. account_payment)
# Usage: tools/run_odoo_account_tests.sh   (make test-odoo-account)
source "$(dirname "$0")/odoo_env.sh"

DB="${ACCOUNT_TEST_DB:-account_collections_odoo_account}"
TAGS="${TEST_TAGS:-/account}"
MODULE="account_collections"
[ -n "${WITHOUT_ADDON:-}" ] && MODULE="account"
MODULE="$MODULE${EXTRA_MODULES:+,$EXTRA_MODULES}"
LOG_DIR="$BUILD_DIR/logs"
LOG="$LOG_DIR/${LOG_NAME:-odoo-account-tests}${WITHOUT_ADDON:+-without-addon}.log"
sync_addon
mkdir -p "$LOG_DIR"
INSTALL_LOG="$LOG_DIR/${LOG_NAME:-odoo-account-tests}-install.log"
rm -f "$LOG" "$INSTALL_LOG"

echo "== fresh database $DB, installing $MODULE"
dropdb --if-exists "$DB"
createdb ${TEMPLATE_DB:+-T "$TEMPLATE_DB"} "$DB"
odoo_bin -d "$DB" --addons-path="$ADDONS_PATH" --without-demo=all -i "$MODULE" \
    --stop-after-init --logfile="$INSTALL_LOG" \
    || die "installing $MODULE failed (log: $INSTALL_LOG)"

echo "== Odoo's tests '$TAGS' (log: $LOG)"
set +e
odoo_bin -d "$DB" --addons-path="$ADDONS_PATH" --without-demo=all --test-tags "$TAGS" \
    --stop-after-init --http-interface=127.0.0.1 --http-port="${HTTP_PORT:-8069}" --logfile="$LOG"
status=$?
set -e

echo "== summary"
summary="$(grep -E "error\(s\) of [0-9]+ tests" "$LOG" | tail -n 1 | sed -E 's/^.*(INFO|ERROR) [^ ]+ [^ ]+: //' || true)"
echo "${summary:-no test summary in the log}"
if [ -z "$summary" ] || echo "$summary" | grep -qE ' of 0 tests'; then
    echo "ERROR: no test ran for '$TAGS'" >&2
    [ "$status" -eq 0 ] && status=1
fi
failed="$(grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ ERROR [^ ]+ odoo\.addons\.[a-z_]+\.tests[^ ]*: (FAIL|ERROR): ' "$LOG" \
    | sed -E 's/^.* (FAIL|ERROR): /\1: /' | sort | uniq || true)"
if [ -n "$failed" ]; then
    echo "$failed"
    echo "(details in $LOG; compare with WITHOUT_ADDON=1 to see whether the addon is the cause)"
    [ "$status" -eq 0 ] && status=1
fi
exit "$status"
