"""Full-text search on SQLite: an FTS5 table over title, abstract and authors (SQLite only).

An external-content table (the text stays in papers_paper; FTS5 keeps only its index),
kept current by triggers on every INSERT/UPDATE/DELETE, bulk imports included. Porter
stemming and accent folding, as PostgreSQL's english configuration stems. Authors are
indexed as their names (json_each), not as the JSON text with its \\u escapes. The
fts5vocab table lists the indexed words, for "Did you mean".
"""

from django.db import migrations

AUTHORS = "(SELECT group_concat(value, ' ') FROM json_each({row}.authors))"


def _row(row: str) -> str:
    return f"{row}.id, {row}.title, {row}.abstract, " + AUTHORS.format(row=row)


FORWARD = [
    "CREATE VIRTUAL TABLE papers_paper_fts USING fts5(title, abstract, authors, "
    "content='papers_paper', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE papers_paper_fts_vocab USING fts5vocab(papers_paper_fts, 'row')",
    f"""CREATE TRIGGER papers_paper_fts_insert AFTER INSERT ON papers_paper BEGIN
      INSERT INTO papers_paper_fts(rowid, title, abstract, authors) VALUES ({_row("new")});
    END""",
    f"""CREATE TRIGGER papers_paper_fts_delete AFTER DELETE ON papers_paper BEGIN
      INSERT INTO papers_paper_fts(papers_paper_fts, rowid, title, abstract, authors)
      VALUES ('delete', {_row("old")});
    END""",
    f"""CREATE TRIGGER papers_paper_fts_update AFTER UPDATE OF title, abstract, authors
    ON papers_paper BEGIN
      INSERT INTO papers_paper_fts(papers_paper_fts, rowid, title, abstract, authors)
      VALUES ('delete', {_row("old")});
      INSERT INTO papers_paper_fts(rowid, title, abstract, authors) VALUES ({_row("new")});
    END""",
    "INSERT INTO papers_paper_fts(rowid, title, abstract, authors) "
    f"SELECT {_row('papers_paper')} FROM papers_paper",
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS papers_paper_fts_update",
    "DROP TRIGGER IF EXISTS papers_paper_fts_delete",
    "DROP TRIGGER IF EXISTS papers_paper_fts_insert",
    "DROP TABLE IF EXISTS papers_paper_fts_vocab",
    "DROP TABLE IF EXISTS papers_paper_fts",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("papers", "0007_search_rum_index")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
