#!/usr/bin/env bash
# Upgrade and uninstall check (a few minutes; not part of `make test`):
#  1. installs the addon on a fresh database and creates collection data of every
#     kind (policies, customised shipped stage, settings, stages reached,
#     promise, contact, exclusion, payment) and activities of other apps;
#  2. updates the addon (-u): every figure of the snapshot must be unchanged;
#  3. uninstalls it: invoices, payments and the other apps' activities must be
#     unchanged, and the addon's tables and columns gone.
# Usage: tools/check_upgrade_uninstall.sh   (CHECK_DB, TEMPLATE_DB as in run_tests.sh)
#   FROM_REF=<git ref>  install and fill the database with the addon as it was at that
#                       ref (e.g. the version on main), then update to the working tree:
#                       the migrations between the two run, and must keep every figure
source "$(dirname "$0")/odoo_env.sh"

DB="${CHECK_DB:-account_collections_upgrade}"
LOG_DIR="$BUILD_DIR/logs"
WORK="$BUILD_DIR/upgrade-check"
sync_addon
mkdir -p "$LOG_DIR" "$WORK"
rm -f "$WORK"/* "$LOG_DIR"/upgrade-*.log

# the addon installed first: the working tree's, or that of FROM_REF
INSTALL_PATH="$ADDONS_PATH"
STEP_SCRIPT="$REPO_ROOT/tools/check_upgrade_uninstall.py"
if [ -n "${FROM_REF:-}" ]; then
    FROM_DIR="$BUILD_DIR/from-ref"
    rm -rf "$FROM_DIR" && mkdir -p "$FROM_DIR/account_collections"
    git -C "$REPO_ROOT" archive "$FROM_REF" | tar -x -C "$FROM_DIR/account_collections"
    INSTALL_PATH="$ODOO_ADDONS_PATH,$FROM_DIR"
    STEP_SCRIPT="$FROM_DIR/account_collections/tools/check_upgrade_uninstall.py"
    echo "== installing the addon of $FROM_REF ($(grep -o '"18\.0[0-9.]*"' \
        "$FROM_DIR/account_collections/__manifest__.py")), updating to the working tree"
fi
odoo() { odoo_bin -d "$DB" --addons-path="$ADDONS_PATH" --without-demo=all "$@"; }
odoo_shell() { odoo_bin shell -d "$DB" --addons-path="$ADDONS_PATH" --no-http "$@"; }
step() {  # run tools/check_upgrade_uninstall.py's STEP in odoo shell
    STEP="$1" odoo_shell --log-level=warn \
        < "$STEP_SCRIPT" > "$WORK/$1.out" 2>&1 \
        || { cat "$WORK/$1.out" >&2; die "step $1 failed"; }
}
snapshot() {  # snapshot NAME: the JSON between the markers
    step snapshot
    sed -n '/^=====SNAPSHOT=====$/,/^=====SNAPSHOT=====$/p' "$WORK/snapshot.out" \
        | sed '1d;$d' > "$WORK/$1.json"
    [ -s "$WORK/$1.json" ] || { cat "$WORK/snapshot.out" >&2; die "empty snapshot $1"; }
}
fail=0

echo "== fresh database $DB, install"
dropdb --if-exists "$DB"
createdb ${TEMPLATE_DB:+-T "$TEMPLATE_DB"} "$DB"
odoo_bin -d "$DB" --addons-path="$INSTALL_PATH" --without-demo=all -i account_collections \
    --stop-after-init --logfile="$LOG_DIR/upgrade-install.log" \
    || die "install failed (log: $LOG_DIR/upgrade-install.log)"

echo "== collection data and other apps' activities"
ADDONS_PATH_NOW="$ADDONS_PATH"
ADDONS_PATH="$INSTALL_PATH"
step create
snapshot before
ADDONS_PATH="$ADDONS_PATH_NOW"
STEP_SCRIPT="$REPO_ROOT/tools/check_upgrade_uninstall.py"

echo "== update (-u account_collections)"
odoo -u account_collections --stop-after-init --logfile="$LOG_DIR/upgrade-update.log" \
    || die "update failed (log: $LOG_DIR/upgrade-update.log)"
if [ -n "$(log_errors "$LOG_DIR/upgrade-update.log")" ]; then
    log_errors "$LOG_DIR/upgrade-update.log" >&2
    echo "FAIL: the update logged errors" >&2
    fail=1
fi
snapshot after_update
if diff -u "$WORK/before.json" "$WORK/after_update.json"; then
    echo "OK: the update kept every record and setting ($(grep -c . "$WORK/before.json") lines compared)"
else
    echo "FAIL: the update changed data (diff above)" >&2
    fail=1
fi

echo "== uninstall"
cat > "$WORK/uninstall.py" <<'PY'
env["ir.module.module"].search([("name", "=", "account_collections")]).button_immediate_uninstall()
env.cr.commit()
PY
odoo_shell --logfile="$LOG_DIR/upgrade-uninstall.log" < "$WORK/uninstall.py" \
    > "$WORK/uninstall.out" 2>&1 || { cat "$WORK/uninstall.out" >&2; die "uninstall failed"; }
state="$(psql -d "$DB" -Atc "SELECT state FROM ir_module_module WHERE name = 'account_collections'")"
[ "$state" = "uninstalled" ] || { echo "FAIL: module state is $state" >&2; fail=1; }
snapshot after_uninstall
# without the addon, the snapshot has no "collections" part: compare the rest
python3 - "$WORK/before.json" "$WORK/after_uninstall.json" <<'PY' || fail=1
import json, sys
before, after = (json.load(open(p)) for p in sys.argv[1:])
before.pop("collections", None)
collection_activities = len(json.load(open(sys.argv[1]))["collections"]["activities"])
ok = True
for key in ("invoices", "payments", "other_activities"):
    if before[key] != after[key]:
        print(f"FAIL: {key} changed by the uninstall:\n{before[key]}\n{after[key]}")
        ok = False
    else:
        print(f"OK: {key} unchanged ({len(before[key])})")
print(f"activities: {before['all_activities']} before ({collection_activities} of "
      f"collections), {after['all_activities']} after")
sys.exit(0 if ok else 1)
PY
leftovers="$(psql -d "$DB" -Atc "
    SELECT string_agg(table_name || COALESCE('.' || column_name, ''), ', ') FROM (
        SELECT table_name, NULL AS column_name FROM information_schema.tables
         WHERE table_schema = 'public' AND table_name LIKE 'collection\_%'
        UNION ALL
        SELECT table_name, column_name FROM information_schema.columns
         WHERE table_schema = 'public' AND column_name LIKE 'collection\_%') t")"
if [ -n "$leftovers" ]; then
    echo "FAIL: tables or columns left by the uninstall: $leftovers" >&2
    fail=1
else
    echo "OK: no collection table or column left"
fi
if [ -n "$(log_errors "$LOG_DIR/upgrade-uninstall.log")" ]; then
    log_errors "$LOG_DIR/upgrade-uninstall.log" >&2
    echo "FAIL: the uninstall logged errors" >&2
    fail=1
fi

[ "$fail" -eq 0 ] && echo "== upgrade and uninstall check passed" || echo "== upgrade and uninstall check FAILED" >&2
exit "$fail"
