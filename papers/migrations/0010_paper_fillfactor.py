"""Room on every page of papers_paper for updated rows (PostgreSQL only).

The stars/has_code UPDATE that imports and GitHub refreshes make (papers_refresh_code_stats)
changes no indexed column. With room for the new row version on the same page, PostgreSQL
makes it a HOT update: no new entry in any index. Without room (the default fillfactor of
100 packs pages full) the new version goes to another page and every index gets an entry
for it, the RUM index one per word of the paper: 10 ms a paper at 1,000,000 papers
(docs/benchmarks.md).

A fillfactor of 75 leaves a quarter of each page free when rows are inserted: room for one
or two new versions of a paper row (1 to 2 kB), at the price of a heap a third larger.
Nothing here rewrites the table: pages written from now on keep the room, and older ones
gain it as VACUUM frees their dead rows. To give every existing page the room at once,
run `VACUUM FULL papers_paper` (it locks the table and rebuilds its indexes).
"""

from django.db import migrations

FILLFACTOR = 75


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE papers_paper SET (fillfactor = {FILLFACTOR})")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE papers_paper RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("papers", "0009_canonical_arxiv_links_unescaped_authors")]

    operations = [migrations.RunPython(forward, backward)]
