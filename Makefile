# Two commands for a newcomer (see README.md):
#   make run   - demo database with realistic data, crons run once, server on localhost:8069
#   make test  - the whole test suite on a fresh database
.PHONY: run test demo test-odoo-core test-odoo-account bench lint pot screenshots

run:
	tools/run_demo.sh

demo:
	NO_SERVER=1 tools/run_demo.sh

test:
	tools/run_tests.sh

# Odoo's own tests of what the addon extends, with it installed (part of `make test`).
test-odoo-core:
	tools/run_odoo_core_tests.sh

# Odoo's own 'account' tests with the addon installed (long: not part of CI).
test-odoo-account:
	tools/run_odoo_account_tests.sh

bench:
	tools/run_bench.sh

# ruff (lint, complexity, format) and pylint-odoo's mandatory checks.
lint:
	tools/lint.sh

# Regenerate i18n/account_collections.pot from the code and merge it into the .po files.
pot:
	tools/export_pot.sh

# Regenerate the README's screenshots (docs/images) from a fresh demo database.
screenshots:
	tools/screenshots.sh
