"""The bulk path of import_papers at migration scale: text indexes built once at the end,
and bulk-inserted papers identical to saved ones where pages look them up."""

import json

import pytest
from django.core.management import call_command
from django.db import connection

from papers.importers import indexes
from papers.models import Paper
from papers.services import papers_import
from tests.factories import PaperFactory

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="index DDL is PostgreSQL's"
)


def _dump(tmp_path, count, *, start=0):
    path = tmp_path / f"papers-with-abstracts-{start}.json"
    entries = [
        {
            "paper_url": f"https://paperswithcode.com/paper/p{n}",
            "title": f"Sparse lattice decoding part {n}",
            "abstract": f"We decode lattices, part {n}.",
            "authors": ["Dirk Wübben", "Hervé Jégou"],
        }
        for n in range(start, start + count)
    ]
    path.write_text(json.dumps(entries))
    return path


def _text_indexes() -> set[str]:
    names = [*indexes.SEARCH_INDEXES, *indexes.TRIGRAM_INDEXES]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'papers_paper' "
            "AND indexname = ANY(%s)",
            [names],
        )
        return {name for (name,) in cursor.fetchall()}


def test_it_lists_bulk_imported_papers_on_their_authors_pages(tmp_path):
    papers_import(paths=[_dump(tmp_path, 3)])

    assert Paper.objects.count() == 3
    assert Paper.objects.by_author("dirk-wubben").count() == 3
    assert Paper.objects.by_author("herve-jegou").count() == 3


@postgres_only
def test_it_builds_the_text_indexes_once_at_the_end_of_a_large_import(tmp_path, monkeypatch):
    monkeypatch.setattr("papers.services.IMPORT_BATCH", 2)
    monkeypatch.setattr("papers.services.IMPORT_DEFER_INDEXES", 2)
    before = _text_indexes()
    assert len(before) == 3  # the search vector's (RUM or GIN) and two trigram indexes
    dropped = []

    def notify(text):
        dropped.append(_text_indexes())

    summary = papers_import(paths=[_dump(tmp_path, 6)], notify=notify)

    assert summary.created == 6
    assert set() in dropped  # the rest of the import ran without them
    assert _text_indexes() == before
    assert Paper.objects.search("lattices").count() == 6
    assert Paper.objects.similar_titles("Sparse latice decodng part 4")


@postgres_only
def test_it_builds_the_text_indexes_again_when_the_import_fails(tmp_path, monkeypatch):
    monkeypatch.setattr("papers.services.IMPORT_BATCH", 2)
    monkeypatch.setattr("papers.services.IMPORT_DEFER_INDEXES", 2)
    before = _text_indexes()
    calls = []
    real_store_batch = papers_import.__globals__["store_batch"]

    def failing_store_batch(batch, **kwargs):
        calls.append(batch)
        if len(calls) == 3:
            raise RuntimeError("the machine went away")
        real_store_batch(batch, **kwargs)

    monkeypatch.setattr("papers.services.store_batch", failing_store_batch)

    with pytest.raises(RuntimeError):
        papers_import(paths=[_dump(tmp_path, 6)])

    assert _text_indexes() == before


@postgres_only
def test_it_builds_missing_text_indexes_before_it_imports(tmp_path):
    before = _text_indexes()
    with connection.cursor() as cursor:
        for name in before:
            cursor.execute(f"DROP INDEX {name}")  # as a killed import leaves them

    papers_import(paths=[_dump(tmp_path, 1)])

    assert _text_indexes() == before


@postgres_only
def test_it_keeps_the_indexes_when_the_import_is_small_beside_the_table(tmp_path, monkeypatch):
    monkeypatch.setattr("papers.services.IMPORT_BATCH", 2)
    monkeypatch.setattr("papers.services.IMPORT_DEFER_INDEXES", 2)
    PaperFactory.create_batch(10)
    before = _text_indexes()
    seen = []

    papers_import(paths=[_dump(tmp_path, 6)], notify=lambda text: seen.append(_text_indexes()))

    assert seen == [before]  # the one line: trending scores, with every index in place


def test_it_writes_the_new_papers_of_a_dump_in_bulk(tmp_path, monkeypatch):
    def one_at_a_time(**kwargs):
        raise AssertionError("a new paper of a dump went through the per-record path")

    monkeypatch.setattr("papers.services._paper_create", one_at_a_time)
    path = tmp_path / "papers.jsonl"
    path.write_text(
        json.dumps({"title": "Empty lists", "authors": [], "categories": []})
        + "\n"
        + json.dumps({"title": 'Quotes " and {braces}, [brackets]', "authors": ["A, B"]})
        + "\n"
    )

    summary = papers_import(paths=[path, _dump(tmp_path, 2)])

    assert summary.created == 4
    assert Paper.objects.get(title__startswith="Quotes").authors == ["A, B"]


@postgres_only
def test_the_command_says_when_it_drops_and_builds_the_indexes(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("papers.services.IMPORT_BATCH", 2)
    monkeypatch.setattr("papers.services.IMPORT_DEFER_INDEXES", 2)

    call_command("import_papers", str(_dump(tmp_path, 6)))

    err = capsys.readouterr().err
    assert "2 papers written: the search indexes are dropped" in err
    assert "Building 3 search index(es) of the papers..." in err
    assert "Recomputing the trending scores..." in err
