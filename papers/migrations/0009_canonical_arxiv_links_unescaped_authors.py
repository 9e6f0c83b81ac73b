"""Imported data as the importers now store it (issue 10).

- Authors are stored unescaped (lib.jsonfield.UnicodeJSONEncoder): on SQLite the rows
  written before are rewritten, so "Wübben" is searchable there too. PostgreSQL's jsonb
  never kept the escapes: nothing to do.
- arXiv abstract and PDF links take their canonical spelling, https://arxiv.org/abs/<id>
  and /pdf/<id> without version or ".pdf", whichever source stored them.
- Links that are not http(s) (`javascript:`, `data:`, ...) are emptied: the templates
  already refuse them, and they should not stay in the data.

The rules are copied here rather than imported, so this migration keeps doing what it did
whatever papers.identifiers becomes.
"""

import re

from django.db import migrations, models

import lib.jsonfield

HTTP_URL = re.compile(r"https?://[^\s/?#\\]+[^\s\\]*", re.IGNORECASE | re.ASCII)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
ARXIV_LINK = re.compile(
    r"https?://(?:www\.|export\.)?arxiv\.org/(abs|pdf)/"
    r"(\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?(?:\.pdf)?/?",
    re.IGNORECASE,
)


def clean_link(url: str) -> str:
    if not url:
        return url
    if not HTTP_URL.fullmatch(url) or CONTROL.search(url):
        return ""
    match = ARXIV_LINK.fullmatch(url)
    if match:
        return f"https://arxiv.org/{match.group(1).lower()}/{match.group(2)}"
    return url


def forward(apps, schema_editor):
    Paper = apps.get_model("papers", "Paper")
    sqlite = schema_editor.connection.vendor == "sqlite"
    rows = Paper.objects.values_list("pk", "abstract_url", "pdf_url", "authors")
    for pk, abstract_url, pdf_url, authors in rows.iterator(chunk_size=2000):
        changes = {}
        for name, value in (("abstract_url", abstract_url), ("pdf_url", pdf_url)):
            if clean_link(value) != value:
                changes[name] = clean_link(value)
        if sqlite and any(not name.isascii() for name in authors or [] if isinstance(name, str)):
            changes["authors"] = authors  # written again through the new encoder
        if changes:
            Paper.objects.filter(pk=pk).update(**changes)


class Migration(migrations.Migration):
    dependencies = [("papers", "0008_search_sqlite_fts5")]

    operations = [
        # The encoder changes no column: state only. (On SQLite a real AlterField rebuilds
        # the table, which drops the triggers that keep the FTS5 search index current.)
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="paper",
                    name="authors",
                    field=models.JSONField(
                        blank=True,
                        default=list,
                        encoder=lib.jsonfield.UnicodeJSONEncoder,
                        help_text="Author names, in order.",
                    ),
                ),
            ]
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
