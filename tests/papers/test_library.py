"""The reader's library: save, remove, import (arXiv list, BibTeX, Zotero CSV), export."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from papers import library
from papers.models import LibraryItem
from tests.factories import PaperFactory, UserFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data" / "library"


@pytest.fixture
def papers():
    return {
        "attention": PaperFactory(arxiv_id="1706.03762", title="Attention Is All You Need", doi=""),
        "resnet": PaperFactory(
            arxiv_id=None,
            title="Deep Residual Learning for Image Recognition",
            doi="10.1109/CVPR.2016.90",
        ),
        "other": PaperFactory(title="Something Else Entirely"),
    }


@pytest.fixture
def reader(client):
    user = UserFactory()
    client.force_login(user)
    return user


def test_it_imports_a_zotero_bibtex_export_matching_by_arxiv_id_then_doi(papers, reader):
    report = library.library_import(
        user=reader, data=(DATA / "zotero.bib").read_bytes(), fmt="bibtex"
    )

    assert [paper for _, paper in report.matched] == [papers["attention"], papers["resnet"]]
    assert [e.title for e in report.unmatched] == ["A Survey of Things Nobody Imported"]
    assert [line for line, _ in report.skipped] == [37]  # the truncated entry, by its line
    items = LibraryItem.objects.filter(user=reader).order_by("pk")
    assert [(i.paper, i.origin) for i in items] == [
        (papers["attention"], "imported"),
        (papers["resnet"], "imported"),
        (None, "imported"),
    ]
    assert items[2].title == "A Survey of Things Nobody Imported"


def test_it_imports_a_zotero_csv_export(papers, reader):
    report = library.library_import(
        user=reader, data=(DATA / "zotero.csv").read_bytes(), fmt="zotero_csv"
    )

    assert {paper.pk for _, paper in report.matched} == {
        papers["attention"].pk,
        papers["resnet"].pk,
    }
    assert len(report.unmatched) == 1
    assert report.skipped == [(5, "row has no title, arXiv id or DOI")]


def test_it_matches_by_normalised_title_when_there_is_no_identifier(papers, reader):
    report = library.library_import(
        user=reader,
        data='Key,Title\nK1,"deep residual learning for image recognition."\n',
        fmt="zotero_csv",
    )

    assert [paper for _, paper in report.matched] == [papers["resnet"]]


def test_it_imports_a_list_of_arxiv_ids_and_urls_and_reports_the_rest(papers, reader):
    text = "https://arxiv.org/abs/1706.03762v5\n# a comment\n\nnot an id\n2101.99999\n"

    report = library.library_import(user=reader, data=text, fmt="arxiv")

    assert [paper for _, paper in report.matched] == [papers["attention"]]
    assert [e.arxiv_id for e in report.unmatched] == ["2101.99999"]
    assert report.skipped == [(4, "not an arXiv id or URL: 'not an id'")]


def test_importing_twice_adds_nothing_the_second_time(papers, reader):
    data = (DATA / "zotero.bib").read_bytes()
    library.library_import(user=reader, data=data, fmt="bibtex")

    again = library.library_import(user=reader, data=data, fmt="bibtex")

    assert again.already == 3
    assert LibraryItem.objects.filter(user=reader).count() == 3


@pytest.mark.parametrize(
    ("data", "fmt", "message"),
    [
        (b"\x00\x01\x02\xff\xfe\x00", "bibtex", "not text"),
        ("Name,Email\nx,y\n", "zotero_csv", "no Title column"),
        ("", "arxiv", "no references"),
        ("Key,Title\nK1,A title with a NUL \x00 in it\n", "zotero_csv", "control characters"),
    ],
)
def test_an_unreadable_file_is_refused_as_a_whole(reader, data, fmt, message):
    with pytest.raises(library.LibraryImportError, match=message):
        library.library_import(user=reader, data=data, fmt=fmt)
    assert not LibraryItem.objects.exists()


def test_the_library_page_imports_an_upload_and_shows_the_report(client, papers, reader):
    upload = SimpleUploadedFile("my.bib", (DATA / "zotero.bib").read_bytes())

    response = client.post("/library/", {"format": "bibtex", "file": upload})

    page = response.content.decode()
    assert response.status_code == 200
    assert "<strong>2 matched</strong>" in page
    assert "<strong>1 not on Paperboy</strong>" in page
    assert "A Survey of Things Nobody Imported" in page


def test_the_library_page_explains_a_bad_file_without_failing(client, reader):
    upload = SimpleUploadedFile("x.csv", b"Name\nx\n")

    response = client.post("/library/", {"format": "zotero_csv", "file": upload})

    assert response.status_code == 400
    assert "no Title column" in response.content.decode()


def test_save_is_a_post_and_get_only_asks(client, papers, reader):
    paper = papers["other"]

    asked = client.get(f"/library/save/{paper.pk}/")
    assert asked.status_code == 200
    assert not LibraryItem.objects.exists()

    client.post(f"/library/save/{paper.pk}/", {"next": "/library/"})
    client.post(f"/library/save/{paper.pk}/")  # idempotent
    assert list(LibraryItem.objects.values_list("paper", "origin")) == [(paper.pk, "saved")]

    client.post(f"/library/remove/{paper.pk}/")
    assert not LibraryItem.objects.exists()


def test_the_paper_page_shows_saved_for_a_saved_paper(client, papers, reader):
    paper = papers["other"]
    library.library_save(user=reader, paper=paper)

    page = client.get(paper.get_absolute_url()).content.decode()

    assert 'aria-pressed="true">Saved' in page


def test_the_library_needs_a_signed_in_reader(client, papers):
    assert client.get("/library/").status_code == 302
    response = client.post(f"/library/save/{papers['other'].pk}/")
    assert response.status_code == 302
    assert not LibraryItem.objects.exists()


def test_save_refuses_a_redirect_to_another_site(client, papers, reader):
    response = client.post(
        f"/library/save/{papers['other'].pk}/", {"next": "https://evil.example/"}
    )

    assert response["Location"] == papers["other"].get_absolute_url()


def test_the_bibtex_export_round_trips_through_the_import(client, papers, reader):
    library.library_save(user=reader, paper=papers["attention"])
    library.library_save(user=reader, paper=papers["resnet"])

    exported = client.get("/library/export.bib")
    assert exported["Content-Type"].startswith("application/x-bibtex")
    other = UserFactory()
    report = library.library_import(user=other, data=exported.content, fmt="bibtex")

    assert {p.pk for _, p in report.matched} == {papers["attention"].pk, papers["resnet"].pk}
    assert "eprint = {1706.03762}" in exported.content.decode()
