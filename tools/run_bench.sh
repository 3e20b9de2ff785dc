#!/usr/bin/env bash
# The performance benchmark (make bench; see bench/README.md).
#   1. builds the template portfolio database ac_bench_tmpl_<scale> if it is missing
#      or incomplete (bench/generate.py resumes an interrupted build), else reuses it;
#   2. copies it (createdb -T, seconds) into a scratch database, updates the addon
#      there and adds the data of optional parts (promises);
#   3. runs bench/run.py: every measure, its baselines and the targets, written to
#      bench/results/latest.json and bench/RESULTS.md.
# Environment: BENCH_SCALE (default 50000), BENCH_REPEAT (runs per measure, 5),
# BENCH_OCA=0 to skip the OCA baseline, BENCH_BUILD_ONLY=1 to stop after step 1,
# BENCH_BASE_DB (an existing database with 'account' installed, to build faster),
# BENCH_KEEP=1 to keep the scratch database, BENCH_ONLY=weekly (or daily,aging,xlsx,
# weekly,segments,experiment,statements: some parts only; their table then replaces the whole one).
source "$(dirname "$0")/odoo_env.sh"

SCALE="${BENCH_SCALE:-50000}"
TEMPLATE="${BENCH_TEMPLATE_DB:-ac_bench_tmpl_$SCALE}"
RUN_DB="${BENCH_DB:-ac_bench_run_$SCALE}"
LOG_DIR="$BUILD_DIR/logs"
NICE="${BENCH_NICE:-nice -n 5}"
mkdir -p "$LOG_DIR" "$REPO_ROOT/bench/results"
sync_addon

# The OCA's aged partner balance, from PyPI, as a yardstick (never a dependency of
# the addon). Its wheels require the 'odoo' distribution, which PyPI does not have:
# install them without dependencies into a folder of their own.
OCA_MODULES=""
if [ "${BENCH_OCA:-1}" != "0" ]; then
    OCA_DIR="$BUILD_DIR/oca"
    if [ ! -f "$OCA_DIR/odoo/addons/account_financial_report/__manifest__.py" ]; then
        echo "== installing OCA account_financial_report 18.0 (and its addons) from PyPI"
        if ! "$PYTHON" -m pip install -q --no-deps --target "$OCA_DIR" \
                "odoo-addon-account_financial_report>=18.0,<18.1" \
                "odoo-addon-date_range>=18.0,<18.1" \
                "odoo-addon-report_xlsx>=18.0,<18.1"; then
            echo "WARNING: the OCA addons could not be installed: no OCA baseline" >&2
        fi
    fi
    if [ -f "$OCA_DIR/odoo/addons/account_financial_report/__manifest__.py" ]; then
        ADDONS_PATH="$ADDONS_PATH,$OCA_DIR/odoo/addons"
        OCA_MODULES="account_financial_report"
    fi
fi

CONF="$BUILD_DIR/odoo-bench.conf"
cat > "$CONF" <<CONF
[options]
addons_path = $ADDONS_PATH
without_demo = all
log_level = warn
http_interface = 127.0.0.1
CONF

db_exists() { psql -Atqc "SELECT 1 FROM pg_database WHERE datname = '$1'" postgres | grep -q 1; }
db_param() { psql -Atqc "SELECT value FROM ir_config_parameter WHERE key = '$2'" "$1" 2>/dev/null || true; }

# -- 1. the template portfolio -------------------------------------------------
if db_exists "$TEMPLATE" && [ "$(db_param "$TEMPLATE" bench.phase.all)" = "done" ]; then
    echo "== reusing the portfolio template $TEMPLATE"
else
    if ! db_exists "$TEMPLATE"; then
        echo "== new portfolio database $TEMPLATE"
        createdb ${BENCH_BASE_DB:+-T "$BENCH_BASE_DB"} "$TEMPLATE"
        modules="account_collections${OCA_MODULES:+,$OCA_MODULES}"
        if ! odoo_bin -c "$CONF" -d "$TEMPLATE" -i "$modules" --stop-after-init \
                --logfile="$LOG_DIR/bench-install.log"; then
            tail -n 30 "$LOG_DIR/bench-install.log" >&2
            dropdb "$TEMPLATE"
            die "installing $modules failed"
        fi
    else
        echo "== resuming the interrupted build of $TEMPLATE (addon updated first)"
        odoo_bin -c "$CONF" -d "$TEMPLATE" -u account_collections --stop-after-init \
            --logfile="$LOG_DIR/bench-install.log" || die "updating the addon failed"
    fi
    echo "== generating $SCALE invoices (log: $LOG_DIR/bench-generate.log)"
    (cd "$ADDON_DIR" && $NICE "$PYTHON" bench/generate.py -c "$CONF" -d "$TEMPLATE" \
        --scale "$SCALE") 2>&1 | tee "$LOG_DIR/bench-generate.log" | grep -v "ms each"
    [ "${PIPESTATUS[0]}" -eq 0 ] || die "the generator failed (see the log above)"
    psql -q -c "VACUUM ANALYZE" "$TEMPLATE"
fi
[ "${BENCH_BUILD_ONLY:-0}" = "1" ] && exit 0

# -- 2. a scratch copy with the current addon ---------------------------------------
echo "== copying $TEMPLATE into $RUN_DB"
dropdb --if-exists "$RUN_DB"
createdb -T "$TEMPLATE" "$RUN_DB"
install=""
if [ -n "$OCA_MODULES" ] && [ -z "$(psql -Atqc "SELECT 1 FROM ir_module_module WHERE name = 'account_financial_report' AND state = 'installed'" "$RUN_DB")" ]; then
    install="-i $OCA_MODULES"
fi
echo "== updating account_collections in $RUN_DB (log: $LOG_DIR/bench-update.log)"
odoo_bin -c "$CONF" -d "$RUN_DB" -u account_collections $install --stop-after-init \
    --logfile="$LOG_DIR/bench-update.log" || die "updating the addon failed"
(cd "$ADDON_DIR" && "$PYTHON" bench/generate.py -c "$CONF" -d "$RUN_DB" --extras-only)
psql -q -c "VACUUM ANALYZE" "$RUN_DB"

# -- 3. the measures ----------------------------------------------------------------
echo "== measuring (log: $LOG_DIR/bench-run.log)"
(cd "$ADDON_DIR" && $NICE "$PYTHON" bench/run.py -c "$CONF" -d "$RUN_DB" \
    --repeat "${BENCH_REPEAT:-5}" --template "$TEMPLATE" ${BENCH_ONLY:+--only "$BENCH_ONLY"} \
    --json "$REPO_ROOT/bench/results/latest.json" \
    --markdown "$REPO_ROOT/bench/RESULTS.md" --readme "$REPO_ROOT/README.md" \
    --generate-log "$LOG_DIR/bench-generate.log")
status=$?
[ "${BENCH_KEEP:-0}" = "1" ] || dropdb --if-exists "$RUN_DB"
exit $status
