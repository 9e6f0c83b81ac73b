"""Compress reader models with lz4 on PostgreSQL (14+, built with lz4 as Debian's is).

Every night rewrites every reader's model (about 10 KB of JSON, stored out of line and
compressed): pglz spent about a third of the server's time on that write, lz4 much less.
Only new values are compressed the new way; other databases are left as they are.
"""

from django.db import migrations


def _lz4(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")
        if cursor.fetchone() is None:  # a server built without lz4 keeps pglz
            return
    schema_editor.execute(
        "ALTER TABLE digests_readermodel ALTER COLUMN profile SET COMPRESSION lz4"
    )


def _pglz(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql" and connection.pg_version >= 140000:
        schema_editor.execute(
            "ALTER TABLE digests_readermodel ALTER COLUMN profile SET COMPRESSION default"
        )


class Migration(migrations.Migration):
    dependencies = [("digests", "0004_edition_skipped_feed")]

    operations = [migrations.RunPython(_lz4, _pglz)]
