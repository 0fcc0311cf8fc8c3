"""Bulk import of existing documents from Excel (.xlsx) or JSON Lines (.jsonl).

Columns / keys (Chinese or English): 标题 title, 问题 question, 坐席答案 answer_agent,
客户答案 answer_customer, 分类 category_code, 关键词 keywords, 产品版本 release,
版本上线日期 release_date, 紧急 urgent, 紧急原因 urgent_reason.

Also: 外部编号 external_id (the source system's id, kept on the article; a row whose id was imported
before is skipped and reported, so a file can be re-run). 分类 accepts the code (cf_usage_login) or the
path as shown in the app (投诉/故障 / 使用 / 无法正常登录, or its last level when unique); 关键词 a string
or, in JSON Lines, a list.

Every row is validated first; one bad row refuses the whole file with the row
numbers and the offending values (nothing written). Mode ``draft`` creates drafts that enter the
workflow (kb.import); mode ``published`` is the administrator's first load of
already-approved documents (a role administrator, or a Django superuser from ``createsuperuser`` on a
fresh install).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils.dateparse import parse_date

from kefu.core import audit
from kefu.core.errors import Forbidden, ValidationFailed
from kefu.knowledge.codes import KnowledgeCode
from kefu.org.access import Actor

from . import services
from .services import Content

HEADERS = {
    "标题": "title",
    "title": "title",
    "问题": "question",
    "question": "question",
    "坐席答案": "answer_agent",
    "客服答案": "answer_agent",
    "answer_agent": "answer_agent",
    "客户答案": "answer_customer",
    "answer_customer": "answer_customer",
    "分类": "category_code",
    "分类代码": "category_code",
    "category_code": "category_code",
    "category": "category_code",
    "关键词": "keywords",
    "keywords": "keywords",
    "产品版本": "release",
    "版本": "release",
    "release": "release",
    "版本上线日期": "release_date",
    "上线日期": "release_date",
    "release_date": "release_date",
    "紧急": "urgent",
    "urgent": "urgent",
    "紧急原因": "urgent_reason",
    "urgent_reason": "urgent_reason",
    "外部编号": "external_id",
    "原编号": "external_id",
    "external_id": "external_id",
}
MAX_ROWS = 100_000
TRUE = {"1", "true", "yes", "y", "是", "紧急", "on"}


@dataclass
class ImportResult:
    created: int
    mode: str
    article_ids: list[int]
    skipped: list[str] = field(default_factory=list)  # external ids imported before


@dataclass
class Row:
    number: int
    content: Content
    external_id: str = ""


def _rows_xlsx(data: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ValidationFailed(
            "无法读取 Excel 文件。", "The Excel file cannot be read.", code=KnowledgeCode.BAD_FILE
        ) from exc
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
        raise ValidationFailed(
            "文件不是 UTF-8 编码。", "The file is not UTF-8.", code=KnowledgeCode.BAD_FILE
        ) from exc
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


def _keywords(v: Any) -> str:
    if isinstance(v, list | tuple):
        return " ".join(str(x).strip() for x in v if x is not None and str(x).strip())
    return _text(v)


def _category_map() -> tuple[dict[str, str], set[str]]:
    """Every accepted spelling of a category -> its code: the code, the full path, the last level if unique."""
    from .registry import category_choices

    out: dict[str, str] = {}
    leaf_count: dict[str, int] = {}
    choices = category_choices()
    for code, label in choices:
        out[code] = code
        out[label] = code
        out[label.replace(" / ", "/")] = code
        leaf = label.split(" / ")[-1]
        leaf_count[leaf] = leaf_count.get(leaf, 0) + 1
    for code, label in choices:
        leaf = label.split(" / ")[-1]
        if leaf_count[leaf] == 1:
            out.setdefault(leaf, code)
    return out, {c for c, _ in choices}


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
    return [r.content for r in parse_rows(name, data)]


def parse_rows(name: str, data: bytes) -> list[Row]:
    """Rows as validated contents with their external ids; raises ValidationFailed listing every bad row."""
    lowered = name.lower()
    if lowered.endswith(".xlsx"):
        rows = _rows_xlsx(data)
    elif lowered.endswith((".jsonl", ".json", ".ndjson")):
        rows = _rows_jsonl(data)
    else:
        raise ValidationFailed(
            "只支持 .xlsx 与 .jsonl 文件。",
            "Only .xlsx and .jsonl files are supported.",
            code=KnowledgeCode.BAD_FILE,
        )
    categories, _codes = _category_map()
    out: list[Row] = []
    errors: list[dict[str, Any]] = []
    seen_ids: dict[str, int] = {}
    for n, row in rows:
        if len(out) >= MAX_ROWS:
            raise ValidationFailed(f"一次最多导入 {MAX_ROWS} 条。", f"At most {MAX_ROWS} rows per file.")
        if "__error__" in row:
            errors.append({"row": n, "message": row["__error__"]})
            continue
        raw_category = _text(row.get("category_code")).strip()
        category = categories.get(raw_category) or categories.get(raw_category.replace("／", "/"))
        if raw_category and category is None:
            errors.append(
                {
                    "row": n,
                    "field": "category_code",
                    "value": raw_category[:80],
                    "message": f"第 {n} 行：未知分类“{raw_category[:80]}”(填写分类代码或完整路径)",
                    "message_en": f"row {n}: unknown category '{raw_category[:80]}' (use its code or full path)",
                }
            )
            continue
        external_id = _text(row.get("external_id")).strip()
        if len(external_id) > 80:
            errors.append(
                {
                    "row": n,
                    "field": "external_id",
                    "value": external_id[:80],
                    "message": f"第 {n} 行：外部编号超过 80 个字符",
                    "message_en": f"row {n}: external id too long",
                }
            )
            continue
        if external_id and external_id in seen_ids:
            errors.append(
                {
                    "row": n,
                    "field": "external_id",
                    "value": external_id,
                    "message": f"第 {n} 行：外部编号“{external_id}”与第 {seen_ids[external_id]} 行重复",
                    "message_en": f"row {n}: external id '{external_id}' repeats row {seen_ids[external_id]}",
                }
            )
            continue
        try:
            content = Content(
                title=_text(row.get("title")),
                question=_text(row.get("question")),
                answer_agent=_text(row.get("answer_agent")),
                answer_customer=_text(row.get("answer_customer")),
                category_code=category or "",
                keywords=_keywords(row.get("keywords")),
                release=_text(row.get("release")),
                release_date=_date(row.get("release_date")),
                urgent=_text(row.get("urgent")).strip().lower() in TRUE,
                urgent_reason=_text(row.get("urgent_reason")),
            ).cleaned()
        except ValueError as exc:
            errors.append(
                {
                    "row": n,
                    "field": "release_date",
                    "value": str(exc)[:40],
                    "message": f"第 {n} 行：日期无效 / invalid date: {exc}",
                }
            )
            continue
        except ValidationFailed as exc:
            errors.extend(
                {
                    **f,
                    "row": n,
                    "message": f"第 {n} 行：{f['field']} {f['message']}",
                    "message_en": f"row {n}: {f['field']} {f['message_en']}",
                }
                for f in exc.fields
            )
            continue
        if external_id:
            seen_ids[external_id] = n
        out.append(Row(n, content, external_id))
    if errors:
        bad_rows = len({e["row"] for e in errors})
        raise ValidationFailed(
            f"有 {bad_rows} 行数据有误，未导入任何内容。",
            f"{bad_rows} row(s) are invalid; nothing was imported.",
            code=KnowledgeCode.IMPORT_INVALID,
            fields=errors[:50],
        )
    if not out:
        raise ValidationFailed(
            "文件中没有数据行。", "The file has no data rows.", code=KnowledgeCode.IMPORT_EMPTY
        )
    return out


def may_import(actor: Actor, mode: str) -> bool:
    """kb.import for drafts; published needs an administrator (the role, or a Django superuser)."""
    superuser = bool(getattr(actor.user, "is_superuser", False))
    if mode == "published":
        return actor.is_admin or superuser
    return actor.can("kb.import") or superuser


def import_contents(
    *,
    actor: Actor,
    contents: list[Content] | list[Row],
    mode: str,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    if mode not in ("draft", "published"):
        raise ValidationFailed("导入方式无效(draft 或 published)。", "Invalid mode (draft or published).")
    if not may_import(actor, "draft"):
        actor.require("kb.import")
    if not may_import(actor, mode):
        raise Forbidden(
            "只有系统管理员可以直接导入为已发布。",
            "Only an administrator may import as published.",
            code=KnowledgeCode.PERMISSION_DENIED,
        )
    rows = [c if isinstance(c, Row) else Row(0, c) for c in contents]
    from .models import Article

    known = set(
        Article.objects.filter(external_id__in=[r.external_id for r in rows if r.external_id]).values_list(
            "external_id", flat=True
        )
    )
    ids: list[int] = []
    skipped: list[str] = []
    with transaction.atomic():
        for i, row in enumerate(rows, start=1):
            if row.external_id and row.external_id in known:
                skipped.append(row.external_id)
                continue
            if mode == "draft":
                rev = services.article_import_draft(actor=actor, content=row.content)
            else:
                rev = services.article_publish_imported(actor=actor, content=row.content)
            if row.external_id:
                Article.objects.filter(pk=rev.article_id).update(external_id=row.external_id)
            ids.append(rev.article_id)
            if progress:
                progress(i, len(rows))
        if ids:
            audit.record(
                actor=actor.user if actor.user.pk else None,
                verb="kb.imported",
                target=rev.article,
                data={
                    "mode": mode,
                    "count": len(ids),
                    "first": ids[0],
                    "last": ids[-1],
                    "skipped": len(skipped),
                },
                unit_code=actor.unit_code,
            )
    return ImportResult(created=len(ids), mode=mode, article_ids=ids, skipped=skipped)


def import_upload(
    *, actor: Actor, name: str, data: bytes, mode: str, progress: Callable[[int, int], None] | None = None
) -> ImportResult:
    if not may_import(actor, "draft"):
        actor.require("kb.import")
    return import_contents(actor=actor, contents=parse_rows(name, data), mode=mode, progress=progress)
