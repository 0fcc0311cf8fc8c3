"""Knowledge search relevance on the team's own evaluation set, on PostgreSQL and on SQLite.

The set (``kefu/knowledge/relevance/eval.tsv``: 345 queries written the way customers and agents speak:
two-character, short, colloquial, synonym, typo, mixed Chinese-English) is split by a hash of each query
into a tuning half and a test half. Ranking constants and the seed synonyms were only ever tuned against
the tuning half; this figure prints **the test half**: recall@5 (a relevant article in the top five) and
MRR@10, overall and per query type, and the queries that returned nothing; then the share of test queries
whose top five are identical on both databases. The knowledge base is the 66 demo articles
(``demo_articles.py``), all published, with the seed synonym groups (``synonyms_seed.txt``).
Each backend gets a bench database of its own (PostgreSQL ``kefu_bench_kb_relevance`` on the server of
``KEFU_BENCH_PG_URL``; SQLite a temp file).

Direct use: ``.venv/bin/python bench/figures/kb_relevance.py`` (``--half tune --misses`` while tuning:
prints the tuning half's misses; never look at the test half's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

NAME = "kb_relevance"
DESCRIPTION = (
    "Knowledge search recall@5 / MRR@10 by query type on the test half, both databases; top-5 agreement"
)

ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "kefu_bench_kb_relevance"


def _pg_server() -> str:
    return os.environ.get("KEFU_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/kefu")


def _child_run(url: str, tmp: str, half: str) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "KEFU_LOG_LEVEL": "WARNING",
        "KEFU_VAR_DIR": tmp,
    }
    env.pop("KEFU_TESTING", None)
    args = [sys.executable, str(Path(__file__).resolve()), "--child", "--half", half]
    out = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"kb_relevance bench failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool, half: str = "test") -> list[tuple[str, float, str]]:
    figures: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for label, url in (
            ("PostgreSQL", _pg_server().rsplit("/", 1)[0] + f"/{BENCH_DB}"),
            ("SQLite", f"sqlite:///{tmp}/kb_relevance.sqlite3"),
        ):
            results[label] = res = _child_run(url, tmp, half)
            for kind, row in res["scores"].items():
                figures.append((f"{label}: {half} {kind} recall@5 (n={row['n']})", row["recall@5"], "ratio"))
                figures.append((f"{label}: {half} {kind} MRR@10", row["mrr@10"], "ratio"))
            figures.append(
                (f"{label}: {half} queries with no result", res["scores"]["all"]["empty"], "queries")
            )
        pg, lite = results["PostgreSQL"]["top"], results["SQLite"]["top"]
        same5 = sum(1 for q in pg if pg[q][:5] == lite.get(q, [])[:5])
        same10 = sum(1 for q in pg if pg[q][:10] == lite.get(q, [])[:10])
        figures.append(
            (f"same top five on both databases ({len(pg)} queries)", round(same5 / len(pg), 3), "ratio")
        )
        figures.append(("same top ten on both databases", round(same10 / len(pg), 3), "ratio"))
    return figures


def load_demo_kb() -> dict[int, str]:
    """The 66 demo articles, published and indexed, and the seed synonyms; returns article id -> key."""
    from django.db import transaction

    from kefu.knowledge import search, services
    from kefu.knowledge.demo_articles import ARTICLES
    from kefu.knowledge.models import Article, Posting, Revision, SearchDoc, SynonymGroup, TermStat
    from kefu.org.models import User

    with transaction.atomic():
        for model in (Posting, TermStat, SearchDoc, SynonymGroup):
            model.objects.all().delete()
        Article.objects.update(published_revision=None)
        Revision.objects.all().delete()
        Article.objects.all().delete()
        user, _ = User.objects.get_or_create(username="bench_kb_author")
        keys = {}
        for key, category, title, question, agent, customer, keywords in ARTICLES:
            a = Article.objects.create(created_by=user)
            r = Revision.objects.create(
                article=a,
                number=1,
                author=user,
                status="published",
                title=title,
                question=question,
                answer_agent=agent,
                answer_customer=customer,
                category_code=category,
                keywords=keywords,
            )
            a.published_revision = r
            a.save(update_fields=["published_revision"])
            keys[a.pk] = key
        SynonymGroup.objects.bulk_create(
            [SynonymGroup(words=" ".join(services.split_words(w)), note=n) for w, n in services.seed_groups()]
        )
    search.index_revisions(Revision.objects.order_by("pk"))
    return keys


def child(half: str, misses: bool) -> dict:
    if not os.environ["DATABASE_URL"].startswith("sqlite"):
        sys.path.insert(0, str(ROOT / "bench" / "figures"))
        import _child

        _child.create_database(BENCH_DB)
    import django

    django.setup()
    from django.core.management import call_command

    from kefu.knowledge import relevance, search

    call_command("migrate", verbosity=0)
    keys = load_demo_kb()
    judged = relevance.load_eval(half)
    top: dict[str, list[str]] = {}

    def rank(q: str) -> list[str]:
        top[q] = [keys.get(h.article_id, "-") for h in search.search(q, limit=10)]
        return top[q]

    scores = relevance.score(judged, rank)
    if misses:
        for j in judged:
            got = top[j.query]
            if not set(got[:5]) & j.keys:
                print(
                    f"miss [{j.kind}] {j.query} -> want {','.join(sorted(j.keys))}; got {got[:5]} "
                    f"terms={[(t.term, t.weight) for t in search.expand(j.query)]}",
                    file=sys.stderr,
                )
    return {"scores": scores, "top": top}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    args = sys.argv[1:]
    which = args[args.index("--half") + 1] if "--half" in args else "test"
    if "--child" in args:
        print(json.dumps(child(which, "--misses" in args)))
    elif "--misses" in args:
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                **os.environ,
                "DATABASE_URL": f"sqlite:///{tmp}/r.sqlite3",
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "KEFU_LOG_LEVEL": "WARNING",
                "KEFU_VAR_DIR": tmp,
            }
            env.pop("KEFU_TESTING", None)
            subprocess.run(
                [sys.executable, __file__, "--child", "--half", which, "--misses"],
                env=env,
                cwd=ROOT,
                check=False,
            )
    else:
        for name, value, unit in run("--quick" in args, which):
            print(f"{name:60s} {value:>10} {unit}")
