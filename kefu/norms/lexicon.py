"""The lexicon in force, compiled once per process and version."""

from __future__ import annotations

import threading
from datetime import datetime

from django.utils import timezone

from .check import Compiled, RuleData, compile_rules
from .models import LexiconVersion, PhraseRule

_lock = threading.Lock()
_cache: dict[str, Compiled] = {}


def version_in_force(now: datetime | None = None) -> LexiconVersion | None:
    now = now or timezone.now()
    return (
        LexiconVersion.objects.filter(effective_from__lte=now).order_by("-effective_from", "-number").first()
    )


def rule_data(rule: PhraseRule) -> RuleData:
    exceptions = tuple(w.strip() for w in rule.exceptions.replace("，", ",").split(",") if w.strip())
    return RuleData(
        rule.pk, rule.category, rule.severity, rule.pattern, rule.suggestion, rule.applies_to, exceptions
    )


def compiled(now: datetime | None = None) -> Compiled:
    """One small query for the version in force; compilation only when it changed."""
    version = version_in_force(now)
    if version is None:
        return compile_rules([], version=None)
    key = str(version.token)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    with _lock:
        result = compile_rules((rule_data(r) for r in version.rules.all()), version=version.number, token=key)
        _cache.clear()  # only the version in force is kept
        _cache[key] = result
    return result


def clear_cache() -> None:
    with _lock:
        _cache.clear()
