"""The only writers of the lexicon and of screening records; and the one enforcement call for senders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from kefu.core import audit
from kefu.core.errors import Conflict, ValidationFailed
from kefu.norms.codes import NormsCode
from kefu.org.access import Actor

from . import lexicon
from .check import Channel, CheckResult, check_text
from .models import LexiconVersion, PhraseRule, PhraseTemplate, Screening, TemplatePurpose
from .validation import Problem, rule_problems, template_problems


@dataclass(frozen=True)
class RuleSpec:
    category: str
    severity: str
    pattern: str
    suggestion: str
    applies_to: str = "all"
    exceptions: str = ""

    def problems(self) -> list[Problem]:
        return rule_problems(
            category=self.category,
            severity=self.severity,
            pattern=self.pattern,
            suggestion=self.suggestion,
            applies_to=self.applies_to,
            exceptions=self.exceptions,
        )


@dataclass(frozen=True)
class TemplateSpec:
    channel: str
    purpose: str
    text: str

    def problems(self) -> list[Problem]:
        return template_problems(channel=self.channel, purpose=self.purpose, text=self.text)


def _row_problems(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of a lexicon as ``details.fields``: the reason is the field's message."""
    return [{"message": p.get("reason", ""), "message_en": p.get("reason_en", ""), **p} for p in problems]


def _invalid(details: list[dict[str, Any]]) -> ValidationFailed:
    return ValidationFailed(
        "词库有误，未做任何修改。",
        "The lexicon has errors; nothing was changed.",
        code=NormsCode.LEXICON_INVALID,
        fields=_row_problems(details),
    )


