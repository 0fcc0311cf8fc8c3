"""Knowledge search: latency over 50,000 published articles on PostgreSQL and on SQLite, indexing rate,
and relevance (recall@5 of the labelled query set in ``kefu/knowledge/relevance/``).

Each backend gets a bench database of its own (PostgreSQL ``kefu_bench_knowledge`` on the server of
``KEFU_BENCH_PG_URL``, default ``postgres://postgres@127.0.0.1:5432/kefu``; SQLite a file in a temp dir).
The corpus is the 66 demo articles hidden among synthetic ones: a quarter about 新视通 areas written from
the same vocabulary (会议, 账单, 终端, 共享屏幕 ... in titles, keywords and bodies; they compete directly with
the labelled articles), the rest about the operator's other enterprise products (宽带, 专线, 云主机 ...)
written with the same service sentences. Articles are bulk-inserted as published; indexing (jieba segmentation + the
backend's index) is timed on its own. The seed synonym groups are loaded (the ranking applies them). Timed: ``kefu.knowledge.search.search()`` end to end (ranked ids,
revisions fetched, highlighted snippets), limit 10, scope agent, for the labelled queries, two-character
queries and random title words. ``--quick``: 2,000 articles.
Direct use: ``.venv/bin/python bench/figures/kb_search.py [--quick]``.

Besides the wall-clock latency, each search's **CPU time** is measured: this process's plus, on PostgreSQL,
the server backend's (``/proc/<pid>/schedstat``, nanoseconds on the CPU, not time waiting for one). On a
machine shared with other work the wall clock mostly measures the queue for a core; the CPU time is what a
search costs, i.e. its latency on an idle core. ``KEFU_BENCH_KB_REUSE=1`` keeps an already loaded corpus of the
same size (the PostgreSQL bench database, and ``var/bench/kb_search.sqlite3`` for SQLite) instead of
reloading it; indexing figures are then not printed.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAME = "kb_search"
DESCRIPTION = "Knowledge search p50/p95 over 50k articles (PostgreSQL, SQLite), indexing rate, recall@5"

ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "kefu_bench_knowledge"

AREAS = [
    "会议",
    "预约会议",
    "会议室",
    "终端",
    "硬件终端",
    "客户端",
    "手机客户端",
    "账单",
    "发票",
    "套餐",
    "通讯录",
    "管理后台",
    "云录制",
    "直播",
    "共享屏幕",
    "电话入会",
    "网络",
    "带宽",
    "摄像头",
    "麦克风",
    "主持人",
    "参会人",
    "会议号",
    "密码",
    "账号",
    "企业管理员",
    "并发方数",
    "流量",
    "物联网卡",
    "字幕",
    "水印",
    "等候室",
    "投屏",
    "白板",
    "签到",
    "投票",
    "日程",
    "消息通知",
    "文件传输",
    "会议模板",
]
SCENES = [
    "操作指引",
    "常见问题",
    "配置方法",
    "使用说明",
    "注意事项",
    "异常处理",
    "规则说明",
    "办理流程",
    "功能介绍",
    "版本变更说明",
    "省内口径",
    "培训材料",
    "应急预案",
    "对外解释口径",
    "限制说明",
]
REGIONS = ["华北", "华东", "华南", "西南", "西北", "东北", "华中", "全国"]
SENTENCES = [
    "请先核实客户所在企业的业务状态和套餐规格。",
    "如客户反映的问题无法立即解答，应与客户核对记录的问题。",
    "处理完毕后请回访客户确认问题已解决。",
    "该功能仅对专业版及以上套餐开放。",
    "企业管理员可在管理后台进行相关设置。",
    "操作前请提醒客户备份重要数据。",
    "如多名客户同时反映同类问题，应及时上报。",
    "具体以当地省分公司公示为准。",
    "请引导客户升级到最新版本后再试。",
    "客户端界面可能因版本不同略有差异。",
    "此项设置修改后立即生效。",
    "设置保存后需要重新入会才能生效。",
    "请告知客户办理渠道，不得随意推诿。",
    "如涉及费用调整，须由省分核实后处理。",
    "配置完成后可通过测试会议验证效果。",
    "该问题多与网络环境有关，建议检查带宽。",
    "请记录客户的企业名称、账号和联系电话。",
    "必要时可转热线由专家坐席处理。",
    "移动端与电脑端的操作入口不同，请按客户设备指引。",
    "非服务时间可引导客户在线留言。",
    "功能开通后次日生效。",
    "参会人数超过套餐方数时将无法继续入会。",
    "会议结束后相关数据保留 30 天。",
    "请勿向客户承诺处理时限以外的结果。",
    "该规则自新版本上线之日起执行。",
    "涉及账户安全的操作须核验身份。",
    "可在会议设置中开启或关闭此功能。",
    "如客户使用国产操作系统，请确认客户端版本适配。",
    "如需批量处理，请联系客户经理。",
    "此说明适用于新视通(4G版)全部套餐。",
]
# A national knowledge base of 50,000 documents covers the operator's other products too; a quarter of the
# synthetic articles are about 新视通 areas (and compete directly with the labelled ones), the rest about
# other government-and-enterprise products written with the same sentences.
OTHER_PRODUCTS = [
    "天翼云主机",
    "云电脑",
    "政企宽带",
    "互联网专线",
    "数据专线",
    "云专网",
    "企业云盘",
    "天翼对象存储",
    "物联网连接",
    "商务领航",
    "固定电话",
    "一号双终端",
    "企业彩铃",
    "天翼看家",
    "云安全",
    "量子密话",
    "天翼云桌面",
    "IDC 机柜",
    "CDN 加速",
    "短信平台",
    "企业邮箱",
    "翼支付企业版",
    "5G 专网",
    "千兆光宽",
    "智慧校园",
    "视频监控",
    "云呼叫中心",
    "企业总机",
    "政务外网",
    "天翼防火墙",
]
NEW_SHARE = 0.25
TWO_CHAR = [
    "登录",
    "账单",
    "会议",
    "终端",
    "密码",
    "发票",
    "退租",
    "开通",
    "起租",
    "录制",
    "直播",
    "水印",
    "字幕",
    "回声",
    "卡顿",
]


def _pg_server() -> str:
    return os.environ.get("KEFU_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/kefu")


def run(quick: bool) -> list[tuple[str, float, str]]:
    figures: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        lite = ROOT / "var" / "bench" / "kb_search.sqlite3" if os.environ.get("KEFU_BENCH_KB_REUSE") else None
        if lite is not None:
            lite.parent.mkdir(parents=True, exist_ok=True)
        backends = [
            ("PostgreSQL", _pg_server().rsplit("/", 1)[0] + f"/{BENCH_DB}"),
            ("SQLite", f"sqlite:///{lite or Path(tmp) / 'kb_bench.sqlite3'}"),
        ]
        for label, url in backends:
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "KEFU_LOG_LEVEL": "WARNING",
                "KEFU_VAR_DIR": tmp,
            }
            env.pop("KEFU_TESTING", None)
            args = [sys.executable, str(Path(__file__).resolve()), "--child"] + (["--quick"] if quick else [])
            out = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                raise RuntimeError(f"kb_search bench ({label}) failed:\n{out.stderr[-4000:]}")
            for name, value, unit in json.loads(out.stdout.strip().splitlines()[-1]):
                figures.append((f"{label}: {name}", value, unit))
    return figures


# -- the child ----------------------------------------------------------------------


def _create_pg_database() -> None:
    import psycopg

    with psycopg.connect(_pg_server().rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)).fetchone():
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def _synthetic(i: int, rng: random.Random) -> dict[str, str]:
    pool = AREAS if rng.random() < NEW_SHARE else OTHER_PRODUCTS
    area, area2 = rng.sample(pool, 2)
    scene = rng.choice(SCENES)
    region = rng.choice(REGIONS)
    body = "".join(rng.sample(SENTENCES, rng.randint(4, 8)))
    return {
        "title": f"{region}{area}{scene}({i})",
        "question": f"关于{area}与{area2}的{scene}。",
        "answer_agent": f"{area}：{body}",
        "answer_customer": f"{area}{scene}：" + "".join(rng.sample(SENTENCES, 2)),
        "category_code": rng.choice(["cf_usage_function", "cf_usage_other", "consult", "cf_usage_bill"]),
        "keywords": f"{area} {area2} {scene}",
    }


def _load(n: int) -> tuple[dict[int, str], float, float]:
    """Insert ``n`` published articles (the demo ones among them); returns (id -> demo key, insert s, index s)."""
    from django.db import connection, transaction

    from kefu.knowledge import search
    from kefu.knowledge.demo_articles import ARTICLES
    from kefu.knowledge.models import Article, Revision, SearchDoc
    from kefu.org.models import User

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "TRUNCATE knowledge_posting, knowledge_termstat, knowledge_searchdoc, knowledge_revision, "
                "knowledge_article "
                "RESTART IDENTITY CASCADE"
            )
        else:
            for t in (
                "knowledge_posting",
                "knowledge_termstat",
                "knowledge_searchdoc",
                "knowledge_revision",
                "knowledge_article",
            ):
                cur.execute(f"DELETE FROM {t}")  # noqa: S608
    user, _ = User.objects.get_or_create(username="bench_kb_author")
    rng = random.Random(20261128)
    positions = set(rng.sample(range(n), len(ARTICLES)))
    demo = iter(ARTICLES)
    rows: list[tuple[str | None, dict[str, str]]] = []
    for i in range(n):
        if i in positions:
            key, category, title, question, agent, customer, keywords = next(demo)
            rows.append(
                (
                    key,
                    {
                        "title": title,
                        "question": question,
                        "answer_agent": agent,
                        "answer_customer": customer,
                        "category_code": category,
                        "keywords": keywords,
                    },
                )
            )
        else:
            rows.append((None, _synthetic(i, rng)))
    started = time.perf_counter()
    keys: dict[int, str] = {}
    batch = 2000
    with transaction.atomic():
        for b in range(0, n, batch):
            chunk = rows[b : b + batch]
            articles = Article.objects.bulk_create([Article(created_by=user) for _ in chunk])
            Revision.objects.bulk_create(
                [
                    Revision(article=a, number=1, author=user, status="published", **fields)
                    for a, (_k, fields) in zip(articles, chunk, strict=True)
                ]
            )
            for a, (k, _f) in zip(articles, chunk, strict=True):
                if k:
                    keys[a.pk] = k
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE knowledge_article SET published_revision_id = (SELECT r.id FROM knowledge_revision r "
                "WHERE r.article_id = knowledge_article.id)"
            )
    insert_s = time.perf_counter() - started
    started = time.perf_counter()
    search.index_revisions(Revision.objects.order_by("pk").iterator(chunk_size=2000), batch=1000)
    index_s = time.perf_counter() - started
    assert SearchDoc.objects.count() == n
    if connection.vendor == "postgresql":  # what autovacuum does on a live server: index-only scans need it
        connection.ensure_connection()
        raw = connection.connection
        autocommit = raw.autocommit
        raw.autocommit = True
        raw.execute("VACUUM ANALYZE knowledge_posting")
        raw.execute("VACUUM ANALYZE knowledge_searchdoc")
        raw.autocommit = autocommit
    else:
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    return keys, insert_s, index_s


def _cpu_ns(pid: int | None) -> int:
    """Nanoseconds ``pid`` (or this thread) has spent on a CPU: waiting for a core is not counted."""
    if pid is None:
        return time.thread_time_ns()
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def _backend_pid() -> int | None:
    """The PostgreSQL server process of this connection, when it runs on this machine (else None)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = int(cur.fetchone()[0])
    return pid if os.path.exists(f"/proc/{pid}/schedstat") else None


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def child(quick: bool) -> list[tuple[str, float, str]]:
    if not os.environ["DATABASE_URL"].startswith("sqlite"):
        _create_pg_database()
    import django

    django.setup()
    from django.core.management import call_command

    from kefu.knowledge import relevance, search
    from kefu.knowledge.segment import tokenizer

    call_command("migrate", verbosity=0)
    tokenizer()  # load the dictionary before timing anything
    n = 2_000 if quick else 50_000
    from kefu.knowledge.models import SearchDoc

    reuse = bool(os.environ.get("KEFU_BENCH_KB_REUSE")) and SearchDoc.objects.count() == n
    if reuse:
        from kefu.knowledge.demo_articles import ARTICLES
        from kefu.knowledge.models import Revision

        titles = {a[2]: a[0] for a in ARTICLES}
        keys = {
            a: titles[t]
            for a, t in Revision.objects.filter(title__in=titles).values_list("article_id", "title")
        }
        insert_s = index_s = 0.0
    else:
        keys, insert_s, index_s = _load(n)
    from kefu.knowledge import services
    from kefu.knowledge.models import SynonymGroup

    SynonymGroup.objects.all().delete()
    SynonymGroup.objects.bulk_create(
        [
            SynonymGroup(words=" ".join(services.split_words(w)), note=note)
            for w, note in services.seed_groups()
        ]
    )

    def rank(q: str) -> list[str]:
        return [keys.get(h.article_id, "-") for h in search.search(q, limit=10)]

    recall5, misses = relevance.recall_at(5, rank)
    recall1, _ = relevance.recall_at(1, rank)
    rng = random.Random(5)
    labelled = [q for q, _k in relevance.load()]
    words = [rng.choice(AREAS) + rng.choice(["", " 设置", " 异常", "怎么办"]) for _ in range(300)]
    queries = labelled + TWO_CHAR * 4 + words
    if quick:
        queries = queries[:250]
    for q in queries[:30]:
        search.search(q, limit=10)  # warm up
    backend = _backend_pid()
    times, cpu = [], []
    for q in queries:
        started, c0, s0 = time.perf_counter(), _cpu_ns(None), _cpu_ns(backend) if backend else 0
        search.search(q, limit=10)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((_cpu_ns(None) - c0 + ((_cpu_ns(backend) - s0) if backend else 0)) / 1e6)
    p50, p95 = _percentiles(times)
    cp50, cp95 = _percentiles(cpu)
    load1 = os.getloadavg()[0]
    two = []
    for q in TWO_CHAR * 4:
        started = time.perf_counter()
        assert search.search(q, limit=10), q
        two.append((time.perf_counter() - started) * 1000)
    tp50, tp95 = _percentiles(two)
    figures: list[tuple[str, float, str]] = [("articles (published, indexed)", n, "articles")]
    if not reuse:
        figures += [
            ("bulk insert", round(insert_s, 1), "s"),
            ("indexing rate (jieba + index)", round(n / index_s), "articles/s"),
        ]
    who = "client + server" if backend else "in process"
    figures += [
        (f"search CPU p50 ({len(queries)} queries, limit 10, snippets; {who})", round(cp50, 2), "ms"),
        ("search CPU p95", round(cp95, 2), "ms"),
        ("search wall p50", round(p50, 2), "ms"),
        ("search wall p95", round(p95, 2), "ms"),
        ("load average (1 min) at the end, 2 cores", round(load1, 1), ""),
        ("two-character queries p50", round(tp50, 2), "ms"),
        ("two-character queries p95", round(tp95, 2), "ms"),
        (f"recall@5 ({len(relevance.load())} labelled queries)", round(recall5, 3), "ratio"),
        ("recall@1", round(recall1, 3), "ratio"),
    ]
    for q, k, got in misses:
        print(f"miss: {q} -> want {k}, got {got}", file=sys.stderr)
    return figures


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    quick = "--quick" in sys.argv
    if "--child" in sys.argv:
        print(json.dumps(child(quick)))
    else:
        for name, value, unit in run(quick):
            print(f"{name:60s} {value:>10} {unit}")
