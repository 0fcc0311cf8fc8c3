#!/usr/bin/env python3
"""English catalog helper for scripts/i18n.sh.

scripts/i18n.py list                 print untranslated msgids (JSON, ready to fill in)
scripts/i18n.py fill FILE.json       fill msgstrs from {"msgid": "English", ...} (plurals: ["one", "other"])
scripts/i18n.py unfuzzy              turn msgmerge's fuzzy guesses into untranslated entries
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kefu.core import pofile  # noqa: E402

PO = ROOT / "kefu" / "locale" / "en" / "LC_MESSAGES" / "django.po"


def main(argv: list[str]) -> int:
    entries = pofile.parse(PO)
    if argv[:1] == ["list"]:
        missing = pofile.untranslated(entries)
        print(
            json.dumps(
                {e.msgid: ([e.msgid_plural, e.msgid_plural] if e.msgid_plural else "") for e in missing},
                ensure_ascii=False,
                indent=1,
            )
        )
        print(f"{len(missing)} untranslated msgid(s) in {PO.relative_to(ROOT)}", file=sys.stderr)
        return 1 if missing else 0
    if argv[:1] == ["unfuzzy"]:
        n = pofile.clear_fuzzy(entries)
        pofile.write(PO, entries)
        print(f"{n} fuzzy guess(es) cleared", file=sys.stderr)
        return 0
    if argv[:1] == ["fill"] and len(argv) == 2:
        translations = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
        n = pofile.fill(entries, translations)
        pofile.write(PO, entries)
        print(f"filled {n}; {len(pofile.untranslated(entries))} still untranslated", file=sys.stderr)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
