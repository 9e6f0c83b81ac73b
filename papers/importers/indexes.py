"""Large imports build the papers' text indexes once at the end instead of row by row.

A row inserted into the RUM index of the search vector costs about 0.5 ms of the server's
time and 36 KB of WAL (RUM writes generic WAL records, whole page images): 250 s and
18 GB for half a million papers, more than everything else of the import together, and
each paper that gains code later is rewritten, so it goes into the index twice. Built in
one pass over the finished table (CREATE INDEX sorts instead), the same index takes
about a seventh of that time. The trigram indexes on titles and author keys are cheaper
per row, but the same holds for them.

So once an import has written more papers than the table held when it started (and at
least `after`), it drops these indexes and builds them again when it ends, whatever way
it ends. Meanwhile searches still find every paper, by scanning instead of through the
index (`search_index_path()` says "gin" then). A process killed meanwhile leaves them
missing: the next import of any size builds them first (`ensure`).
"""

from collections.abc import Callable

from django.db import connection, transaction

from papers.search import RUM_INDEX

GIN_INDEX = "paper_search_vector_gin"
# name -> definition, as migrations 0002, 0005 and 0007 create them.
TRIGRAM_INDEXES = {
    "paper_title_trgm": "CREATE INDEX IF NOT EXISTS paper_title_trgm "
    "ON papers_paper USING gin (title gin_trgm_ops)",
    "paper_author_keys_trgm": "CREATE INDEX IF NOT EXISTS paper_author_keys_trgm "
    "ON papers_paper USING gin (author_keys gin_trgm_ops)",
}
SEARCH_INDEXES = {
    RUM_INDEX: f"CREATE INDEX IF NOT EXISTS {RUM_INDEX} "
    "ON papers_paper USING rum (search_vector rum_tsvector_ops)",
    GIN_INDEX: f"CREATE INDEX IF NOT EXISTS {GIN_INDEX} ON papers_paper USING gin (search_vector)",
}
# Sorting half a million search vectors in memory instead of in temporary files.
BUILD_MEMORY = "512MB"


class DeferredIndexes:
    """The papers' text indexes of one import (PostgreSQL; elsewhere it does nothing)."""

    def __init__(self, *, after: int = 20_000, notify: Callable[[str], None] | None = None):
        self.after = after
        self.notify = notify or (lambda text: None)
        self.active = connection.vendor == "postgresql"
        self.dropped = False
        self.stored = 0
        if self.active:
            ensure(notify=self.notify)
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM papers_paper")
                self.stored = cursor.fetchone()[0]

    def refresh(self, *, written: int) -> None:
        """Drop the indexes once `written` papers outgrow what the table held."""
        if not self.active or self.dropped or written < max(self.after, self.stored):
            return
        with transaction.atomic(), connection.cursor() as cursor:
            for name in (*SEARCH_INDEXES, *TRIGRAM_INDEXES):
                cursor.execute(f"DROP INDEX IF EXISTS {name}")
        self.dropped = True
        self.notify(
            f"{written:,} papers written: the search indexes are dropped for the rest of "
            "the import and built again at its end."
        )

    def restore(self) -> None:
        if self.dropped:
            ensure(notify=self.notify)
            self.dropped = False


def ensure(*, notify: Callable[[str], None]) -> None:
    """Build whichever of the papers' text indexes is missing: the search-vector index
    (RUM where the extension is installed, as migration 0007 decides, GIN otherwise) and
    the trigram indexes."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_regclass(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL, "
            "EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'rum')",
            [RUM_INDEX, GIN_INDEX],
        )
        has_rum, has_gin, rum_installed = cursor.fetchone()
        missing = [
            definition for name, definition in TRIGRAM_INDEXES.items() if not _exists(cursor, name)
        ]
        if not has_rum and not has_gin:
            missing.insert(0, SEARCH_INDEXES[RUM_INDEX if rum_installed else GIN_INDEX])
    if not missing:
        return
    notify(f"Building {len(missing)} search index(es) of the papers...")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
        for definition in missing:
            cursor.execute(definition)


def _exists(cursor, name: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    return cursor.fetchone()[0]
