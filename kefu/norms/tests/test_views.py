from __future__ import annotations

import io

import pytest
from django.test import Client
from openpyxl import Workbook, load_workbook

from kefu.core.models import AuditEvent
from kefu.norms import lexicon
from kefu.norms.defaults import RULES
from kefu.norms.models import LexiconVersion

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    lexicon.clear_cache()
    yield
    lexicon.clear_cache()


def web(actor) -> Client:
    c = Client()
    c.force_login(actor.user)
    return c


def xlsx(rules, templates=None) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.title = "忌语与句式"
    ws.append(["类别", "处理", "用语或句式", "建议规范用语", "适用渠道", "例外词"])
    for r in rules:
        ws.append(r)
    if templates is not None:
        wt = wb.create_sheet("规范用语")
        wt.append(["渠道", "用途", "规范用语"])
        for t in templates:
            wt.append(t)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "lexicon.xlsx"
    return buf


def test_everyone_reads_and_tries_only_hq_service_edits(agent_bj, hq_reviewer):
    page = web(agent_bj).get("/norms/", {"text": "别 再 来 问 了", "channel": "ticket"}).content.decode()
    assert "别再来问了" in page and 'data-testid="norms-hits"' in page and "欢迎随时联系我们" in page
    assert 'data-testid="norms-add"' not in page
    r = web(agent_bj).post(
        "/norms/rules/add/",
        {"category": "banned", "severity": "block", "pattern": "真磨叽", "suggestion": "请您慢慢讲"},
    )
    assert r.status_code == 403 and LexiconVersion.objects.count() == 1
    assert 'data-testid="norms-add"' in web(hq_reviewer).get("/norms/").content.decode()


def test_add_then_remove_publishes_versions(hq_reviewer):
    c = web(hq_reviewer)
    r = c.post(
        "/norms/rules/add/",
        {
            "category": "impatience",
            "severity": "warn",
            "pattern": "真磨叽",
            "suggestion": "请您慢慢讲",
            "applies_to": "all",
        },
    )
    assert r.status_code == 302
    assert lexicon.version_in_force().number == 2
    assert lexicon.version_in_force().rules.filter(pattern="真磨叽").exists()
    c.post("/norms/rules/remove/", {"pattern": "真磨叽"})
    assert lexicon.version_in_force().number == 3
    assert not lexicon.version_in_force().rules.filter(pattern="真磨叽").exists()
    assert AuditEvent.objects.filter(verb="norms.lexicon_published").count() == 2


def test_bad_entry_on_the_page_keeps_what_was_typed(hq_reviewer):
    r = web(hq_reviewer).post(
        "/norms/rules/add/",
        {"category": "banned", "severity": "block", "pattern": "！", "suggestion": "建议"},
    )
    assert r.status_code == 422
    page = r.content.decode()
    assert "标点" in page and 'value="！"' in page
    assert LexiconVersion.objects.count() == 1


def test_export_then_import_round_trip(hq_reviewer):
    c = web(hq_reviewer)
    data = c.get("/norms/lexicon.xlsx").content
    wb = load_workbook(io.BytesIO(data))
    assert wb["忌语与句式"].max_row == len(RULES) + 1
    buf = io.BytesIO(data)
    buf.name = "x.xlsx"
    r = c.post("/norms/import/", {"file": buf, "note": "回传"})
    assert r.status_code == 302
    v = lexicon.version_in_force()
    assert v.number == 2 and v.rules.count() == len(RULES) and v.templates.count() > 0


def test_import_with_bad_rows_names_each_row_and_imports_nothing(hq_reviewer):
    rows = [
        ["服务忌语", "禁止发送", "别再来问了", "欢迎随时联系我们", "全部渠道", ""],
        ["服务忌语", "禁止发送", "", "建议", "全部渠道", ""],
        ["服务忌语", "禁止发送", "滚", "建议", "全部渠道", ""],
        ["不存在的类别", "禁止发送", "烦死了", "建议", "全部渠道", ""],
        ["服务忌语", "禁止发送", "这" * 50, "建议", "全部渠道", ""],
        ["服务忌语", "禁止发送", "？？", "建议", "全部渠道", ""],
    ]
    r = web(hq_reviewer).post("/norms/import/", {"file": xlsx(rows, [["全部渠道", "感谢", "谢谢{name}"]])})
    assert r.status_code == 422
    page = r.content.decode()
    for row in ("第 3 行", "第 4 行", "第 5 行", "第 6 行", "第 7 行"):
        assert row in page
    assert "规范用语" in page and "占位符" in page
    assert LexiconVersion.objects.count() == 1


def test_import_of_a_broken_file_is_refused(hq_reviewer):
    buf = io.BytesIO(b"not excel")
    buf.name = "x.xlsx"
    r = web(hq_reviewer).post("/norms/import/", {"file": buf})
    assert r.status_code == 422 and "Excel" in r.content.decode()
    assert LexiconVersion.objects.count() == 1
