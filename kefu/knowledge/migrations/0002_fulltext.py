"""The full-text index, per backend (the ORM cannot describe either).

PostgreSQL: two weighted tsvector columns on knowledge_searchdoc ('simple'
config over jieba-segmented text), each with a GIN index.
SQLite: an FTS5 table whose rowid is the article id; the text is already
segmented, so the unicode61 tokenizer only splits on the spaces we put in.
"""

from django.db import migrations

PG_FORWARD = [
    "ALTER TABLE knowledge_searchdoc ADD COLUMN doc_agent tsvector",
    "ALTER TABLE knowledge_searchdoc ADD COLUMN doc_public tsvector",
    "CREATE INDEX kb_searchdoc_agent_gin ON knowledge_searchdoc USING gin (doc_agent)",
    "CREATE INDEX kb_searchdoc_public_gin ON knowledge_searchdoc USING gin (doc_public)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS kb_searchdoc_agent_gin",
    "DROP INDEX IF EXISTS kb_searchdoc_public_gin",
    "ALTER TABLE knowledge_searchdoc DROP COLUMN IF EXISTS doc_agent",
    "ALTER TABLE knowledge_searchdoc DROP COLUMN IF EXISTS doc_public",
]
SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE knowledge_search_fts USING fts5("
    "title, keywords, question, answer_agent, answer_customer, tokenize='unicode61 remove_diacritics 0')",
]
SQLITE_BACKWARD = ["DROP TABLE IF EXISTS knowledge_search_fts"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        )
    ]
