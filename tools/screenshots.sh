#!/usr/bin/env bash
# Regenerates the README's screenshots (docs/images/*.png) from the demo database,
# in headless Chromium: builds the demo database (tools/run_demo.sh, NO_SERVER=1)
# unless REUSE_DEMO=1, starts Odoo on a free local port, takes the screenshots
# (tools/screenshots.py) and stops the server.
#   DEMO_DB     demo database (default account_collections_demo)
#   REUSE_DEMO  1: use the existing demo database as it is
source "$(dirname "$0")/odoo_env.sh"

DB="${DEMO_DB:-account_collections_demo}"
OUT="$REPO_ROOT/docs/images"
"$REPO_ROOT/tools/ensure_browser.sh"

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
if [ -z "${REUSE_DEMO:-}" ]; then
    DEMO_DB="$DB" NO_SERVER=1 PORT="$(free_port)" "$REPO_ROOT/tools/run_demo.sh"
else
    sync_addon
fi
PORT="$(free_port)"
LOG="$BUILD_DIR/logs/screenshots-server.log"
mkdir -p "$BUILD_DIR/logs"

echo "== starting Odoo on port $PORT (log: $LOG)"
"$PYTHON" -m odoo -d "$DB" --addons-path="$ADDONS_PATH" --http-interface=127.0.0.1 \
    --http-port="$PORT" --db-filter="^$DB\$" --max-cron-threads=0 --workers=0 \
    --logfile="$LOG" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null' EXIT
for _ in $(seq 1 120); do
    curl -fs -o /dev/null "http://127.0.0.1:$PORT/web/login" && break
    kill -0 "$SERVER" 2>/dev/null || die "the Odoo server stopped (see $LOG)"
    sleep 1
done

"$PYTHON" "$REPO_ROOT/tools/screenshots.py" --url "http://127.0.0.1:$PORT" --db "$DB" \
    --out "$OUT"
echo "== screenshots written to $OUT"
