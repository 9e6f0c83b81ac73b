"""The reader's private feed of their own digests."""

import datetime as dt
import json
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from digests import tokens
from digests.models import Delivery, Edition, EditionPaper, ReaderSignal
from digests.services import reader
from subscriptions import tokens as subscription_tokens
from tests.factories import PaperFactory, SubscriberFactory

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def _path(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1]


@pytest.fixture
def digest():
    subscriber = SubscriberFactory()
    papers = [PaperFactory(title="Second <b>bold</b> & co"), PaperFactory(title="First paper")]
    edition = Edition.objects.create(date=dt.date(2026, 12, 1), status=Edition.Status.SENT)
    for position, paper in enumerate(papers, start=1):
        EditionPaper.objects.create(
            edition=edition, paper=paper, position=position, reason=f"+{position} stars in 24 h"
        )
    Delivery.objects.create(
        edition=edition,
        subscriber=subscriber,
        status=Delivery.Status.SENT,
        sent_at=timezone.now(),
        paper_ids=[papers[1].pk, papers[0].pk],  # the reader's own order
        reasons=["Because you saved Something", ""],
    )
    feed = reader.reader_feed_get(subscriber=subscriber)
    urls = {
        k: v.split("://", 1)[1].split("/", 1)[1] for k, v in tokens.reader_feed_urls(feed).items()
    }
    return {"subscriber": subscriber, "papers": papers, "urls": urls, "feed": feed}


def test_the_atom_feed_has_the_readers_papers_order_and_reasons(client, digest):
    response = client.get("/" + digest["urls"]["atom"])

    assert response.status_code == 200
    entry = ET.fromstring(response.content).find(f"{ATOM}entry")
    html = entry.find(f"{ATOM}summary").text
    assert html.index("First paper") < html.index("Second &lt;b&gt;bold&lt;/b&gt; &amp; co")
    assert "Because you saved Something · +2 stars in 24 h" in html
    assert "+1 stars in 24 h" in html


def test_the_json_feed_matches_the_atom_feed(client, digest):
    body = json.loads(client.get("/" + digest["urls"]["json"]).content)

    assert body["version"] == "https://jsonfeed.org/version/1.1"
    papers = body["items"][0]["_paperboy"]["papers"]
    assert [p["title"] for p in papers] == ["First paper", "Second <b>bold</b> & co"]
    assert [p["why_for_you"] for p in papers] == ["Because you saved Something", ""]


def test_fetching_the_feed_records_nothing(client, digest):
    client.get("/" + digest["urls"]["atom"])
    client.get("/" + digest["urls"]["json"])

    assert not ReaderSignal.objects.exists()


def test_a_click_through_counts_as_reading_but_never_over_a_signal(client, digest):
    first, second = digest["papers"][1], digest["papers"][0]
    ReaderSignal.objects.create(subscriber=digest["subscriber"], paper=second, kind="less")
    token = digest["urls"]["atom"].split("/")[2]

    response = client.get(f"/digests/me/{token}/read/{first.pk}/")
    client.get(f"/digests/me/{token}/read/{second.pk}/")

    assert response["Location"] == first.get_absolute_url()
    kinds = dict(ReaderSignal.objects.values_list("paper_id", "kind"))
    assert kinds == {first.pk: "read", second.pk: "less"}


def test_a_new_address_revokes_the_old_one(client, digest):
    old = "/" + digest["urls"]["atom"]
    manage = subscription_tokens.make_token(digest["subscriber"], subscription_tokens.MANAGE)

    client.post(f"/digests/feed-settings/{manage}/", {"action": "rotate"})

    assert client.get(old).status_code == 400
    feed = reader.reader_feed_get(subscriber=digest["subscriber"])
    new = _path(tokens.reader_feed_urls(feed)["atom"])
    assert client.get("/" + new).status_code == 200


def test_feed_only_is_set_from_the_preference_centre(client, digest):
    manage = subscription_tokens.make_token(digest["subscriber"], subscription_tokens.MANAGE)

    client.post(f"/digests/feed-settings/{manage}/", {"action": "feed_only"})

    assert reader.reader_feed_get(subscriber=digest["subscriber"]).feed_only is True
    page = client.get(f"/preferences/{manage}/").content.decode()
    assert "Feed only: no digest e-mails are sent to you." in page


@pytest.mark.parametrize("token", ["nope", "forged-manage"])
def test_a_forged_feed_or_settings_token_changes_nothing(client, digest, token):
    if token == "forged-manage":
        token = subscription_tokens.make_token(
            digest["subscriber"], subscription_tokens.UNSUBSCRIBE
        )
    key = digest["feed"].key

    assert client.get(f"/digests/me/{token}/atom/").status_code == 400
    assert client.post(f"/digests/feed-settings/{token}/", {"action": "rotate"}).status_code == 400
    digest["feed"].refresh_from_db()
    assert digest["feed"].key == key


def test_updates_by_email_are_chosen_from_the_preference_centre(client, digest):
    from digests.models import ReaderUpdates

    manage = subscription_tokens.make_token(digest["subscriber"], subscription_tokens.MANAGE)
    page = client.get(f"/preferences/{manage}/").content.decode()
    assert "your next digest says so" in page

    client.post(f"/digests/feed-settings/{manage}/", {"action": "updates_email"})

    assert ReaderUpdates.objects.get(subscriber=digest["subscriber"]).by_email is True
    assert (
        "you get an e-mail as it happens" in client.get(f"/preferences/{manage}/").content.decode()
    )
