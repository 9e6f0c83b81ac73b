import datetime as dt

import pytest

from digests.models import Edition, Kind
from digests.services import edition_get_or_compose
from tests.digests.conftest import make_trending

pytestmark = pytest.mark.django_db


@pytest.fixture
def editions():
    make_trending(4, title="Archived paper")
    older, _ = edition_get_or_compose(day=dt.date(2026, 11, 26), kind=Kind.DAILY)
    newer, _ = edition_get_or_compose(day=dt.date(2026, 11, 27), kind=Kind.DAILY)
    Edition.objects.update(status=Edition.Status.SENT)
    return older, newer


def test_it_lists_editions_newest_first(client, editions):
    older, newer = editions
    page = client.get("/digests/").content.decode()
    assert page.index(newer.get_absolute_url()) < page.index(older.get_absolute_url())


def test_it_hides_editions_still_composing(client, editions):
    Edition.objects.filter(pk=editions[0].pk).update(status=Edition.Status.COMPOSING)
    assert editions[0].get_absolute_url() not in client.get("/digests/").content.decode()
    assert client.get(editions[0].get_absolute_url()).status_code == 404


def test_it_shows_an_edition_at_its_permanent_url_without_personal_links(client, editions):
    response = client.get("/digests/daily/2026-11-27/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Archived paper 0" in page and "+50 stars in 24 h" in page
    assert "/unsubscribe/" not in page and "/preferences/" not in page


@pytest.mark.parametrize(
    "url",
    ["/digests/daily/27-11-2026/", "/digests/monthly/2026-11-27/", "/digests/daily/2026-02-30/"],
)
def test_it_answers_404_to_bad_addresses(client, editions, url):
    assert client.get(url).status_code == 404


def test_it_survives_a_bad_page_number(client, editions):
    assert client.get("/digests/?page=x").status_code == 200


def test_it_publishes_an_atom_feed(client, editions):
    response = client.get("/digests/feed/")
    body = response.content.decode()
    assert response["Content-Type"].startswith("application/atom+xml")
    assert body.count("<entry>") == 2
    assert "Trending papers, 27 Nov: Archived paper 0" in body
    assert "http://testserver/digests/daily/2026-11-27/" in body
