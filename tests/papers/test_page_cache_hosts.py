"""A cached page or feed is kept per host: a feed first built for one allowed host
(its self link names the host) is never served to another."""

import pytest

from tests.factories import PaperFactory, TrendFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/"])
def test_a_feed_cached_for_one_host_is_not_served_to_another(client, settings, url):
    settings.ALLOWED_HOSTS = ["paperboy.example.org", "www.paperboy.example.org"]
    TrendFactory(paper=PaperFactory(title="Segment Anything"))

    first = client.get(url, HTTP_HOST="www.paperboy.example.org")
    second = client.get(url, HTTP_HOST="paperboy.example.org")
    again = client.get(url, HTTP_HOST="www.paperboy.example.org")

    assert b"//www.paperboy.example.org/feed/" in first.content
    assert b"//www.paperboy.example.org" not in second.content
    assert b"//paperboy.example.org/feed/" in second.content
    assert again.content == first.content  # still cached, per host


def test_a_page_cached_for_one_host_is_not_served_to_another(client, settings):
    settings.ALLOWED_HOSTS = ["a.example", "b.example"]
    from django.core.cache import cache

    from papers.cache import page_key

    client.get("/", HTTP_HOST="a.example")

    assert cache.get(page_key("html", "a.example", "/")) is not None
    assert cache.get(page_key("html", "b.example", "/")) is None
