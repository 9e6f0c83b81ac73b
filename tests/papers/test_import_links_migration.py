"""Migration 0009: links stored before issue 10 take the importers' rules."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from papers.models import Paper
from tests.factories import PaperFactory

migration = importlib.import_module(
    "papers.migrations.0009_canonical_arxiv_links_unescaped_authors"
)


@pytest.mark.django_db
def test_it_canonicalises_arxiv_links_and_empties_script_links():
    arxiv = PaperFactory(arxiv_id="astro-ph/0601001")
    other = PaperFactory()
    Paper.objects.filter(pk=arxiv.pk).update(
        abstract_url="http://arxiv.org/abs/astro-ph/0601001v1",
        pdf_url="http://arxiv.org/pdf/astro-ph/0601001v1.pdf",
    )
    Paper.objects.filter(pk=other.pk).update(
        abstract_url="JavaScript:alert(document.domain)", pdf_url="https://example.org/x.pdf"
    )

    migration.forward(apps, SimpleNamespace(connection=connection))

    arxiv.refresh_from_db()
    other.refresh_from_db()
    assert (arxiv.abstract_url, arxiv.pdf_url) == (
        "https://arxiv.org/abs/astro-ph/0601001",
        "https://arxiv.org/pdf/astro-ph/0601001",
    )
    assert (other.abstract_url, other.pdf_url) == ("", "https://example.org/x.pdf")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://arxiv.org/abs/1706.03762v7", "https://arxiv.org/abs/1706.03762"),
        ("https://arxiv.org/pdf/1706.03762v4.pdf", "https://arxiv.org/pdf/1706.03762"),
        ("data:text/html,x", ""),
        (" javascript:alert(1)", ""),
        ("https://openreview.net/forum?id=x", "https://openreview.net/forum?id=x"),
        ("", ""),
    ],
)
def test_it_cleans_each_kind_of_stored_link(url, expected):
    assert migration.clean_link(url) == expected
