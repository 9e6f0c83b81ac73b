"""The `http_url` filter: the second line of defence for links taken from imported data,
on the paper page, the digest e-mail and the digest archive (paper cards link no outside
page)."""

import datetime

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from digests.rendering import PaperEntry
from papers.models import Paper, Repository
from papers.templatetags.papers_tags import http_url, time_tag
from tests.factories import PaperFactory, PaperRepositoryFactory

SCRIPT = "javascript:alert(document.domain)"
DATA_URL = "data:text/html,<script>alert(1)</script>"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://arxiv.org/abs/1706.03762", "https://arxiv.org/abs/1706.03762"),
        ("http://example.org", "http://example.org"),
        (SCRIPT, ""),
        ("JavaScript:alert(1)", ""),
        (" javascript:alert(1)", ""),
        ("\x0ejavascript:alert(1)", ""),
        (DATA_URL, ""),
        ("", ""),
        (None, ""),
    ],
)
def test_it_lets_only_http_links_through(value, expected):
    assert http_url(value) == expected


def _hostile_paper():
    """A paper whose stored links got past the importers (an old import, raw SQL)."""
    paper = PaperFactory()
    Paper.objects.filter(pk=paper.pk).update(abstract_url=SCRIPT, pdf_url=DATA_URL)
    repo = Repository.objects.create(url=SCRIPT, owner="evil", name="repo", stars=5)
    PaperRepositoryFactory(paper=paper, repository=repo)
    return paper


def _assert_no_script_links(html: str):
    assert "javascript:" not in html.lower()
    assert "data:text" not in html


@pytest.mark.django_db
def test_it_renders_no_script_link_on_the_paper_page(client):
    paper = _hostile_paper()

    html = client.get(paper.get_absolute_url()).content.decode()

    assert "evil/repo" in html  # the repository is still listed, without a working link
    _assert_no_script_links(html)


@pytest.mark.parametrize("template", ["emails/digest-body.html", "digests/edition_detail.html"])
def test_it_renders_no_script_link_in_digests(template):
    entry = PaperEntry(
        id=1,
        title="Hostile",
        url=SCRIPT,
        authors="A. Author",
        published_on=None,
        abstract="An abstract.",
        reason="",
        stars=5,
        code=((DATA_URL, "evil/repo", 5, True),),
    )

    context = {"entries": [entry], "subject": "Digest", "edition": "Daily digest"}
    html = render_to_string(template, context)

    assert "Hostile" in html and "evil/repo" in html
    _assert_no_script_links(html)


def test_it_writes_a_date_as_a_time_element_in_the_active_language():
    day = datetime.date(2026, 12, 1)

    assert time_tag(day) == '<time datetime="2026-12-01">1 Dec 2026</time>'
    assert time_tag(day, "j M") == '<time datetime="2026-12-01">1 Dec</time>'
    assert time_tag(None) == ""
    with translation.override("de"):
        # Memoised per language as well as per date: no English month in German.
        assert time_tag(day) == '<time datetime="2026-12-01">1 Dez 2026</time>'
