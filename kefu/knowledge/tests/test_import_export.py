"""Import from Excel / JSON Lines (all or nothing), export to Excel with every cell as text."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from openpyxl import Workbook, load_workbook

from kefu.core.errors import Forbidden, ValidationFailed
from kefu.knowledge import exporter, importer, search
from kefu.knowledge.models import Article, Revision

pytestmark = pytest.mark.django_db

ROW = {
    "标题": "如何退订云录制",
    "问题": "客户要退订云录制空间",
    "坐席答案": "在企业管理后台退订",
    "客户答案": "请联系客户经理退订",
    "分类": "cf_termination_resource",
    "关键词": "退订 云录制",
}


def xlsx(rows: list[dict]) -> bytes:
    wb = Workbook()
    ws = wb.active
    headers = list(ROW)
    ws.append(headers)
    for r in rows:
        ws.append([r.get(h) for h in headers])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_import_as_drafts(kb_author):
    result = importer.import_upload(
        actor=kb_author, name="kb.xlsx", data=xlsx([ROW, {**ROW, "标题": "第二条"}]), mode="draft"
    )
    assert result.created == 2
    assert sorted(Revision.objects.values_list("title", "status")) == [
        ("如何退订云录制", "draft"),
        ("第二条", "draft"),
    ]


def test_bad_row_refuses_the_whole_file(kb_author):
    with pytest.raises(ValidationFailed) as exc:
        importer.import_upload(
            actor=kb_author, name="kb.xlsx", data=xlsx([ROW, {**ROW, "客户答案": None}]), mode="draft"
        )
    assert exc.value.fields[0]["row"] == 3
    assert Article.objects.count() == 0


def test_jsonl_first_load_published_by_admin_only(admin_actor, kb_author):
    lines = "\n".join(
        json.dumps(
            {
                "title": f"账单问题{i}",
                "question": "q",
                "answer_agent": "a",
                "answer_customer": "c",
                "category_code": "cf_usage_bill",
            },
            ensure_ascii=False,
        )
        for i in range(3)
    ).encode()
    with pytest.raises(Forbidden):
        importer.import_upload(actor=kb_author, name="kb.jsonl", data=lines, mode="published")
    result = importer.import_upload(actor=admin_actor, name="kb.jsonl", data=lines, mode="published")
    assert result.created == 3
    assert len(search.search("账单")) == 3


def test_jsonl_garbage_lines(kb_author):
    with pytest.raises(ValidationFailed) as exc:
        importer.import_upload(
            actor=kb_author, name="kb.jsonl", data=b'{"title": 1}\nnot json\n[1]', mode="draft"
        )
    # Every problem of a row is listed (row 1 misses several fields), each naming its row.
    assert list(dict.fromkeys(d["row"] for d in exc.value.fields)) == [1, 2, 3]
    assert "3 row(s) are invalid" in exc.value.message_en


def test_unsupported_file(kb_author):
    with pytest.raises(ValidationFailed):
        importer.import_upload(actor=kb_author, name="kb.csv", data=b"a,b", mode="draft")
    with pytest.raises(ValidationFailed):
        importer.import_upload(actor=kb_author, name="kb.xlsx", data=b"not a zip", mode="draft")


def test_import_command(tmp_path, kb_author):
    path = tmp_path / "kb.xlsx"
    path.write_bytes(xlsx([ROW]))
    out = io.StringIO()
    call_command("kb_import", str(path), "--as-user", "kb_author", stdout=out)
    assert "imported 1" in out.getvalue()


def test_export_writes_formulas_as_text(make_published, kb_author):
    make_published(
        title='=HYPERLINK("http://evil.example","点我")', answer_agent="+1+1", answer_customer="@SUM(A1)"
    )
    data = exporter.to_xlsx(exporter.selection(kb_author))
    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    headers = [c.value for c in ws[1]]
    row = [c for c in ws[2]]
    title = row[headers.index("标题")]
    assert title.value.startswith("=HYPERLINK") and title.data_type == "s"
    assert row[headers.index("坐席答案")].data_type == "s"


def test_export_round_trips_through_import(make_published, kb_author):
    make_published()
    data = exporter.to_xlsx(exporter.selection(kb_author))
    contents = importer.parse("back.xlsx", data)
    assert contents[0].title == "新视通客户端无法登录怎么办"


def test_export_writes_beijing_times_and_does_not_query_per_row(client, make_published, kb_author):
    """发布时间 is Beijing time (what every page shows), and the category names are read once, not per row."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from conftest import login_client

    first = make_published()
    Revision.objects.filter(pk=first.pk).update(
        published_at=datetime(2026, 10, 31, 16, 30, tzinfo=ZoneInfo("UTC"))
    )  # 2026-11-01 00:30 in Beijing
    login_client(client, kb_author)

    def export() -> tuple[int, list[list[str]]]:
        with CaptureQueriesContext(connection) as ctx:
            body = client.get("/kb/export.xlsx?status=published").content
        ws = load_workbook(io.BytesIO(body)).active
        return len(ctx.captured_queries), [[c.value for c in row] for row in ws.iter_rows()]

    few, rows = export()
    header = rows[0]
    row = next(r for r in rows[1:] if r[0] == first.article.code)
    assert row[header.index("发布时间")] == "2026-11-01 00:30"
    assert row[header.index("分类名称")] == "投诉/故障 / 使用类 / 无法正常登录"
    for i in range(4):
        make_published(title=f"另一篇{i}")
    many, rows = export()
    assert len(rows) == 6 and many == few


