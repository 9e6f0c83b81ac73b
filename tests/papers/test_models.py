"""URLs of one slug (papers, topics, authors) built from a memoised prefix: the same URLs
reverse() gives, under any script prefix."""

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix

from papers.models import Paper, Topic, slug_url


@pytest.fixture
def script_prefix():
    yield set_script_prefix
    set_script_prefix("/")


def test_it_gives_the_urls_reverse_gives():
    assert Paper(slug="attention-2017").get_absolute_url() == reverse(
        "papers:detail", kwargs={"slug": "attention-2017"}
    )
    assert Topic(slug="cv").get_absolute_url() == reverse("papers:topic", kwargs={"slug": "cv"})
    assert slug_url("papers:author", "ada-lovelace") == reverse(
        "papers:author", kwargs={"slug": "ada-lovelace"}
    )


def test_it_follows_the_script_prefix_of_the_request(script_prefix):
    assert Paper(slug="p").get_absolute_url() == "/papers/p/"

    script_prefix("/site/")

    assert Paper(slug="p").get_absolute_url() == "/site/papers/p/"
    assert Paper(slug="p").author_links == []
    assert Paper(slug="p", authors=["Ada Lovelace"]).author_links == [
        ("Ada Lovelace", "/site/authors/ada-lovelace/")
    ]


def test_it_fails_as_reverse_does_for_a_slug_the_url_refuses():
    with pytest.raises(NoReverseMatch):
        Paper(slug="not a slug").get_absolute_url()
