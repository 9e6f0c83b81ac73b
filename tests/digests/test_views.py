import datetime as dt
import re

import pytest

from digests.models import Delivery, Edition, Kind
from digests.services import edition_get_or_compose
from tests.digests.conftest import POSTMARK, make_trending, postmark_ok, send_to, sent_payloads
from tests.factories import SubscriberFactory

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


def test_it_escapes_titles_and_abstracts_on_the_archive_page(client):
    make_trending(
        2,
        title="Attention <script>alert(1)</script> & <b>bold</b>",
        abstract="x < y & <i>z</i>",
    )
    edition, _ = edition_get_or_compose(day=dt.date(2026, 11, 27), kind=Kind.DAILY)
    Edition.objects.update(status=Edition.Status.SENT)
    page = client.get(edition.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in page and "<b>bold" not in page and "<i>z" not in page
    assert "Attention &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt; 0" in page
    assert "x &lt; y &amp; &lt;i&gt;z&lt;/i&gt;" in page


def _web_link(payload) -> str:
    return re.search(r'href="(http[^"]+/digests/mine/[^"]+)"', payload["HtmlBody"])[1]


def test_it_opens_each_readers_own_digest_from_the_link_in_it(client, postmark):
    papers = make_trending(12, title="Ranked")
    edition, _ = edition_get_or_compose(day=dt.date(2026, 11, 27), kind=Kind.DAILY)
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    five = SubscriberFactory(papers_per_email=5, email="five@example.org")
    picky = SubscriberFactory(keywords_exclude=["ranked 0", "ranked 2"], email="picky@example.org")
    send_to(edition, five, picky)
    links = {p["To"]: _web_link(p) for p in sent_payloads(postmark)}
    assert links[five.email] in sent_payloads(postmark)[0]["TextBody"]

    for reader, expected in (
        (five, papers[:5]),
        (picky, [p for i, p in enumerate(papers) if i not in (0, 2)][:10]),
    ):
        page = client.get(links[reader.email].split("8000", 1)[-1].split("testserver", 1)[-1])
        assert page.status_code == 200  # no login
        html = page.content.decode()
        shown = re.findall(r'paper-card__title"><a href="[^"]+">([^<]+)</a>', html)
        assert shown == [p.title for p in expected]
        assert page["X-Robots-Tag"] == "noindex"


def test_it_refuses_a_tampered_web_link(client, postmark):
    make_trending(3)
    edition, _ = edition_get_or_compose(day=dt.date(2026, 11, 27), kind=Kind.DAILY)
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    send_to(edition, SubscriberFactory())
    delivery = Delivery.objects.get()
    assert client.get(f"/digests/mine/{delivery.pk}:forged/").status_code == 404
    assert client.get(f"/digests/mine/{delivery.pk + 1}/").status_code == 404
