"""No path answers 500 to what a visitor can type or forge.

Every public URL is requested with the inputs that usually break Django sites on
PostgreSQL: NUL bytes (which PostgreSQL refuses in text), overlong strings, markup,
malformed dates and numbers, and forged tokens.
"""

import pytest

from tests.factories import PaperFactory, TopicFactory

pytestmark = pytest.mark.django_db

HOSTILE = [
    "",
    "\x00",
    "a\x00b",
    "x" * 5000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\"'();:&|!*",
    "ünïcødé ☃ \U0001d518",
    "%00%ff",
    "-1",
    "99999999999999999999",
]


@pytest.fixture
def site_data():
    topic = TopicFactory(slug="vision", name="Vision")
    paper = PaperFactory(slug="a-paper")
    paper.topics.add(topic)


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(
    "path, param",
    [
        ("/", "window"),
        ("/", "page"),
        ("/latest/", "page"),
        ("/search/", "q"),
        ("/search/", "topic"),
        ("/search/", "code"),
        ("/search/", "from"),
        ("/search/", "to"),
        ("/search/", "page"),
        ("/topics/vision/", "window"),
        ("/topics/vision/", "page"),
        ("/feed/", "window"),
        ("/digests/", "page"),
        ("/subscribe/", "source"),
    ],
)
def test_it_never_answers_500_to_query_strings(client, site_data, path, param, value):
    response = client.get(path, {param: value})

    assert response.status_code < 500


@pytest.mark.parametrize("value", HOSTILE)
def test_it_never_answers_500_to_forged_tokens(client, value):
    token = value.replace("/", "") or "x"
    for path in ("/confirm/{}/", "/preferences/{}/", "/unsubscribe/{}/"):
        url = path.format(token) if "\x00" not in token else path.format("x%00y")
        assert client.get(url).status_code < 500
        assert client.post(url, {"List-Unsubscribe": "One-Click"}).status_code < 500


@pytest.mark.parametrize("value", HOSTILE)
def test_it_never_answers_500_to_the_banner_form(client, value):
    response = client.post("/subscribe/", {"email": value, "source": value, "timezone": value})

    assert response.status_code < 500


@pytest.mark.parametrize(
    "path",
    [
        "/digests/daily/2026-13-45/",
        "/digests/hourly/2026-11-27/",
        "/digests/daily/x%00/",
        "/papers/no-such-paper/",
        "/topics/no-such-topic/",
        "/topics/no-such-topic/feed/",
    ],
)
def test_it_answers_404_to_unknown_pages(client, path):
    assert client.get(path).status_code == 404
