"""The labelled set for the phrase check: legitimate agent replies and violations (data/*.txt).

Lines starting with ``chat|`` are online-chat texts; the rest are work-order replies. Besides the
hand-written legitimate replies, ``COMPOSITES`` two-sentence replies are made by joining two of
them (agents write several sentences; a gap pattern must not match across the sentence end).
Each item belongs to one half by a hash of its text: ``tune`` (looked at while writing the
lexicon) and ``held_out`` (never looked at while tuning; reported separately). Examples added later, while tuning the
word-boundary rules, are in ``*_tune.txt`` and always belong to the tune half.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).with_name("data")
COMPOSITES = 110


@dataclass(frozen=True)
class Item:
    text: str
    channel: str  # "ticket" or "chat"
    violation: bool
    added_for_tuning: bool = False

    @property
    def half(self) -> str:
        if self.added_for_tuning:
            return "tune"
        return "tune" if hashlib.sha1(self.text.encode()).digest()[0] % 2 == 0 else "held_out"


def _read(name: str) -> list[tuple[str, str]]:
    out = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        channel, _, text = line.partition("|") if line.startswith("chat|") else ("ticket", "", line)
        out.append((text.strip(), channel))
    return out


def items() -> list[Item]:
    legit = _read("legit.txt")
    ticket_legit = [t for t, c in legit if c == "ticket"]
    n = len(ticket_legit)
    composites = [ticket_legit[i % n] + ticket_legit[(i * 37 + 11) % n] for i in range(COMPOSITES)]
    out = [Item(t, c, False) for t, c in legit]
    out += [Item(t, "ticket", False) for t in composites if t not in {x.text for x in out}]
    out += [Item(t, c, True) for t, c in _read("violations.txt")]
    out += [Item(t, c, False, added_for_tuning=True) for t, c in _read("legit_tune.txt")]
    out += [Item(t, c, True, added_for_tuning=True) for t, c in _read("violations_tune.txt")]
    return out


def score(flagged: list[tuple[Item, bool]]) -> dict[str, float]:
    tp = sum(1 for it, f in flagged if f and it.violation)
    fp = sum(1 for it, f in flagged if f and not it.violation)
    fn = sum(1 for it, f in flagged if not f and it.violation)
    return {
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "n_legit": sum(1 for it, _ in flagged if not it.violation),
        "n_violations": sum(1 for it, _ in flagged if it.violation),
    }
