"""The default lexicon on the labelled set: sizes as promised, no legitimate reply blocked, recall kept."""

from __future__ import annotations

from kefu.norms.check import RuleData, compile_rules, run_check
from kefu.norms.defaults import RULES
from kefu.norms.tests.labelled import items, score

LEX = compile_rules(
    [
        RuleData(i, c, s, p, g, a, tuple(x for x in e.split(",") if x))
        for i, (c, s, p, g, a, e) in enumerate(RULES)
    ]
)


def test_the_set_has_at_least_300_legitimate_replies_and_100_violations_in_two_halves():
    data = items()
    assert sum(not it.violation for it in data) >= 300
    assert sum(it.violation for it in data) >= 100
    assert {it.half for it in data} == {"tune", "held_out"}


def test_no_legitimate_reply_is_flagged_and_recall_holds_on_both_halves():
    data = items()
    flagged = [(it, not run_check(it.text, LEX, channel=it.channel).clean) for it in data]
    wrongly = [it.text for it, f in flagged if f and not it.violation]
    assert wrongly == []
    for half in ("tune", "held_out"):
        s = score([(it, f) for it, f in flagged if it.half == half])
        assert s["recall"] >= 0.95, half  # the aim (held-out half: 0.982 since session 3)
