"""import_papers on third-party data that is hostile or broken (issue 10, points 1, 6-10):
script links, organisation links, versioned arXiv links, empty feeds, records the database
would refuse, and author names outside ASCII."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from papers.importers.base import PaperRecord, RepositoryRecord
from papers.importers.store import store_batch
from papers.models import Paper, Repository
from papers.services import ImportSummary, _import_item, papers_import_items

pytestmark = pytest.mark.django_db

HOSTILE_LINKS = [
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    " javascript:alert(1)",
    "\x01javascript:alert(1)",
    "vbscript:msgbox(1)",
    "//evil.example/x",
]


def _run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_papers", *map(str, args), "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _jsonl(tmp_path, *rows, name="papers.jsonl"):
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def _json(tmp_path, name, entries):
    path = tmp_path / name
    path.write_text("[\n" + ",\n".join(json.dumps(e) for e in entries) + "\n]\n")
    return path


# --- Point 1: http(s) links only ------------------------------------------------------------


@pytest.mark.parametrize("link", HOSTILE_LINKS)
def test_it_drops_a_link_that_is_not_http_and_still_imports_the_paper(tmp_path, link):
    path = _jsonl(
        tmp_path,
        {"title": "Hostile links", "abstract_url": link, "pdf_url": link},
        {"title": "A good neighbour", "abstract_url": "https://example.org/paper"},
    )

    out, err = _run(path)

    assert "2 created, 0 updated, 0 unchanged, 0 skipped" in out
    assert "2 bad field(s) dropped" in out
    assert "bad field papers.jsonl:1: abstract_url dropped:" in err
    assert "bad field papers.jsonl:1: pdf_url dropped:" in err
    paper = Paper.objects.get(title="Hostile links")
    assert (paper.abstract_url, paper.pdf_url) == ("", "")
    assert Paper.objects.get(title="A good neighbour").abstract_url == "https://example.org/paper"


def test_it_drops_script_links_from_the_papers_with_code_dump(tmp_path):
    path = _json(
        tmp_path,
        "papers-with-abstracts.json",
        [
            {
                "paper_url": "https://paperswithcode.com/paper/x",
                "arxiv_id": None,
                "title": "A PwC row with a script link",
                "abstract": "Nothing to see.",
                "url_abs": "JAVASCRIPT:alert(document.domain)",
                "url_pdf": "data:text/html,<script>alert(1)</script>",
                "authors": [],
                "date": "2024-01-02",
            }
        ],
    )

    out, err = _run(path)

    assert "1 created" in out
    assert "bad field papers-with-abstracts.json:2: entry 1: abstract_url dropped" in err
    assert "bad field papers-with-abstracts.json:2: entry 1: pdf_url dropped" in err
    paper = Paper.objects.get()
    assert (paper.abstract_url, paper.pdf_url) == ("", "")


def test_it_drops_a_code_link_that_is_not_a_repository_and_keeps_the_others(tmp_path):
    path = _jsonl(
        tmp_path,
        {
            "title": "Two links",
            "repositories": ["javascript:alert(1)//github.com/a/b", "https://github.com/good/repo"],
        },
    )

    out, err = _run(path)

    assert "1 created" in out
    assert "code link dropped" in err
    assert list(Repository.objects.values_list("url", flat=True)) == [
        "https://github.com/good/repo"
    ]


# --- Point 6: a Hugging Face githubRepo naming an organisation ------------------------------


def _hf_entry(arxiv_id, title, **paper):
    return {
        "paper": {
            "id": arxiv_id,
            "title": title,
            "summary": "An abstract.",
            "authors": [{"name": "A. Author"}],
            "publishedAt": "2024-11-15T18:58:31.000Z",
            **paper,
        },
        "title": title,
    }


def test_it_imports_a_hugging_face_paper_whose_github_repo_is_an_organisation(tmp_path):
    path = _json(
        tmp_path,
        "hf.json",
        [
            _hf_entry("2411.00001", "Organisation link", githubRepo="https://github.com/SomeOrg"),
            _hf_entry("2411.00002", "Repository link", githubRepo="https://github.com/a/b"),
        ],
    )

    out, err = _run(path)

    assert "2 created, 0 updated, 0 unchanged, 0 skipped" in out
    assert "bad field hf.json:2: entry 1: code link dropped: 'https://github.com/SomeOrg'" in err
    assert not Paper.objects.get(arxiv_id="2411.00001").has_code
    assert Paper.objects.get(arxiv_id="2411.00002").has_code


# --- Point 7: canonical arXiv links ---------------------------------------------------------

OLD_STYLE_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>ArXiv Query: id_list=astro-ph/0601001</title>
  <entry>
    <id>http://arxiv.org/abs/astro-ph/0601001v1</id>
    <published>2006-01-01T00:00:00Z</published>
    <title>An old-style identifier</title>
    <summary>Abstract.</summary>
    <author><name>A. Astronomer</name></author>
    <link href="http://arxiv.org/abs/astro-ph/0601001v1" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/astro-ph/0601001v1" rel="related"/>
  </entry>
</feed>
"""


