#!/usr/bin/env bash
# Regenerates i18n/account_collections.pot from the code (Odoo's own exporter, on a
# fresh database with the addon installed) and merges the new terms into the .po files
# (new terms come untranslated: translate them, `make test` fails until the .pot is
# current and es.po complete).
#   POT_DB  database to use (default account_collections_pot; dropped and recreated)
source "$(dirname "$0")/odoo_env.sh"

DB="${POT_DB:-account_collections_pot}"
POT="$REPO_ROOT/i18n/account_collections.pot"
sync_addon
mkdir -p "$BUILD_DIR/logs" "$REPO_ROOT/i18n"

echo "== installing account_collections on $DB"
dropdb --if-exists "$DB"
createdb ${TEMPLATE_DB:+-T "$TEMPLATE_DB"} "$DB"
odoo_bin -d "$DB" --addons-path="$ADDONS_PATH" -i account_collections --without-demo=all \
    --stop-after-init --logfile="$BUILD_DIR/logs/pot-install.log" \
    || { tail -n 30 "$BUILD_DIR/logs/pot-install.log" >&2; die "installing the addon failed"; }

echo "== exporting $POT"
odoo_bin -d "$DB" --addons-path="$ADDONS_PATH" --modules=account_collections \
    --i18n-export="$POT" --logfile="$BUILD_DIR/logs/pot-export.log" \
    || { tail -n 30 "$BUILD_DIR/logs/pot-export.log" >&2; die "exporting the terms failed"; }
dropdb --if-exists "$DB"

if command -v msgmerge >/dev/null; then
    for po in "$REPO_ROOT"/i18n/*.po; do
        [ -e "$po" ] || continue
        echo "== merging the new terms into $(basename "$po")"
        msgmerge --quiet --update --no-fuzzy-matching --backup=none "$po" "$POT"
    done
    untranslated="$(for po in "$REPO_ROOT"/i18n/*.po; do
        [ -e "$po" ] && { msgattrib --untranslated --no-obsolete "$po" | grep -c '^msgid ' || true; }; done \
        | awk '{s += ($1 > 1 ? $1 - 1 : 0)} END {print s + 0}')"
    echo "== untranslated terms left: $untranslated"
else
    echo "msgmerge (gettext) is not installed: merge the new terms into the .po files yourself"
fi
