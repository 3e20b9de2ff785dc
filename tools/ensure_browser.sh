#!/usr/bin/env bash
# Makes sure the tour tests (HttpCase) can drive a real browser: Odoo looks for
# 'chromium' (or google-chrome) on PATH and talks to it with 'websocket-client'.
# Installs what is missing (apt-get as root, pip for the Python module) and
# fails with a clear message when it cannot.
set -euo pipefail
PYTHON="${PYTHON:-python3}"

find_browser() {
    command -v chromium || command -v google-chrome || command -v chromium-browser \
        || command -v google-chrome-stable || true
}

if [ -z "$(find_browser)" ]; then
    echo "== installing Chromium for the tour tests (apt-get install chromium)"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
    if ! { $SUDO apt-get update -qq && \
           DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium; }; then
        echo "ERROR: Chromium is needed by the tour tests and could not be installed." >&2
        echo "       Install Debian's package 'chromium' (apt-get install chromium) and retry." >&2
        exit 2
    fi
fi
if [ -z "$(find_browser)" ]; then
    echo "ERROR: 'chromium' is still not on PATH after installing it." >&2
    exit 2
fi
if ! "$PYTHON" -c "import websocket" 2>/dev/null; then
    echo "== installing websocket-client for the tour tests (pip install websocket-client)"
    if ! "$PYTHON" -m pip install -q websocket-client; then
        echo "ERROR: the Python module 'websocket-client' is needed by the tour tests" >&2
        echo "       and could not be installed ($PYTHON -m pip install websocket-client)." >&2
        exit 2
    fi
fi
echo "== browser for the tour tests: $(find_browser) ($("$(find_browser)" --version 2>/dev/null | tail -n 1))"
