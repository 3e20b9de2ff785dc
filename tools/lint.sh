#!/usr/bin/env bash
# make lint: ruff (lint with the complexity limit, and format) and pylint-odoo's
# mandatory checks (.pylintrc-mandatory), the checks of .pre-commit-config.yaml.
# Installs requirements-lint.txt first when ruff or pylint-odoo is missing.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
export PYTHON
"$REPO_ROOT/tools/ensure_requirements.sh" requirements-lint.txt ruff pylint_odoo

cd "$REPO_ROOT"
echo "== ruff check"
"$PYTHON" -m ruff check .
echo "== ruff format --check"
"$PYTHON" -m ruff format --check .

# pylint-odoo reads the addon's name from its folder, which a clone may name
# otherwise: lint a copy in a folder named account_collections
LINT_DIR="$(mktemp -d)"
trap 'rm -rf "$LINT_DIR"' EXIT
mkdir "$LINT_DIR/account_collections"
tar --exclude=./.git --exclude=./bench/results --exclude=__pycache__ -cf - . \
    | tar -xf - -C "$LINT_DIR/account_collections"
echo "== pylint-odoo (mandatory checks)"
(cd "$LINT_DIR" && "$PYTHON" -m pylint --rcfile="$REPO_ROOT/.pylintrc-mandatory" \
    account_collections)
echo "== one version: the manifest's, repeated in pyproject.toml"
"$PYTHON" - "$REPO_ROOT" <<'PY'
import ast, pathlib, re, sys
root = pathlib.Path(sys.argv[1])
manifest = ast.literal_eval((root / "__manifest__.py").read_text())["version"]
project = re.search(r'^version = "([^"]+)"', (root / "pyproject.toml").read_text(), re.M)[1]
if manifest != project:
    sys.exit(f"pyproject.toml says {project}, __manifest__.py {manifest}: state one version")
PY
echo "== lint passed"
