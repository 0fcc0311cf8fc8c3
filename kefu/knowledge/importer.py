"""Bulk import of existing documents from Excel (.xlsx) or JSON Lines (.jsonl).

Columns / keys (Chinese or English): 标题 title, 问题 question, 坐席答案 answer_agent,
客户答案 answer_customer, 分类 category_code, 关键词 keywords, 产品版本 release,
版本上线日期 release_date, 紧急 urgent, 紧急原因 urgent_reason.

Every row is validated first; one bad row refuses the whole file with the row
numbers (nothing written). Mode ``draft`` creates drafts that enter the
workflow (kb.import); mode ``published`` is the administrator's first load of
already-approved documents.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils.dateparse import parse_date

from kefu.core import audit
from kefu.core.errors import Forbidden, ValidationFailed
from kefu.org.access import Actor

from . import services
from .services import Content

HEADERS = {
    "标题": "title", "title": "title",
    "问题": "question", "question": "question",
    "坐席答案": "answer_agent", "客服答案": "answer_agent", "answer_agent": "answer_agent",
    "客户答案": "answer_customer", "answer_customer": "answer_customer",
    "分类": "category_code", "分类代码": "category_code", "category_code": "category_code", "category": "category_code",
    "关键词": "keywords", "keywords": "keywords",
    "产品版本": "release", "版本": "release", "release": "release",
    "版本上线日期": "release_date", "上线日期": "release_date", "release_date": "release_date",
    "紧急": "urgent", "urgent": "urgent",
    "紧急原因": "urgent_reason", "urgent_reason": "urgent_reason",
}
MAX_ROWS = 100_000
TRUE = {"1", "true", "yes", "y", "是", "紧急", "on"}


@dataclass
class ImportResult:
    created: int
    mode: str
    article_ids: list[int]


def _rows_xlsx(data: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ValidationFailed("无法读取 Excel 文件。", "The Excel file cannot be read.", code="bad_file") from exc
    ws = wb.worksheets[0]
    header: list[str | None] = []
    for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if n == 1:
            header = [HEADERS.get(str(v).strip()) if v is not None else None for v in values]
            continue
        if all(v in (None, "") for v in values):
            continue
        yield n, {k: v for k, v in zip(header, values, strict=False) if k}


def _rows_jsonl(data: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed("文件不是 UTF-8 编码。", "The file is not UTF-8.", code="bad_file") from exc
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            yield n, {"__error__": "JSON 格式错误 / invalid JSON"}
            continue
        if not isinstance(obj, dict):
            yield n, {"__error__": "每行须为一个对象 / each line must be an object"}
            continue
        yield n, {HEADERS[k]: v for k, v in obj.items() if k in HEADERS}


def _text(v: Any) -> str:
    if v is None:
        return ""
    return str(v)


def _date(v: Any) -> date | None:
    if v in (None, ""):
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    parsed = parse_date(str(v).strip())
    if parsed is None:
        raise ValueError(str(v))
    return parsed


def parse(name: str, data: bytes) -> list[Content]:
    """Rows as validated contents; raises ValidationFailed listing every bad row."""
    lowered = name.lower()
    if lowered.endswith(".xlsx"):
        rows = _rows_xlsx(data)
    elif lowered.endswith((".jsonl", ".json", ".ndjson")):
        rows = _rows_jsonl(data)
    else:
        raise ValidationFailed("只支持 .xlsx 与 .jsonl 文件。", "Only .xlsx and .jsonl files are supported.",
                               code="bad_file")
    contents: list[Content] = []
    errors: list[dict[str, Any]] = []
    for n, row in rows:
        if len(contents) >= MAX_ROWS:
            raise ValidationFailed(f"一次最多导入 {MAX_ROWS} 条。", f"At most {MAX_ROWS} rows per file.")
        if "__error__" in row:
            errors.append({"row": n, "message": row["__error__"]})
            continue
        try:
            content = Content(
                title=_text(row.get("title")), question=_text(row.get("question")),
                answer_agent=_text(row.get("answer_agent")), answer_customer=_text(row.get("answer_customer")),
                category_code=_text(row.get("category_code")), keywords=_text(row.get("keywords")),
                release=_text(row.get("release")), release_date=_date(row.get("release_date")),
                urgent=_text(row.get("urgent")).strip().lower() in TRUE, urgent_reason=_text(row.get("urgent_reason")),
            ).cleaned()
        except ValueError as exc:
            errors.append({"row": n, "field": "release_date", "message": f"日期无效 / invalid date: {exc}"})
            continue
        except ValidationFailed as exc:
            errors.append({"row": n, "fields": exc.details})
            continue
        contents.append(content)
    if errors:
        raise ValidationFailed(f"有 {len(errors)} 行数据有误，未导入任何内容。",
                               f"{len(errors)} row(s) are invalid; nothing was imported.",
                               code="import_invalid", details=errors[:50])
    if not contents:
        raise ValidationFailed("文件中没有数据行。", "The file has no data rows.", code="import_empty")
    return contents


def import_contents(*, actor: Actor, contents: list[Content], mode: str,
                    progress: Callable[[int, int], None] | None = None) -> ImportResult:
    if mode not in ("draft", "published"):
        raise ValidationFailed("导入方式无效(draft 或 published)。", "Invalid mode (draft or published).")
    actor.require("kb.import")
    if mode == "published" and not actor.is_admin:
        raise Forbidden("只有系统管理员可以直接导入为已发布。", "Only an administrator may import as published.",
                        code="permission_denied")
    ids: list[int] = []
    with transaction.atomic():
        for i, content in enumerate(contents, start=1):
            if mode == "draft":
                rev = services.article_import_draft(actor=actor, content=content)
            else:
                rev = services.article_publish_imported(actor=actor, content=content)
            ids.append(rev.article_id)
            if progress:
                progress(i, len(contents))
        first = rev.article
        audit.record(actor=actor.user, verb="kb.imported", target=first,
                     data={"mode": mode, "count": len(ids), "first": ids[0], "last": ids[-1]},
                     unit_code=actor.unit_code)
    return ImportResult(created=len(ids), mode=mode, article_ids=ids)


def import_upload(*, actor: Actor, name: str, data: bytes, mode: str,
                  progress: Callable[[int, int], None] | None = None) -> ImportResult:
    actor.require("kb.import")
    return import_contents(actor=actor, contents=parse(name, data), mode=mode, progress=progress)
