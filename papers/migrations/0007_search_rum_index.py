"""A RUM index on search_vector where the server has the extension (PostgreSQL only).

RUM stores each word's positions and can return matches in rank order, so a search ranks
over all its matches (`ORDER BY search_vector <=> query`) and checks phrases inside the
index. It replaces the GIN index of migration 0002, which would only add write cost.

Without the extension (a managed PostgreSQL that lacks it, or no right to create it) this
changes nothing: the GIN index stays and `papers.search` keeps its GIN path. To move to
RUM later, install the package and run `manage.py migrate papers 0006` then `migrate`.
"""

from django.db import DatabaseError, migrations, transaction

RUM_INDEX = "paper_search_vector_rum"


def _rum_created(schema_editor) -> bool:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")
        if cursor.fetchone() is None:
            return False
    try:
        with transaction.atomic(using=connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS rum")
    except DatabaseError:  # e.g. not allowed to create extensions: keep the GIN path
        return False
    return True


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql" or not _rum_created(schema_editor):
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {RUM_INDEX} ON papers_paper "
        "USING rum (search_vector rum_tsvector_ops)"
    )
    schema_editor.execute("DROP INDEX IF EXISTS paper_search_vector_gin")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS paper_search_vector_gin ON papers_paper "
        "USING gin (search_vector)"
    )
    schema_editor.execute(f"DROP INDEX IF EXISTS {RUM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("papers", "0006_library_item")]

    operations = [migrations.RunPython(forward, backward)]
