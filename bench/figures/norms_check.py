"""Service-norms phrase check: p95 of one check on a 500-character reply with the full default lexicon,
and precision/recall on the labelled set (``kefu/norms/tests/data``), each half reported apart.

The lexicon is the one migration 0002 loads (``kefu.norms.defaults``), compiled once as in a running
process; timed is ``kefu.norms.check.run_check`` (normalisation, every rule, jieba on candidate hits)
on 500-character replies: clean ones (the common case) and ones with a banned phrase disguised inside.
A "flag" is block or warn; precision = flagged violations / all flagged, recall = flagged violations /
all violations. ``tune`` is the half looked at while writing the lexicon, ``held_out`` the other.
Direct use: ``.venv/bin/python bench/figures/norms_check.py [--quick]``.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

NAME = "norms_check"
DESCRIPTION = "Phrase check p95 on a 500-char reply (full lexicon); precision/recall on the labelled set"
ROOT = Path(__file__).resolve().parents[2]


def _setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _p95(samples: list[float]) -> float:
    samples = sorted(samples)
    return samples[int(0.95 * (len(samples) - 1))]


def run(quick: bool) -> list[tuple[str, float, str]]:
    _setup()
    from kefu.norms.check import RuleData, compile_rules, run_check
    from kefu.norms.defaults import RULES
    from kefu.norms.tests.labelled import items, score

    t0 = time.perf_counter()
    lexicon = compile_rules(
        [
            RuleData(i, c, s, p, g, a, tuple(x for x in e.split(",") if x))
            for i, (c, s, p, g, a, e) in enumerate(RULES)
        ],
        version=1,
    )
    compile_ms = (time.perf_counter() - t0) * 1000
    data = items()
    rng = random.Random(10)
    legit = [it.text for it in data if not it.violation]

    def reply(disguised: bool) -> str:
        text = ""
        while len(text) < 500:
            text += rng.choice(legit)
        text = text[:500]
        if disguised:
            at = rng.randrange(0, 480)
            text = text[:at] + "别 再*來 问 了！" + text[at + 9 :]
        return text[:500]

    run_check(reply(True), lexicon, channel="chat")  # jieba's dictionary loads once per process
    n = 200 if quick else 2000
    out: list[tuple[str, float, str]] = [("norms_compile_lexicon", round(compile_ms, 2), "ms")]
    for label, disguised in (("clean", False), ("with_banned", True)):
        texts = [reply(disguised) for _ in range(50)]
        samples, cpu = [], []
        for i in range(n):
            text = texts[i % len(texts)]
            c, t = time.thread_time(), time.perf_counter()
            run_check(text, lexicon, channel="chat")
            samples.append((time.perf_counter() - t) * 1000)
            cpu.append((time.thread_time() - c) * 1000)
        out.append((f"norms_check_500chars_{label}_p50", round(statistics.median(samples), 3), "ms"))
        out.append((f"norms_check_500chars_{label}_p95", round(_p95(samples), 3), "ms"))
        # CPU time of the check's thread: what the wall figure is when no other process takes the core
        out.append((f"norms_check_500chars_{label}_cpu_p95", round(_p95(cpu), 3), "ms"))
    for half in ("tune", "held_out", "all"):
        chosen = [it for it in data if half == "all" or it.half == half]
        s = score([(it, not run_check(it.text, lexicon, channel=it.channel).clean) for it in chosen])
        out.append((f"norms_{half}_precision", round(s["precision"], 4), f"of {s['n_legit']} legit"))
        out.append((f"norms_{half}_recall", round(s["recall"], 4), f"of {s['n_violations']} violations"))
    blocked_legit = sum(
        1 for it in data if not it.violation and run_check(it.text, lexicon, channel=it.channel).blocked
    )
    out.append(("norms_legit_blocked", blocked_legit, "replies"))
    return out


if __name__ == "__main__":
    for name, value, unit in run("--quick" in sys.argv):
        print(name, value, unit)