def test_it_stores_arxiv_links_without_version_for_old_style_ids(tmp_path):
    path = tmp_path / "old.atom"
    path.write_text(OLD_STYLE_FEED)

    _run(path)

    paper = Paper.objects.get(arxiv_id="astro-ph/0601001")
    assert paper.abstract_url == "https://arxiv.org/abs/astro-ph/0601001"
    assert paper.pdf_url == "https://arxiv.org/pdf/astro-ph/0601001"


def test_it_stores_canonical_arxiv_links_from_papers_with_code(tmp_path):
    path = _json(
        tmp_path,
        "papers-with-abstracts.json",
        [
            {
                "paper_url": "https://paperswithcode.com/paper/attention",
                "arxiv_id": "1706.03762",
                "title": "Attention Is All You Need",
                "abstract": "Transformers.",
                "url_abs": "http://arxiv.org/abs/1706.03762v4",
                "url_pdf": "http://arxiv.org/pdf/1706.03762v4.pdf",
                "authors": [],
                "date": "2017-06-12",
            }
        ],
    )

    _run(path)

    paper = Paper.objects.get()
    assert paper.abstract_url == "https://arxiv.org/abs/1706.03762"
    assert paper.pdf_url == "https://arxiv.org/pdf/1706.03762"


# --- Point 8: a valid feed with no entries -------------------------------------------------

EMPTY_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="html">ArXiv Query: search_query=cat:nothing.here</title>
  <id>http://arxiv.org/api/x</id>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:totalResults>
