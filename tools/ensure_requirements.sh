#!/usr/bin/env bash
# Makes sure $PYTHON can import the given modules: installs the repository's
# requirements file (pip install -r) when one is missing, and stops with one
# line naming the command to run when it cannot.
# Usage: tools/ensure_requirements.sh FILE MODULE...
#   e.g. tools/ensure_requirements.sh requirements-test.txt pytest_odoo websocket
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
FILE="$REPO_ROOT/$1"
shift

missing() {
    local module
    for module in "$@"; do
        "$PYTHON" -c "import $module" 2>/dev/null || echo "$module"
    done
}

absent="$(missing "$@")"
[ -z "$absent" ] && exit 0
echo "== installing $(basename "$FILE") into $PYTHON's environment" \
    "(missing: $(echo $absent | tr ' ' ','))"
"$PYTHON" -m pip install -q -r "$FILE" || true
absent="$(missing "$@")"
if [ -n "$absent" ]; then
    echo "ERROR: Python modules missing ($(echo $absent | tr ' ' ',')): run '$PYTHON -m pip install -r $FILE' and try again." >&2
    exit 2
fi
