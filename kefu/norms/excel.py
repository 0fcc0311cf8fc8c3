"""The lexicon as an Excel workbook: sheet 忌语与句式 (rules) and sheet 规范用语 (templates).

Import replaces the whole lexicon with a new version (effective when the importer says); every row
is validated first and one bad row refuses the file with each row's number and reason.
"""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone, translation

from kefu.core.errors import ValidationFailed
from kefu.norms.codes import NormsCode

from .models import Applies, Category, LexiconVersion, Severity, TemplateChannel, TemplatePurpose
from .services import RuleSpec, TemplateSpec, validate

RULE_SHEET, TEMPLATE_SHEET = "忌语与句式", "规范用语"
RULE_HEADERS = ["类别", "处理", "用语或句式", "建议规范用语", "适用渠道", "例外词"]
TEMPLATE_HEADERS = ["渠道", "用途", "规范用语"]
MAX_ROWS = 5000


def _labels(choices: Any) -> dict[str, str]:
    """Code → code and Chinese label → code (the msgids are the Chinese labels)."""
    with translation.override("zh-hans"):
        return {**{c.value: c.value for c in choices}, **{str(c.label): c.value for c in choices}}


# Both the code and the Chinese label are accepted in a cell.
_CATEGORY = _labels(Category)
_SEVERITY = {**_labels(Severity), "禁止": "block", "提醒": "warn"}
_APPLIES = {**_labels(Applies), "": "all"}
_CHANNEL = _labels(TemplateChannel)
_PURPOSE = _labels(TemplatePurpose)


def to_xlsx(version: LexiconVersion | None) -> bytes:
    # Labels in Chinese whatever the reader's language, so that the file imports back.
    with translation.override("zh-hans"):
        return _to_xlsx(version)


def _to_xlsx(version: LexiconVersion | None) -> bytes:
    from kefu.core import excel

    buf = io.BytesIO()
    wb = excel.workbook(buf)
    bold = wb.add_format({"bold": True})
    ws = wb.add_worksheet(RULE_SHEET)
    ws.write_row(0, 0, RULE_HEADERS, bold)
    ws.set_column(0, 1, 12)
    ws.set_column(2, 3, 36)
    ws.set_column(4, 5, 16)
    rows = list(version.rules.order_by("id")) if version else []
    for i, r in enumerate(rows, start=1):
        ws.write_row(
            i,
            0,
            [
                str(Category(r.category).label),
                str(Severity(r.severity).label),
                r.pattern,
                r.suggestion,
                str(Applies(r.applies_to).label),
                r.exceptions,
            ],
        )
    wt = wb.add_worksheet(TEMPLATE_SHEET)
    wt.write_row(0, 0, TEMPLATE_HEADERS, bold)
    wt.set_column(0, 1, 14)
    wt.set_column(2, 2, 80)
    for i, t in enumerate(list(version.templates.order_by("id")) if version else [], start=1):
        wt.write_row(
            i, 0, [str(TemplateChannel(t.channel).label), str(TemplatePurpose(t.purpose).label), t.text]
        )
    if version is not None:
        info = wb.add_worksheet("版本")
        local = timezone.localtime(version.effective_from)
        info.write_row(0, 0, ["版本号", "生效时间(北京时间)", "说明"], bold)
        info.write_row(1, 0, [version.number, f"{local:%Y-%m-%d %H:%M}", version.note])
    wb.close()
    return buf.getvalue()


def _bad_file(reason: str, reason_en: str) -> ValidationFailed:
    return ValidationFailed(
        f"文件无法读取：{reason}",
        f"The file cannot be read: {reason_en}",
        code=NormsCode.BAD_FILE,
        fields=[
            {
                "sheet": "",
                "row": 0,
                "field": "file",
                "message": reason,
                "message_en": reason_en,
                "reason": reason,
                "reason_en": reason_en,
            }
        ],
    )


def _cell(v: Any) -> str:
    return "" if v is None else str(v).strip()


def parse_xlsx(
    data: bytes,
) -> tuple[list[RuleSpec], list[TemplateSpec], list[int], list[int], list[dict[str, Any]]]:
    """Specs with their Excel row numbers, and the problems found while reading (unknown labels, short rows)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken file
        raise _bad_file("不是有效的 Excel(.xlsx)文件", "not a valid .xlsx file") from None
    if RULE_SHEET not in wb.sheetnames:
        raise _bad_file(f"缺少工作表「{RULE_SHEET}」", f"sheet {RULE_SHEET!r} is missing")
    problems: list[dict[str, Any]] = []
    rules: list[RuleSpec] = []
    rule_rows: list[int] = []
    for n, row in enumerate(wb[RULE_SHEET].iter_rows(min_row=2, values_only=True), start=2):
        cells = [_cell(v) for v in (list(row) + [None] * 6)[:6]]
        if not any(cells):
            continue
        if n > MAX_ROWS:
            raise _bad_file(f"行数超过 {MAX_ROWS}", f"more than {MAX_ROWS} rows")
        cat, sev, pattern, suggestion, applies, exceptions = cells
        spec = RuleSpec(
            _CATEGORY.get(cat, cat),
            _SEVERITY.get(sev, sev),
            pattern,
            suggestion,
            _APPLIES.get(applies, applies),
            exceptions,
        )
        rules.append(spec)
        rule_rows.append(n)
    templates: list[TemplateSpec] = []
    template_rows: list[int] = []
    if TEMPLATE_SHEET in wb.sheetnames:
        for n, row in enumerate(wb[TEMPLATE_SHEET].iter_rows(min_row=2, values_only=True), start=2):
            cells = [_cell(v) for v in (list(row) + [None] * 3)[:3]]
            if not any(cells):
                continue
            ch, pu, text = cells
            templates.append(TemplateSpec(_CHANNEL.get(ch, ch), _PURPOSE.get(pu, pu), text))
            template_rows.append(n)
    problems += validate(rules, templates, rule_rows=rule_rows, template_rows=template_rows)
    for d in problems:
        d["sheet"] = (
            RULE_SHEET
            if d["sheet"] == "rules"
            else TEMPLATE_SHEET
            if d["sheet"] == "templates"
            else d["sheet"]
        )
    return rules, templates, rule_rows, template_rows, problems
