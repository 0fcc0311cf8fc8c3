"""A small reader/writer for gettext .po catalogs (the subset makemessages writes).

Used by ``scripts/i18n.sh`` (listing and filling untranslated msgids) and by the
test that every msgid of the English catalog has a translation. No dependency
beyond the standard library.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

_LINE = re.compile(r'^(?P<key>msgctxt|msgid_plural|msgid|msgstr(?:\[(?P<n>\d+)\])?)\s+(?P<val>".*")$')


@dataclass
class Entry:
    comments: list[str] = field(default_factory=list)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def fuzzy(self) -> bool:
        return any(c.startswith("#,") and "fuzzy" in c for c in self.comments)

    @property
    def obsolete(self) -> bool:
        return any(c.startswith("#~") for c in self.comments)

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values()) and not self.fuzzy


def _unquote(token: str) -> str:
    value = ast.literal_eval(token)
    assert isinstance(value, str)
    return value


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def parse(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    cur: Entry | None = None
    target: tuple[str, int] = ("msgid", 0)
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            if cur is not None:
                entries.append(cur)
                cur = None
            continue
        if cur is None:
            cur = Entry()
        if line.startswith("#"):
            cur.comments.append(line)
            continue
        m = _LINE.match(line)
        if m:
            key, value = m["key"], _unquote(m["val"])
            if key.startswith("msgstr"):
                index = int(m["n"]) if m["n"] else 0
                cur.msgstr[index] = value
                target = ("msgstr", index)
            else:
                setattr(cur, key, value)
                target = (key, 0)
        elif line.startswith('"'):
            value = _unquote(line)
            if target[0] == "msgstr":
                cur.msgstr[target[1]] += value
            else:
                setattr(cur, target[0], (getattr(cur, target[0]) or "") + value)
    if cur is not None:
        entries.append(cur)
    return entries


def write(path: Path, entries: list[Entry]) -> None:
    out: list[str] = []
    for e in entries:
        out.extend(e.comments)
        if e.msgctxt is not None:
            out.append(f"msgctxt {_quote(e.msgctxt)}")
        out.append(f"msgid {_quote(e.msgid)}")
        if e.msgid_plural is not None:
            out.append(f"msgid_plural {_quote(e.msgid_plural)}")
            for n in sorted(e.msgstr):
                out.append(f"msgstr[{n}] {_quote(e.msgstr[n])}")
        else:
            out.append(f"msgstr {_quote(e.msgstr.get(0, ''))}")
        out.append("")
    path.write_text("\n".join(out), encoding="utf-8")


def untranslated(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if not e.is_header and not e.obsolete and not e.translated]


def fill(entries: list[Entry], translations: dict[str, str | list[str]]) -> int:
    """Fill untranslated or fuzzy entries from ``{msgid: text}`` (plural entries take a list); returns how many."""
    filled = 0
    for e in untranslated(entries):
        text = translations.get(e.msgid)
        if not text:
            continue
        if e.msgid_plural is not None:
            forms = text if isinstance(text, list) else [text, text]
            e.msgstr = {i: f for i, f in enumerate(forms)}
        else:
            e.msgstr = {0: text if isinstance(text, str) else text[0]}
        e.comments = [c for c in e.comments if not (c.startswith("#,") and "fuzzy" in c)]
        filled += 1
    return filled


def clear_fuzzy(entries: list[Entry]) -> int:
    """msgmerge's fuzzy guesses are not translations: empty them so they are listed; unmark the header."""
    cleared = 0
    for e in entries:
        if not e.fuzzy:
            continue
        e.comments = [c for c in e.comments if not (c.startswith("#,") and "fuzzy" in c)]
        if not e.is_header:
            e.msgstr = {i: "" for i in e.msgstr}
            cleared += 1
    return cleared
