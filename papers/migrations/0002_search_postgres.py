"""Full-text search support, on PostgreSQL only (SQLite falls back to LIKE searches).

A trigger keeps `search_vector` current on every INSERT/UPDATE, bulk imports included,
with title (A) above authors (B) above abstract (C). A trigram index on the title serves
the misspelled-title fallback.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """
    CREATE OR REPLACE FUNCTION papers_paper_search_vector() RETURNS trigger AS $$
    BEGIN
      NEW.search_vector :=
        setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(
            (SELECT string_agg(value, ' ') FROM jsonb_array_elements_text(
                CASE WHEN jsonb_typeof(NEW.authors) = 'array' THEN NEW.authors ELSE '[]'::jsonb END
            )), '')), 'B') ||
        setweight(to_tsvector('english', coalesce(NEW.abstract, '')), 'C');
      RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER papers_paper_search_vector_trigger
    BEFORE INSERT OR UPDATE OF title, abstract, authors ON papers_paper
    FOR EACH ROW EXECUTE FUNCTION papers_paper_search_vector()
    """,
    "CREATE INDEX IF NOT EXISTS paper_search_vector_gin ON papers_paper USING gin (search_vector)",
    "CREATE INDEX IF NOT EXISTS paper_title_trgm ON papers_paper USING gin (title gin_trgm_ops)",
    "UPDATE papers_paper SET title = title",
]

BACKWARD = [
    "DROP INDEX IF EXISTS paper_title_trgm",
    "DROP INDEX IF EXISTS paper_search_vector_gin",
    "DROP TRIGGER IF EXISTS papers_paper_search_vector_trigger ON papers_paper",
    "DROP FUNCTION IF EXISTS papers_paper_search_vector()",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("papers", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
