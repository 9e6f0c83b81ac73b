import base64
import json
import logging

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


def test_it_accepts_events_for_unknown_messages_and_changes_nothing(client, delivery, caplog):
    body = event_payload("postmark_event_open.json", MessageID="not-ours")

    with caplog.at_level(logging.INFO, logger="digests.signals"):
        assert _post(client, body).status_code == 200

    # Handled (not dropped by Anymail before our receiver), and matched to nothing.
    assert "opened event for not-ours: unknown delivery" in caplog.text
    delivery.refresh_from_db()
    assert (delivery.opened_at, delivery.open_count) == (None, 0)
    assert Edition.objects.get().opened_count == 0
    assert Subscriber.objects.get().status == Subscriber.Status.CONFIRMED


# --- Events about the right address (issue 9, point 9) -----------------------------------------
# Payloads recorded in Anymail's own Postmark tests (see data/README.md), addressed to our
# reader and message; bounce types and codes as Postmark documents them.

MESSAGE_ID = "883953f4-6105-42a2-a16a-77a8eac79483"


def _anymail(name, **changes):
    body = event_payload(name, MessageID=MESSAGE_ID, **changes)
    for key in ("Email", "Recipient"):
        if key in body and key not in changes:
            body[key] = "reader@example.org"
    return body


def _bounce(bounce_type, code, *, inactive, **changes):
    return _anymail(
        "anymail_postmark_bounce.json",
        Type=bounce_type,
        TypeCode=code,
        Name=bounce_type,
        Inactive=inactive,
        **changes,
    )


@pytest.mark.parametrize(
    ("bounce_type", "code", "inactive"),
    [
        ("HardBounce", 1, True),
        ("BadEmailAddress", 100000, True),
        ("ManuallyDeactivated", 100002, True),
        ("Blocked", 100006, True),
        ("DMARCPolicy", 100009, True),
        ("SoftBounce", 4096, True),  # Postmark deactivated the address after soft bounces
        ("Unknown", 2048, True),
    ],
)
def test_it_suppresses_every_bounce_that_leaves_the_address_inactive(
    client, delivery, bounce_type, code, inactive
):
    assert _post(client, _bounce(bounce_type, code, inactive=inactive)).status_code == 200

    delivery.refresh_from_db()
    delivery.subscriber.refresh_from_db()
    assert delivery.subscriber.status == Subscriber.Status.BOUNCED
    assert delivery.bounced_at is not None
    assert Edition.objects.get().bounced_count == 1


@pytest.mark.parametrize(
    ("bounce_type", "code", "inactive"),
    [
        ("VirusNotification", 8192, False),
        ("VirusNotification", 8192, True),
        ("SoftBounce", 4096, False),
        ("Transient", 2, False),
        ("DnsError", 256, False),
        ("AutoResponder", 64, False),
    ],
)
def test_it_does_not_suppress_bounces_that_say_nothing_about_the_mailbox(
    client, delivery, bounce_type, code, inactive
):
    assert _post(client, _bounce(bounce_type, code, inactive=inactive)).status_code == 200

    delivery.refresh_from_db()
    delivery.subscriber.refresh_from_db()
    assert delivery.subscriber.status == Subscriber.Status.CONFIRMED
    assert delivery.bounced_at is None
    assert Edition.objects.get().bounced_count == 0


def test_a_subscription_change_for_a_hard_bounce_suppresses(client, delivery):
    body = _anymail("anymail_postmark_subscription_change_bounce.json")

    assert _post(client, body).status_code == 200

    delivery.subscriber.refresh_from_db()
    assert delivery.subscriber.status == Subscriber.Status.BOUNCED


@pytest.mark.parametrize(
    ("name", "counter"),
    [
        ("anymail_postmark_bounce.json", "bounced_count"),
        ("anymail_postmark_spam_complaint.json", "complained_count"),
    ],
)
def test_an_event_about_a_former_address_is_recorded_but_spares_the_new_one(
    client, delivery, name, counter
):
    subscriber = delivery.subscriber
    subscriber.email = "reader@new.example"
    subscriber.save()
    body = _anymail(name, Email="reader@example.org", **_metadata(delivery))

    assert _post(client, body).status_code == 200

    delivery.refresh_from_db()
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert (delivery.bounced_at or delivery.complained_at) is not None
    assert getattr(Edition.objects.get(), counter) == 1


def test_an_event_names_the_address_whatever_its_case(client, delivery):
    body = _anymail("anymail_postmark_spam_complaint.json", Email="Reader@Example.ORG")

    assert _post(client, body).status_code == 200

    delivery.subscriber.refresh_from_db()
    assert delivery.subscriber.status == Subscriber.Status.COMPLAINED


def test_a_later_esp_unsubscribe_never_downgrades_a_complaint(client, delivery):
    assert _post(client, _anymail("anymail_postmark_spam_complaint.json")).status_code == 200
    assert _post(client, _anymail("anymail_postmark_unsubscribe.json")).status_code == 200

    subscriber = Subscriber.objects.get(pk=delivery.subscriber_id)
    assert subscriber.status == Subscriber.Status.COMPLAINED
    # So the goodbye page's "resubscribe" cannot sign a complainer up again.
    assert not subscriber.consents.filter(kind="unsubscribe").exists()


def test_a_later_bounce_keeps_a_complaint(client, delivery):
    _post(client, _anymail("anymail_postmark_spam_complaint.json"))
    _post(client, _bounce("HardBounce", 1, inactive=True))

    delivery.subscriber.refresh_from_db()
    assert delivery.subscriber.status == Subscriber.Status.COMPLAINED