def validate(
    rules: Sequence[RuleSpec],
    templates: Sequence[TemplateSpec],
    *,
    rule_rows: Sequence[int] | None = None,
    template_rows: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Every problem, with the row it is on (1-based, or the Excel row when given)."""
    details: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, r in enumerate(rules):
        row = rule_rows[i] if rule_rows else i + 1
        for p in r.problems():
            details.append({"sheet": "rules", "row": row, **p.as_dict()})
        key = r.pattern.strip()
        if key in seen:
            details.append(
                {
                    "sheet": "rules",
                    "row": row,
                    "field": "pattern",
                    "reason": f"与第 {seen[key]} 行重复",
                    "reason_en": f"duplicate of row {seen[key]}",
                }
            )
        seen.setdefault(key, row)
    for i, t in enumerate(templates):
        row = template_rows[i] if template_rows else i + 1
        for p in t.problems():
            details.append({"sheet": "templates", "row": row, **p.as_dict()})
    return details


def lexicon_publish(
    *,
    actor: Actor | None,
    rules: Sequence[RuleSpec],
    templates: Sequence[TemplateSpec],
    effective_from: datetime | None = None,
    note: str = "",
    now: datetime | None = None,
    base_version: int | None = None,
) -> LexiconVersion:
    """Publish a complete new version; all or nothing. ``base_version``: the number the edit started from;
    another version published since is a 409 (checked under the publishers' lock)."""
    now = now or timezone.now()
    effective_from = effective_from or now
    if actor is not None:
        actor.require("norms.manage")
    details = validate(rules, templates)
    if not rules:
        details.append(
            {
                "sheet": "rules",
                "row": 0,
                "field": "pattern",
                "reason": "词库不能为空",
                "reason_en": "the lexicon has no rules",
            }
        )
    if details:
        raise _invalid(details)
    user = actor.user if actor is not None else None
    with transaction.atomic():
        LexiconVersion.objects.select_for_update().filter(number__gte=0).exists()  # serialise publishers
        latest = LexiconVersion.objects.aggregate(n=Max("number"))["n"] or 0
        if base_version is not None and base_version != latest:
            raise Conflict(
                f"词库已有更新的版本 v{latest}，请在其基础上修改。",
                f"A newer lexicon version (v{latest}) was published; edit that one.",
                code=NormsCode.STALE_VERSION,
                details={"current_version": latest},
            )
        number = latest + 1
        version = LexiconVersion.objects.create(
            number=number, effective_from=effective_from, created_at=now, created_by=user, note=note[:200]
        )
        PhraseRule.objects.bulk_create(
            [
                PhraseRule(
                    version=version,
                    category=r.category,
                    severity=r.severity,
                    pattern=r.pattern.strip(),
                    suggestion=r.suggestion.strip(),
                    applies_to=r.applies_to,
                    exceptions=r.exceptions.strip(),
                )
                for r in rules
            ]
        )
        PhraseTemplate.objects.bulk_create(
            [
                PhraseTemplate(version=version, channel=t.channel, purpose=t.purpose, text=t.text.strip())
                for t in templates
            ]
        )
        audit.record(
            actor=user,
            verb="norms.lexicon_published",
            target=version,
            data={
                "number": number,
                "rules": len(rules),
                "templates": len(templates),
                "effective_from": effective_from.isoformat(),
                "note": note[:200],
            },
        )
        transaction.on_commit(lexicon.clear_cache)
    return version


def specs_of(version: LexiconVersion | None) -> tuple[list[RuleSpec], list[TemplateSpec]]:
    if version is None:
        return [], []
    rules = [
        RuleSpec(r.category, r.severity, r.pattern, r.suggestion, r.applies_to, r.exceptions)
        for r in version.rules.order_by("id")
    ]
    templates = [TemplateSpec(t.channel, t.purpose, t.text) for t in version.templates.order_by("id")]
    return rules, templates


def rule_add(
    *, actor: Actor, spec: RuleSpec, effective_from: datetime | None = None, note: str = ""
) -> LexiconVersion:
    """A new version: the one in force plus ``spec``."""
    rules, templates = specs_of(lexicon.version_in_force())
    return lexicon_publish(
        actor=actor,
        rules=[*rules, spec],
        templates=templates,
        effective_from=effective_from,
        note=note or f"+ {spec.pattern}",
    )


def rule_remove(*, actor: Actor, pattern: str, effective_from: datetime | None = None) -> LexiconVersion:
    rules, templates = specs_of(lexicon.version_in_force())
    kept = [r for r in rules if r.pattern != pattern]
    if len(kept) == len(rules):
        raise ValidationFailed(
            "词库中没有这个用语。", "No such pattern in the lexicon.", code=NormsCode.NOT_IN_LEXICON
        )
    return lexicon_publish(
        actor=actor, rules=kept, templates=templates, effective_from=effective_from, note=f"- {pattern}"
    )


# -- senders -------------------------------------------------------------------


def _details(result: CheckResult, severity: str) -> list[dict[str, Any]]:
    return [h.as_dict() for h in result.of(severity)]


def text_screen(
    *,
    actor: Actor,
    text: str,
    channel: str,
    contact_kind: str,
    contact_id: str | int,
    province_code: str = "",
    confirmed: bool = False,
    now: datetime | None = None,
) -> CheckResult:
    """The call every sender makes before writing a text that goes to a customer.

    Block: raises 422 ``norms_blocked`` naming each phrase and its suggestion; the attempt is recorded
    (call this before opening your own transaction so the record survives the refusal).
    Warn without ``confirmed``: raises 422 ``norms_confirm_required`` and records nothing.
    Warn confirmed: returns the result; the caller puts ``result_codes(result)`` on its event; recorded here.
    """
    if channel not in Channel.ALL:
        raise ValueError(f"unknown channel {channel!r}")
    result = check_text(text, channel=channel)
    if result.clean:
        return result
    if result.blocked:
        _record(actor, result, channel, contact_kind, contact_id, province_code, now)
        first = result.of("block")[0]
        raise ValidationFailed(
            f"答复中含有服务忌语「{first.phrase}」，不能发送。建议用语：{first.suggestion}",
            f"The reply contains the banned phrase “{first.phrase}” and was not sent. Suggested: {first.suggestion}",
            code=NormsCode.NORMS_BLOCKED,
            details={"hits": _details(result, "block") + _details(result, "warn")},
        )
    if not confirmed:
        first = result.of("warn")[0]
        raise ValidationFailed(
            f"答复中有不规范用语「{first.phrase}」，建议：{first.suggestion}。确认仍要发送请再次提交并勾选确认。",
            f"The reply contains a discouraged phrase “{first.phrase}” (suggested: {first.suggestion}). "
            "Confirm to send it anyway.",
            code=NormsCode.NORMS_CONFIRM_REQUIRED,
            details={"hits": _details(result, "warn")},
        )
    _record(actor, result, channel, contact_kind, contact_id, province_code, now)
    return result


def result_codes(result: CheckResult) -> list[dict[str, str]]:
    """What a sender stores on its own event: category, severity, phrase."""
    return [{"category": h.category, "severity": h.severity, "phrase": h.phrase} for h in result.hits]


def _record(
    actor: Actor,
    result: CheckResult,
    channel: str,
    contact_kind: str,
    contact_id: str | int,
    province_code: str,
    now: datetime | None,
) -> None:
    with transaction.atomic():
        version = LexiconVersion.objects.filter(number=result.version).first() if result.version else None
        Screening.objects.create(
            at=now or timezone.now(),
            agent=actor.user if actor.user is not None and actor.user.pk else None,
            channel=channel,
            contact_kind=contact_kind,
            contact_id=str(contact_id),
            province_code=province_code,
            outcome=result.outcome,
            version=version,
            hits=[h.as_dict() for h in result.hits],
        )


def template_text(*, purpose: str, channel: str = "all", number: str = "", subject: str = "") -> str:
    """The first standard phrase for ``purpose`` on ``channel`` (falling back to 'all'), placeholders filled."""
    if purpose not in TemplatePurpose.values:
        raise ValueError(f"unknown purpose {purpose!r}")
    version = lexicon.version_in_force()
    if version is None:
        return ""
    rows = list(version.templates.filter(purpose=purpose, channel__in=[channel, "all"]).order_by("id"))
    rows.sort(key=lambda t: t.channel != channel)
    if not rows:
        return ""
    return rows[0].text.replace("{number}", number).replace("{subject}", subject)


def lexicon_import(
    *, actor: Actor, data: bytes, effective_from: datetime | None = None, note: str = ""
) -> LexiconVersion:
    """Replace the lexicon from an Excel workbook (see ``kefu.norms.excel``): all rows or none."""
    from .excel import parse_xlsx

    actor.require("norms.manage")
    rules, templates, _rr, _tr, problems = parse_xlsx(data)
    if not rules and not problems:
        problems.append(
            {
                "sheet": "忌语与句式",
                "row": 0,
                "field": "pattern",
                "reason": "没有任何用语",
                "reason_en": "the file has no rules",
            }
        )
    if problems:
        raise ValidationFailed(
            f"导入文件有 {len(problems)} 处错误，未导入任何内容。",
            f"The file has {len(problems)} error(s); nothing was imported.",
            code=NormsCode.LEXICON_INVALID,
            fields=_row_problems(problems),
        )
    if not templates:  # a file without the template sheet keeps the templates in force
        templates = specs_of(lexicon.version_in_force())[1]
    return lexicon_publish(
        actor=actor,
        rules=rules,
        templates=templates,
        effective_from=effective_from,
        note=note or "Excel 导入",
    )
