"""Validation of lexicon entries (shared by the page, the admin and the Excel import)."""

from __future__ import annotations

from dataclasses import dataclass

from .models import (
    PATTERN_MAX,
    SUGGESTION_MAX,
    TEMPLATE_MAX,
    Applies,
    Category,
    Severity,
    TemplateChannel,
    TemplatePurpose,
)
from .normalize import GAP, compact_pattern, split_gaps


@dataclass(frozen=True)
class Problem:
    field: str
    reason: str  # Chinese
    reason_en: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason, "reason_en": self.reason_en}


def rule_problems(
    *,
    category: str,
    severity: str,
    pattern: str,
    suggestion: str,
    applies_to: str = "all",
    exceptions: str = "",
) -> list[Problem]:
    out: list[Problem] = []
    if category not in Category.values:
        out.append(Problem("category", f"类别「{category}」无效", f"unknown category {category!r}"))
    if severity not in Severity.values:
        out.append(
            Problem(
                "severity", f"处理方式「{severity}」无效(block 或 warn)", f"unknown severity {severity!r}"
            )
        )
    if applies_to not in Applies.values:
        out.append(
            Problem("applies_to", f"适用渠道「{applies_to}」无效", f"unknown channel scope {applies_to!r}")
        )
    p = (pattern or "").strip()
    if not p:
        out.append(Problem("pattern", "用语不能为空", "the pattern is empty"))
    elif len(p) > PATTERN_MAX:
        out.append(
            Problem("pattern", f"用语过长(最多 {PATTERN_MAX} 字)", f"pattern too long (max {PATTERN_MAX})")
        )
    else:
        pieces = [compact_pattern(x) for x in split_gaps(p)]
        letters = "".join(pieces)
        if not letters:
            out.append(
                Problem("pattern", "用语只有标点或符号，会匹配任何文字", "the pattern is only punctuation")
            )
        elif len(letters) < 2 or (letters.isascii() and len(letters) < 3):
            out.append(
                Problem(
                    "pattern",
                    "用语太短(至少两个汉字)，会误拦正常答复",
                    "the pattern is too short (at least two Chinese characters)",
                )
            )
        elif any(not x for x in pieces[1:-1]) or p.strip(GAP + ".*").strip() != p.strip():
            out.append(
                Problem(
                    "pattern",
                    "句式不能以省略号开头或结尾，也不能连续两个省略号",
                    "a gap may not start or end the pattern, nor follow another gap",
                )
            )
    s = (suggestion or "").strip()
    if not s:
        out.append(Problem("suggestion", "建议规范用语不能为空", "the suggested wording is empty"))
    elif len(s) > SUGGESTION_MAX:
        out.append(
            Problem(
                "suggestion",
                f"建议用语过长(最多 {SUGGESTION_MAX} 字)",
                f"suggestion too long (max {SUGGESTION_MAX})",
            )
        )
    if len(exceptions or "") > 200:
        out.append(Problem("exceptions", "例外词过长(最多 200 字)", "exceptions too long (max 200)"))
    return out


def template_problems(*, channel: str, purpose: str, text: str) -> list[Problem]:
    out: list[Problem] = []
    if channel not in TemplateChannel.values:
        out.append(Problem("channel", f"渠道「{channel}」无效", f"unknown channel {channel!r}"))
    if purpose not in TemplatePurpose.values:
        out.append(Problem("purpose", f"用途「{purpose}」无效", f"unknown purpose {purpose!r}"))
    t = (text or "").strip()
    if not t:
        out.append(Problem("text", "规范用语不能为空", "the template is empty"))
    elif len(t) > TEMPLATE_MAX:
        out.append(
            Problem(
                "text", f"规范用语过长(最多 {TEMPLATE_MAX} 字)", f"template too long (max {TEMPLATE_MAX})"
            )
        )
    else:
        try:
            t.format(number="X", subject="Y")
        except (KeyError, IndexError, ValueError):
            out.append(
                Problem(
                    "text",
                    "模板只能使用 {number} 与 {subject} 两个占位符",
                    "only {number} and {subject} may be used as placeholders",
                )
            )
    return out
