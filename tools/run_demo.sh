#!/usr/bin/env bash
# Creates (or refreshes) the demo database, runs the collection crons once and starts
# Odoo on http://localhost:8069 (login: admin / admin).
#   DEMO_DB   database name (default account_collections_demo)
#   NO_SERVER=1  stop after building the database (used by screenshots and CI tools)
source "$(dirname "$0")/odoo_env.sh"

DB="${DEMO_DB:-account_collections_demo}"
PORT="${PORT:-8069}"
sync_addon
mkdir -p "$BUILD_DIR/logs"

echo "== (re)creating the demo database $DB"
dropdb --if-exists "$DB"
createdb "$DB"
odoo_bin -d "$DB" --addons-path="$ADDONS_PATH" -i account_collections --without-demo=all \
    --stop-after-init --logfile="$BUILD_DIR/logs/demo-install.log" \
    || { tail -n 30 "$BUILD_DIR/logs/demo-install.log" >&2; die "installing the addon failed"; }

# The server runs while the demo data is loaded: the weekly report's PDF is rendered
# by wkhtmltopdf, which fetches the report's styles from it.
LOG="$BUILD_DIR/logs/demo-server.log"
echo "== starting Odoo on http://localhost:$PORT (log: $LOG)"
"$PYTHON" -m odoo -d "$DB" --addons-path="$ADDONS_PATH" --http-interface=127.0.0.1 \
    --http-port="$PORT" --db-filter="^$DB\$" --logfile="$LOG" &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 120); do
    curl -fs -o /dev/null "http://127.0.0.1:$PORT/web/login" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 30 "$LOG" >&2; die "Odoo did not start"; }
    sleep 1
done

echo "== loading demo customers, salespeople and invoices, running the crons once"
DEMO_BASE_URL="http://localhost:$PORT" odoo_bin shell -d "$DB" --addons-path="$ADDONS_PATH" \
    --no-http --log-level=warn < "$REPO_ROOT/tools/demo_data.py"

if [ -n "${NO_SERVER:-}" ]; then
    echo "== demo database $DB is ready"
    exit 0
fi
echo "== Odoo is running on http://localhost:$PORT (login admin / admin); Ctrl-C stops it"
tail -n 0 -f "$LOG" --pid="$SERVER_PID" &
wait "$SERVER_PID"
