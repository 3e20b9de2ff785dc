#!/usr/bin/env bash
# Runs the whole test suite on a fresh database: installs the addon, runs pytest-odoo,
# and fails when the Odoo log of the install or of the tests has a WARNING or an
# ERROR from the addon.  Usage: tools/run_tests.sh [extra pytest args]
# TEST_DB, HTTP_PORT and BUILD_DIR let several runs share one machine.
source "$(dirname "$0")/odoo_env.sh"
# pytest-odoo and websocket-client (requirements-test.txt), installed when missing
PYTHON="$PYTHON" "$REPO_ROOT/tools/ensure_requirements.sh" requirements-test.txt \
    pytest_odoo websocket

DB="${TEST_DB:-account_collections_test}"
LOG_DIR="$BUILD_DIR/logs"
sync_addon
mkdir -p "$LOG_DIR"
rm -f "$LOG_DIR"/*.log

echo "== fresh database $DB"
dropdb --if-exists "$DB"
# TEMPLATE_DB (development only): start from a database that already has 'account'
# installed, to skip most of the install time. CI and the README use a fresh database.
createdb ${TEMPLATE_DB:+-T "$TEMPLATE_DB"} "$DB"

CONF="$BUILD_DIR/odoo-test.conf"
cat > "$CONF" <<CONF
[options]
addons_path = $ADDONS_PATH
db_name = $DB
dbfilter = ^$DB\$
log_level = info
logfile = $LOG_DIR/tests.log
without_demo = all
http_interface = 127.0.0.1
http_port = ${HTTP_PORT:-8069}
CONF

echo "== installing account_collections (log: $LOG_DIR/install.log)"
if ! odoo_bin -c "$CONF" -d "$DB" -i account_collections --stop-after-init \
        --logfile="$LOG_DIR/install.log"; then
    tail -n 40 "$LOG_DIR/install.log" >&2
    echo "ERROR: installing the addon failed" >&2
    exit 1
fi
if grep -qE ' (ERROR|CRITICAL) ' "$LOG_DIR/install.log"; then
    grep -E ' (ERROR|CRITICAL) ' "$LOG_DIR/install.log" >&2
    echo "ERROR: the install logged errors" >&2
    exit 1
fi

echo "== running the tests (Odoo log: $LOG_DIR/tests.log)"
cd "$ADDON_DIR"
set +e
# the whole suite, unless the arguments name test files or folders themselves
targets=(tests)
for arg in "$@"; do
    case "$arg" in tests/*|tests) targets=() ;; esac
done
"$PYTHON" -m pytest -p no:cacheprovider --odoo-config="$CONF" --odoo-log-level=info \
    --odoo-http "${targets[@]}" "$@"
status=$?
set -e

problems="$(addon_log_problems "$LOG_DIR/install.log" "$LOG_DIR/tests.log")"
problems="$(printf '%s\n%s' "$problems" "$(log_errors "$LOG_DIR/tests.log")" | sort -u | sed '/^$/d')"
if [ -n "$problems" ]; then
    echo "$problems" >&2
    echo "ERROR: the Odoo log has errors, or warnings from account_collections (above)" >&2
    [ "$status" -eq 0 ] && status=1
fi
exit "$status"