def test_unknown_category_is_refused_naming_the_row_and_value(kb_author):
    with pytest.raises(ValidationFailed) as exc:
        importer.import_upload(
            actor=kb_author,
            name="kb.xlsx",
            data=xlsx([ROW, {**ROW, "分类": "cf_no_such_leaf"}]),
            mode="draft",
        )
    d = exc.value.fields[0]
    assert (d["row"], d["field"], d["value"]) == (3, "category_code", "cf_no_such_leaf")
    assert "第 3 行" in d["message"] and "cf_no_such_leaf" in d["message"]
    assert Article.objects.count() == 0


def test_category_path_keyword_list_and_external_ids(kb_author):
    from kefu.knowledge.registry import category_choices

    code, path = next((c, label) for c, label in category_choices() if c == "cf_usage_bill")
    lines = "\n".join(
        json.dumps(r, ensure_ascii=False)
        for r in [
            {
                "title": "账单查询",
                "question": "q",
                "answer_agent": "a",
                "answer_customer": "c",
                "category": path,
                "keywords": ["账单", "月账单"],
                "external_id": "OLD-1",
            },
            {
                "title": "发票开具",
                "question": "q",
                "answer_agent": "a",
                "answer_customer": "c",
                "category_code": code,
                "keywords": "发票 开票",
                "外部编号": "OLD-2",
            },
        ]
    ).encode()
    result = importer.import_upload(actor=kb_author, name="kb.jsonl", data=lines, mode="draft")
    assert result.created == 2 and result.skipped == []
    rev = Revision.objects.get(title="账单查询")
    assert (rev.category_code, rev.keywords, rev.article.external_id) == (code, "账单 月账单", "OLD-1")
    again = importer.import_upload(actor=kb_author, name="kb.jsonl", data=lines, mode="draft")
    assert (again.created, again.skipped) == (0, ["OLD-1", "OLD-2"])  # re-running the file adds nothing
    assert Article.objects.count() == 2
    dup = lines + b"\n" + lines.split(b"\n")[0]
    with pytest.raises(ValidationFailed) as exc:
        importer.parse_rows("kb.jsonl", dup)
    assert exc.value.fields[0]["row"] == 3 and exc.value.fields[0]["field"] == "external_id"


def test_a_fresh_install_superuser_imports_published_articles(tmp_path, django_user_model):
    django_user_model.objects.create_superuser(
        "root", "root@example.com", "x-Strong-pass-1"
    )  # createsuperuser
    path = tmp_path / "kb.jsonl"
    path.write_text(
        json.dumps(
            {
                "title": "账单问题",
                "question": "q",
                "answer_agent": "a",
                "answer_customer": "c",
                "category_code": "cf_usage_bill",
                "external_id": "E1",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    call_command("kb_import", str(path), "--as-user", "root", "--mode", "published", stdout=out)
    assert "imported 1 article(s) as published" in out.getvalue()
    assert [h.title for h in search.search("账单")] == ["账单问题"]
    out = io.StringIO()
    call_command("kb_import", str(path), "--as-user", "root", "--mode", "published", stdout=out)
    assert "skipped 1" in out.getvalue() and "E1" in out.getvalue()