</feed>
"""


def test_it_exits_0_and_says_so_on_an_arxiv_feed_with_no_entries(tmp_path):
    path = tmp_path / "empty.atom"
    path.write_text(EMPTY_FEED)

    out, _ = _run(path)  # raises CommandError (exit 1) if it fails

    assert "0 created, 0 updated, 0 unchanged, 0 skipped" in out
    assert "no records" in out


def test_it_still_fails_when_no_file_could_be_read(tmp_path):
    path = tmp_path / "broken.atom"
    path.write_text("<feed")

    with pytest.raises(CommandError, match="nothing could be read"):
        _run(path)


# --- Point 9: one bad record is reported by file and line, the rest imported --------------


def test_it_reports_bad_jsonl_records_by_line_and_imports_the_rest(tmp_path):
    path = _jsonl(
        tmp_path,
        {"title": "Good one"},
        {"title": "A NUL\x00 in the title"},
        {"title": "NUL category", "categories": ["cs.LG", "cs\x00.AI"]},
        '{"title": "Too many stars", "repositories": [{"url": "https://github.com/a/b", '
        '"stars": 99999999999999999999}]}',
        {"title": "Good two"},
    )

    out, err = _run(path)

    assert "2 created, 0 updated, 0 unchanged, 3 skipped" in out
    assert "skipped papers.jsonl:2: title contains a NUL character" in err
    assert "skipped papers.jsonl:3: categories contains a NUL character" in err
    assert "skipped papers.jsonl:4: repository stars 99999999999999999999 is out of range" in err
    assert set(Paper.objects.values_list("title", flat=True)) == {"Good one", "Good two"}


def test_it_reports_a_bad_entry_of_a_json_dump_by_line_and_imports_the_rest(tmp_path):
    path = _json(
        tmp_path,
        "hf.json",
        [
            _hf_entry("2411.00001", "Good one"),
            _hf_entry("2411.00002", "Bad\x00title"),
            _hf_entry(
                "2411.00003",
                "Stars beyond any count",
                githubRepo="https://github.com/a/b",
                githubStars=99999999999999999999,
            ),
        ],
    )

    out, err = _run(path)

    assert "2 created, 0 updated, 0 unchanged, 1 skipped" in out
    assert "skipped hf.json:3: entry 2: title contains a NUL character" in err
    assert "bad field hf.json:4: entry 3: githubStars 99999999999999999999 dropped" in err
    assert Repository.objects.get().stars == 0


def test_it_skips_a_record_the_database_refuses_without_losing_its_neighbours():
    # Whatever slips past the readers' checks: the record is reported, its savepoint
    # rolled back, and the records around it are kept.
    records = [
        PaperRecord(source="jsonl", location="a:1", title="Before"),
        PaperRecord(
            source="jsonl",
            location="a:2",
            title="Overflowing",
            repositories=[
                RepositoryRecord(url="https://github.com/a/b", owner="a", name="b", stars=2**70)
            ],
        ),
        PaperRecord(source="jsonl", location="a:3", title="After"),
    ]

    summary = papers_import_items(items=records, status=Paper.Status.PUBLISHED)

    assert summary.created == 2
    assert [(s.location, s.reason.split(" (")[0]) for s in summary.skipped] == [
        ("a:2", "the database refused it")
    ]
    assert set(Paper.objects.values_list("title", flat=True)) == {"Before", "After"}


def test_it_skips_a_refused_record_of_a_bulk_batch_and_keeps_the_rest():
    summary = ImportSummary()
    batch = [
        PaperRecord(source="jsonl", location="b:1", title="Bulk before"),
        PaperRecord(
            source="jsonl",
            location="b:2",
            title="Bulk overflowing",
            repositories=[
                RepositoryRecord(url="https://github.com/c/d", owner="c", name="d", stars=2**70)
            ],
        ),
        PaperRecord(source="jsonl", location="b:3", title="Bulk after"),
    ]

    store_batch(
        batch,
        status=Paper.Status.PUBLISHED,
        summary=summary,
        one_by_one=lambda item: _import_item(item, status=Paper.Status.PUBLISHED, summary=summary),
    )

    assert summary.created == 2
    assert [s.location for s in summary.skipped] == ["b:2"]
    assert set(Paper.objects.values_list("title", flat=True)) == {"Bulk before", "Bulk after"}


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="SQLite ignores lengths")
def test_it_skips_a_record_the_papers_bulk_insert_refuses_and_keeps_the_rest():
    summary = ImportSummary()
    batch = [
        PaperRecord(source="jsonl", location="c:1", title="Insert before"),
        # Past the readers' checks (built directly): longer than the DOI column.
        PaperRecord(source="jsonl", location="c:2", title="Insert refused", doi="1" * 300),
        PaperRecord(source="jsonl", location="c:3", title="Insert after"),
    ]

    store_batch(
        batch,
        status=Paper.Status.PUBLISHED,
        summary=summary,
        one_by_one=lambda item: _import_item(item, status=Paper.Status.PUBLISHED, summary=summary),
    )

    assert [s.location for s in summary.skipped] == ["c:2"]
    assert set(Paper.objects.values_list("title", flat=True)) == {"Insert before", "Insert after"}


# --- Point 10: authors outside ASCII are searchable on SQLite -----------------------------

NAMES = ["Dirk Wübben", "Hervé Jégou", "Gerhard Schröder"]


def test_it_stores_author_names_unescaped():
    encoder = Paper._meta.get_field("authors").encoder
    assert json.dumps(NAMES, cls=encoder) == json.dumps(NAMES, ensure_ascii=False)


def test_it_finds_authors_with_non_ascii_names(tmp_path):
    _run(_jsonl(tmp_path, {"title": "Lattice decoding", "authors": NAMES}))

    with connection.cursor() as cursor:
        cursor.execute("SELECT CAST(authors AS TEXT) FROM papers_paper")
        (stored,) = cursor.fetchone()
    assert "Wübben" in stored and "\\u00fc" not in stored
    for query in ("Wübben", "Jégou", "Schröder"):
        assert list(Paper.objects.search(query).values_list("title", flat=True)) == [
            "Lattice decoding"
        ], query
