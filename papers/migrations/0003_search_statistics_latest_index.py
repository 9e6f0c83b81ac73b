"""Two PostgreSQL-only tunings measured at 1,000,000 papers (bench/search_pg.py).

- A statistics target of 2000 on search_vector: with the default, the planner misjudges
  rare words and scans the whole table (about 1 s); with it, 17 ms at p95.
- An index in exactly the order of Paper.objects.latest() (nulls last), which the plain
  (status, -published_on) index cannot serve: an uncached latest page took 348 ms.
"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE papers_paper ALTER COLUMN search_vector SET STATISTICS 2000",
    "CREATE INDEX IF NOT EXISTS paper_latest ON papers_paper "
    "(status, published_on DESC NULLS LAST, id DESC)",
    "ANALYZE papers_paper",
]

BACKWARD = [
    "DROP INDEX IF EXISTS paper_latest",
    "ALTER TABLE papers_paper ALTER COLUMN search_vector SET STATISTICS -1",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("papers", "0002_search_postgres")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
