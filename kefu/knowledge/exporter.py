"""Export any selection of articles to Excel. Every text cell is written as text
(``write_string``; formulas, URLs and numbers never inferred), so a title such
as ``=HYPERLINK(...)`` stays a string in the sheet.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.db.models import Q
from django.utils import timezone

from kefu.core import excel
from kefu.org.access import Actor

from . import search, selectors
from .models import Revision
from .registry import category_choices
from .workflow import Status


def _published(r: Revision) -> str:
    # Beijing time, as on every page (an aware datetime's strftime would print UTC).
    return timezone.localtime(r.published_at).strftime("%Y-%m-%d %H:%M") if r.published_at else ""


COLUMNS = [
    ("编号", lambda r: r.article.code),
    ("版本", lambda r: str(r.number)),
    ("状态", lambda r: str(r.get_status_display())),
    ("标题", lambda r: r.title),
    ("问题", lambda r: r.question),
    ("坐席答案", lambda r: r.answer_agent),
    ("客户答案", lambda r: r.answer_customer),
    ("分类", lambda r: r.category_code),
    ("分类名称", None),
    ("关键词", lambda r: r.keywords),
    ("产品版本", lambda r: r.release),
    ("版本上线日期", lambda r: r.release_date.isoformat() if r.release_date else ""),
    ("发布时间", _published),
]


def selection(
    actor: Actor, *, q: str = "", category_code: str = "", status: str = "", ids: list[int] | None = None
) -> list[Revision]:
    """What the list page shows: editors the newest revision of each article, others the published ones."""
    editor = selectors.is_editor(actor)
    if q:
        hits = search.search(q, scope="agent", limit=search.MAX_LIMIT, category_code=category_code or None)
        return [h.revision for h in hits]
    qs = (
        selectors.latest_revisions(status=status, category_code=category_code)
        if editor
        else selectors.published_revisions(category_code=category_code)
    )
    if ids:
        qs = qs.filter(article_id__in=ids)
    if not editor:
        qs = qs.filter(Q(status=Status.PUBLISHED))
    return list(qs.select_related("article")[:20000])


def to_xlsx(revisions: Iterable[Revision]) -> bytes:
    buf = io.BytesIO()
    wb = excel.workbook(buf)
    ws = wb.add_worksheet("知识库")
    bold = wb.add_format({"bold": True})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    for c, (name, _fn) in enumerate(COLUMNS):
        ws.write_string(0, c, name, bold)
    labels = dict(category_choices())  # once: the category source reads the taxonomy
    for r, rev in enumerate(revisions, start=1):
        for c, (_name, fn) in enumerate(COLUMNS):
            text = fn(rev) if fn is not None else labels.get(rev.category_code, rev.category_code)
            ws.write_string(r, c, text, wrap)
    ws.set_column(0, 2, 10)
    ws.set_column(3, 3, 30)
    ws.set_column(4, 6, 50)
    ws.freeze_panes(1, 0)
    wb.close()
    return buf.getvalue()
