"""PostgreSQL: a tsvector of the article's head (title A, keywords and question B) with its own GIN
index, so queries rank head matches first without reading every matching body, and any-term matches
never read bodies at all. SQLite uses an FTS5 column filter instead."""

from django.db import migrations

PG_FORWARD = [
    "ALTER TABLE knowledge_searchdoc ADD COLUMN doc_head tsvector",
    "UPDATE knowledge_searchdoc SET doc_head = setweight(to_tsvector('simple', title_tokens), 'A')"
    " || setweight(to_tsvector('simple', keyword_tokens || ' ' || question_tokens), 'B')",
    "CREATE INDEX kb_searchdoc_head_gin ON knowledge_searchdoc USING gin (doc_head)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS kb_searchdoc_head_gin",
    "ALTER TABLE knowledge_searchdoc DROP COLUMN IF EXISTS doc_head",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0002_fulltext")]

    operations = [migrations.RunPython(_run(PG_FORWARD), _run(PG_BACKWARD))]
