#!/usr/bin/env bash
# Refresh the English catalog: re-extract every Chinese msgid, clear fuzzy guesses,
# compile the .mo, and print the msgids still lacking English (as JSON to fill in).
#
#   scripts/i18n.sh                 extract + compile + list untranslated (exit 1 if any)
#   scripts/i18n.sh fill FILE.json  fill msgstrs from {"中文": "English"} then compile
#
# Needs GNU gettext (xgettext, msgmerge, msgfmt).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PO=kefu/locale/en/LC_MESSAGES/django.po
export KEFU_TESTING=1 DJANGO_SETTINGS_MODULE=config.settings

if [ "${1:-}" = "fill" ]; then
  "$PY" scripts/i18n.py fill "$2"
else
  mkdir -p kefu/locale
  "$PY" manage.py makemessages -l en --no-location --no-wrap --no-obsolete \
    --ignore=tests --ignore=bench --ignore=staticfiles --ignore=var --ignore=scripts >/dev/null
  # msgmerge guesses "fuzzy" translations for new strings; a guess is not a translation.
  "$PY" scripts/i18n.py unfuzzy
fi
"$PY" manage.py compilemessages -l en --ignore=.venv >/dev/null
"$PY" scripts/i18n.py list
