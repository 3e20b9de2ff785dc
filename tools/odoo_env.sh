# Sourced by the project's scripts: finds Odoo 18.0 and PostgreSQL, prepares an
# addons folder named account_collections (Odoo and pytest-odoo need that name).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"

die() { echo "ERROR: $*" >&2; exit 2; }

if ! "$PYTHON" -c 'import odoo.release as r; assert r.version_info[0] == 18' 2>/dev/null; then
    die "Odoo 18.0 is not importable by '$PYTHON' (python3 -c 'import odoo' failed).
       Install Odoo 18.0 Community and its requirements first (see README.md, Prerequisites)."
fi
if ! pg_isready -q 2>/dev/null; then
    die "PostgreSQL does not answer on the local socket (pg_isready failed).
       Start PostgreSQL and make sure your system user can create databases."
fi

# Odoo's own addons: ODOO_ADDONS_PATH, else the 'addons' folder beside the odoo package.
if [ -z "${ODOO_ADDONS_PATH:-}" ]; then
    ODOO_ADDONS_PATH="$("$PYTHON" - <<'PY'
import os, odoo
root = os.path.dirname(os.path.dirname(os.path.abspath(odoo.__file__)))
paths = [p for p in (os.path.join(root, "addons"), os.path.join(root, "odoo", "addons")) if os.path.isdir(p)]
print(",".join(paths))
PY
)"
fi
"$PYTHON" - "$ODOO_ADDONS_PATH" <<'PY' || die "Odoo's 'account' addon was not found in ODOO_ADDONS_PATH=$ODOO_ADDONS_PATH"
import os, sys
assert any(os.path.isfile(os.path.join(p, "account", "__manifest__.py")) for p in sys.argv[1].split(","))
PY

# A folder named account_collections holding a copy of the working tree.
BUILD_DIR="${BUILD_DIR:-${TMPDIR:-/tmp}/account_collections-build-$(id -u)}"
ADDON_DIR="$BUILD_DIR/account_collections"
sync_addon() {
    mkdir -p "$ADDON_DIR"
    (cd "$REPO_ROOT" && tar --exclude=./.git --exclude=./bench/results --exclude='*.pyc' \
        --exclude=__pycache__ -cf - .) | (cd "$ADDON_DIR" && rm -rf ./* ./.[!.]* && tar -xf -)
}
ADDONS_PATH="$ODOO_ADDONS_PATH,$BUILD_DIR"

odoo_bin() { "$PYTHON" -m odoo "$@"; }

# Lines of an Odoo log that are warnings or errors coming from this addon: its loggers,
# its models, and its fields on Odoo's models (e.g. "Field account.move.collection_x").
addon_log_problems() {
    # the database's name (the field after the level) is no sign of the addon:
    # CI's database is called account_collections_test
    grep -hE '^[0-9-]+ [0-9:,]+ [0-9]+ (WARNING|ERROR|CRITICAL) ' "$@" \
        | sed -E 's/^([0-9-]+ [0-9:,]+ [0-9]+ [A-Z]+) [^ ]+ /\1 /' \
        | grep -E 'account_collections|collection\.(policy|stage|promise|contact|aging|report|worklist|portfolio)|\.collection_[a-z]' \
        || true
}

# Errors of any origin in an Odoo log (a failed query caused by the addon names only
# the table), but pytest-odoo's notice about importing odoo.tests.
log_errors() {
    grep -hE '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$@" \
        | grep -v 'odoo.tests.common: Importing test framework' || true
}
