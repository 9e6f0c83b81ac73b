import base64
import json

import pytest

from digests.models import Delivery, Edition
from subscriptions.models import Subscriber
from tests.digests.conftest import event_payload
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

URL = "/anymail/postmark/tracking/"
SECRET = "hook-user:hook-password"


@pytest.fixture(autouse=True)
def _webhook_secret(settings):
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "test-server-token", "WEBHOOK_SECRET": SECRET}


@pytest.fixture
def delivery():
    import datetime as dt

    subscriber = SubscriberFactory(email="reader@example.org")
    edition = Edition.objects.create(date=dt.date(2026, 11, 27), status=Edition.Status.SENT)
    return Delivery.objects.create(
        edition=edition,
        subscriber=subscriber,
        status=Delivery.Status.SENT,
        esp_message_id="883953f4-6105-42a2-a16a-77a8eac79483",
    )


def _post(client, body, *, auth=SECRET):
    headers = {}
    if auth:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return client.post(URL, data=json.dumps(body), content_type="application/json", **headers)


def _metadata(delivery):
    return {"Metadata": {"delivery_id": str(delivery.pk), "edition_id": str(delivery.edition_id)}}


@pytest.mark.parametrize("auth", [None, "hook-user:wrong-password"])
def test_it_rejects_calls_without_the_webhook_secret(client, delivery, auth):
    response = _post(client, event_payload("postmark_event_spam.json"), auth=auth)
    assert response.status_code in (400, 401, 403)
    delivery.subscriber.refresh_from_db()
    assert delivery.subscriber.status == Subscriber.Status.CONFIRMED


def test_it_suppresses_a_hard_bounce_at_once(client, delivery):
    response = _post(client, event_payload("postmark_event_bounce.json", **_metadata(delivery)))
    assert response.status_code == 200
    delivery.refresh_from_db()
    delivery.subscriber.refresh_from_db()
    assert delivery.subscriber.status == Subscriber.Status.BOUNCED
    assert delivery.bounced_at is not None
    assert Edition.objects.get().bounced_count == 1


def test_it_does_not_suppress_a_soft_bounce(client, delivery):
    assert _post(client, event_payload("postmark_event_soft_bounce.json")).status_code == 200
    delivery.subscriber.refresh_from_db()
    assert delivery.subscriber.status == Subscriber.Status.CONFIRMED


def test_it_suppresses_a_spam_complaint_matched_by_message_id(client, delivery):
    assert _post(client, event_payload("postmark_event_spam.json")).status_code == 200
    delivery.subscriber.refresh_from_db()
    assert delivery.subscriber.status == Subscriber.Status.COMPLAINED
    assert Edition.objects.get().complained_count == 1


def test_it_unsubscribes_on_an_esp_side_unsubscribe(client, delivery):
    body = event_payload("postmark_event_subscription_change.json")
    assert _post(client, body).status_code == 200
    delivery.subscriber.refresh_from_db()
    assert delivery.subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert delivery.subscriber.consents.get().source == "esp"


def test_it_counts_delivered_opened_and_clicked_per_delivery_and_edition(client, delivery):
    for name in ["delivery", "open", "open", "click"]:
        body = event_payload(f"postmark_event_{name}.json", **_metadata(delivery))
        assert _post(client, body).status_code == 200
    delivery.refresh_from_db()
    edition = Edition.objects.get()
    assert delivery.delivered_at and delivery.opened_at and delivery.clicked_at
    assert (delivery.open_count, delivery.click_count) == (2, 1)
    assert (edition.delivered_count, edition.opened_count, edition.clicked_count) == (1, 1, 1)


def test_it_accepts_events_for_unknown_messages_without_error(client, db):
    body = event_payload("postmark_event_open.json", MessageID="not-ours")
    assert _post(client, body).status_code == 200
