#!/usr/bin/env bash
# Runs the whole test suite on a fresh database: Odoo's own tests of what the addon
# extends (tools/run_odoo_core_tests.sh), then installs the addon, runs pytest-odoo,
# and fails when any of them fails or the Odoo log of the install or of the tests
# has a WARNING or an ERROR from the addon.  Usage: tools/run_tests.sh [extra pytest args]
# TEST_DB, HTTP_PORT and BUILD_DIR let several runs share one machine.
source "$(dirname "$0")/odoo_env.sh"
# pytest-odoo and websocket-client (requirements-test.txt), installed when missing
PYTHON="$PYTHON" "$REPO_ROOT/tools/ensure_requirements.sh" requirements-test.txt \
    pytest_odoo websocket

# Odoo's own tests of what the addon extends (tools/run_odoo_core_tests.sh), on a
# database of their own, when the whole suite runs (no test file named) unless
# SKIP_ODOO_CORE=1: their result decides the exit status with the suite's.
core_status=0
run_core=1
for arg in "$@"; do
    case "$arg" in tests/*|tests|-k) run_core=0 ;; esac
done
if [ "$run_core" = 1 ] && [ -z "${SKIP_ODOO_CORE:-}" ]; then
    echo "== Odoo's own tests of what the addon extends"
    "$REPO_ROOT/tools/run_odoo_core_tests.sh" || core_status=$?
fi

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
if [ -n "${TEMPLATE_DB:-}" ]; then
    # the template's attachments live in its filestore: the copy needs them too
    FILESTORE="${ODOO_DATA_DIR:-$HOME/.local/share/Odoo}/filestore"
    if [ -d "$FILESTORE/$TEMPLATE_DB" ]; then
        mkdir -p "$FILESTORE/$DB"
        cp -rn "$FILESTORE/$TEMPLATE_DB/." "$FILESTORE/$DB/"
    fi
fi

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
if [ "$core_status" -ne 0 ]; then
    echo "ERROR: Odoo's own tests of what the addon extends failed (above)" >&2
    [ "$status" -eq 0 ] && status=$core_status
fi
exit "$status"
