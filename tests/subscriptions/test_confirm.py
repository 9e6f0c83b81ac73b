import datetime
import re
import time
from unittest import mock

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.utils import timezone

from subscriptions import tokens
from subscriptions.models import ConsentRecord, OutboundEmail, Subscriber
from subscriptions.tasks import send_due_emails, send_outbound_email, send_subscription_email
from tests.factories import SubscriberFactory
from tests.subscriptions.conftest import WorkerKilled, link_in

pytestmark = pytest.mark.django_db


def _path(url, settings):
    return url.removeprefix(settings.SITE_URL)


@pytest.fixture
def confirm_path(subscribe, outbox, settings):
    subscribe("ada@example.org")
    return _path(link_in(outbox[-1], "/confirm/"), settings)


def test_a_get_of_the_link_asks_and_changes_nothing(client, confirm_path):
    response = client.get(confirm_path)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Confirm your subscription" in body
    assert "ada@example.org" in body
    assert 'method="post"' in body
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_posting_the_link_confirms_and_records_consent(client, confirm_path):
    response = client.post(
        confirm_path, REMOTE_ADDR="198.51.100.4", HTTP_USER_AGENT="Mozilla/5.0 (phone)"
    )

    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert subscriber.confirmed_at is not None
    assert response.status_code == 302
    assert response["Location"].startswith("/preferences/")
    consent = subscriber.consents.get(kind=ConsentRecord.Kind.CONFIRM)
    assert consent.ip_address == "198.51.100.4"
    assert consent.user_agent == "Mozilla/5.0 (phone)"
    assert consent.source == "confirmation link"
    assert "You&#x27;re subscribed" in client.get(response["Location"]).content.decode()


def test_a_replayed_link_changes_nothing(client, confirm_path):
    client.post(confirm_path)
    confirmed_at = Subscriber.objects.get().confirmed_at

    response = client.post(confirm_path)

    # Gone, and no way into the preference centre: the link may sit in a forwarded e-mail.
    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    assert "/preferences/" not in response.content.decode()
    assert Subscriber.objects.get().confirmed_at == confirmed_at
    assert ConsentRecord.objects.filter(kind=ConsentRecord.Kind.CONFIRM).count() == 1


def test_opening_a_used_link_answers_410_without_the_preference_link(client, confirm_path):
    client.post(confirm_path)

    response = client.get(confirm_path)

    assert response.status_code == 410
    assert "/preferences/" not in response.content.decode()


def test_a_used_link_cannot_undo_a_later_unsubscribe(client, confirm_path):
    client.post(confirm_path)
    subscriber = Subscriber.objects.get()
    client.post(_unsubscribe_path(subscriber), {"List-Unsubscribe": "One-Click"})

    response = client.post(confirm_path)

    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED


def test_only_the_newest_link_works(client, subscribe, outbox, settings):
    subscribe("ada@example.org")
    older = _path(link_in(outbox[-1], "/confirm/"), settings)
    subscribe("ada@example.org")
    newer = _path(link_in(outbox[-1], "/confirm/"), settings)

    assert client.post(older).status_code == 410
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
    assert client.post(newer).status_code == 302
    assert Subscriber.objects.get().status == Subscriber.Status.CONFIRMED


def test_an_expired_link_offers_a_new_one_and_changes_nothing(client, confirm_path):
    later = timezone.now() + datetime.timedelta(days=7, minutes=1)
    with time_machine.travel(later, tick=False):
        get = client.get(confirm_path)
        post = client.post(confirm_path)

    for response in (get, post):
        assert response.status_code == 410
        body = response.content.decode()
        assert "This link has expired" in body
        assert 'value="ada@example.org"' in body  # the new-link form is pre-filled
        assert "Send me a new link" in body
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_a_link_still_works_just_before_it_expires(client, confirm_path):
    with time_machine.travel(timezone.now() + datetime.timedelta(days=6, hours=23), tick=False):
        client.post(confirm_path)

    assert Subscriber.objects.get().status == Subscriber.Status.CONFIRMED


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-3],  # truncated by a mail client
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # tampered signature
        lambda token: "garbage",
    ],
)
def test_a_tampered_link_is_refused_and_changes_nothing(client, confirm_path, mangle):
    token = confirm_path.split("/")[2]

    response = client.post(f"/confirm/{mangle(token)}/")

    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_a_token_forged_for_another_subscriber_is_refused(client, confirm_path):
    victim = SubscriberFactory(email="victim@example.org", status=Subscriber.Status.PENDING)
    victim.confirm_nonce = "abc"
    victim.save()
    # Right payload, wrong key: what an attacker without SECRET_KEY can produce.
    forged = signing.dumps(
        [victim.pk, victim.email, "abc"], key="guess", salt=tokens.CONFIRM, compress=True
    )

    assert client.post(f"/confirm/{forged}/").status_code == 400
    victim.refresh_from_db()
    assert victim.status == Subscriber.Status.PENDING


def test_a_token_for_another_purpose_is_refused(client):
    subscriber = SubscriberFactory(status=Subscriber.Status.PENDING, confirm_nonce="abc")
    manage_token = tokens.make_token(subscriber, tokens.MANAGE)

    assert client.post(f"/confirm/{manage_token}/").status_code == 400
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_a_token_for_a_deleted_and_reused_address_is_refused(client):
    subscriber = SubscriberFactory(status=Subscriber.Status.PENDING, confirm_nonce="abc")
    token = tokens.make_token(subscriber, tokens.CONFIRM)
    Subscriber.objects.filter(pk=subscriber.pk).update(email="someone-else@example.org")

    assert client.post(f"/confirm/{token}/").status_code == 400


def _unsubscribe_path(subscriber):
    return f"/unsubscribe/{tokens.make_token(subscriber, tokens.UNSUBSCRIBE)}/"


def test_the_lifetime_of_links_is_a_setting(client, subscribe, outbox, settings):
    settings.SUBSCRIPTION_CONFIRM_MAX_AGE = 24 * 3600
    subscribe("ada@example.org")
    assert "works once, for 1 day)" in outbox[-1].body
    path = _path(link_in(outbox[-1], "/confirm/"), settings)

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=25), tick=False):
        response = client.post(path)

    assert response.status_code == 410
    assert "work for 1 day." in response.content.decode()
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


# --- A confirmation is recorded, claimed, and survives an outage (issue 9, point 10) ----------


def _sweep_every(traveller, start, *, minutes, until):
    at = start
    while at < until:
        at += datetime.timedelta(minutes=minutes)
        traveller.move_to(at)
        send_due_emails.apply()


def test_a_confirmation_queued_during_a_day_long_esp_outage_is_sent_once_it_is_back(subscribe, esp):
    esp.up = False
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        assert subscribe("ada@example.org").status_code == 302
        _sweep_every(traveller, start, minutes=5, until=start + datetime.timedelta(hours=24))
        failed_attempts = len(esp.calls)
        esp.up = True
        _sweep_every(
            traveller,
            start + datetime.timedelta(hours=24),
            minutes=5,
            until=start + datetime.timedelta(hours=25, minutes=5),
        )

    [mail] = esp.accepted
    assert mail["To"] == "ada@example.org" and "/confirm/" in mail["TextBody"]
    # Retried through the day with backoff, not hammered every sweep nor given up after 4.
    assert 10 < failed_attempts < 60
    email = OutboundEmail.objects.get()
    assert email.status == OutboundEmail.Status.SENT and email.attempts == failed_attempts + 1
    # The link sent late still works.
    link = re.search(r"https?://\S+(/confirm/\S+/)", mail["TextBody"]).group(1)
    with time_machine.travel(start + datetime.timedelta(hours=25, minutes=10), tick=False):
        assert Client().post(link).status_code == 302
    assert Subscriber.objects.get().status == Subscriber.Status.CONFIRMED


def test_a_confirmation_is_claimed_before_the_esp_call_and_never_sent_twice(subscribe, esp):
    esp.kill = True
    with pytest.raises(WorkerKilled):
        subscribe("ada@example.org")  # the worker dies inside the ESP call
    email = OutboundEmail.objects.get()
    [(_, statuses_during_the_call)] = esp.calls
    assert statuses_during_the_call == [OutboundEmail.Status.SENDING]

    # The broker redelivers the unacknowledged task after its visibility timeout, and the
    # sweep runs later still: neither calls the ESP again.
    assert send_outbound_email.apply(args=[email.pk]).get() == "not pending"
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2), tick=False):
        send_due_emails.apply()
    assert len(esp.calls) == 1
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.FAILED and "interrupted" in email.error


@pytest.mark.parametrize(
    "change",
    [
        {"status": Subscriber.Status.CONFIRMED},  # confirmed meanwhile (e.g. by an account)
        {"confirm_nonce": ""},  # the opt-in was withdrawn
    ],
)
def test_a_confirmation_no_longer_wanted_is_not_sent(subscribe, esp, change):
    esp.up = False
    subscribe("ada@example.org")
    Subscriber.objects.update(**change)
    esp.up = True

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5), tick=False):
        send_due_emails.apply()

    assert esp.accepted == []
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.CANCELLED


def test_a_broker_down_at_sign_up_still_answers_and_the_sweep_sends_it(subscribe, esp):
    with mock.patch.object(send_outbound_email, "delay", side_effect=ConnectionError("no broker")):
        assert subscribe("ada@example.org").status_code == 302
    assert esp.calls == []

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=3), tick=False):
        send_due_emails.apply()

    assert [m["To"] for m in esp.accepted] == ["ada@example.org"]


def test_a_confirmation_goes_through_a_real_worker_and_its_sweep(celery_worker, client, esp):
    # The whole route with nothing run inline: commit → broker → worker → claim → ESP (down),
    # then the sweep task through the broker once the ESP is back.
    esp.up = False
    client.post("/subscribe/", {"email": "ada@example.org", "source": "/", "timezone": "UTC"})
    email = OutboundEmail.objects.get()
    for _ in range(100):  # the worker's first attempt, through the broker
        email.refresh_from_db()
        if email.attempts and email.status != OutboundEmail.Status.SENDING:
            break
        time.sleep(0.1)
    assert (email.attempts, email.status) == (1, OutboundEmail.Status.PENDING)

    esp.up = True
    OutboundEmail.objects.update(next_attempt_at=timezone.now())  # due now
    assert send_due_emails.delay().get(timeout=30) == {"due": 1, "interrupted": 0, "deleted": 0}
    for _ in range(100):
        email.refresh_from_db()
        if email.status not in (OutboundEmail.Status.PENDING, OutboundEmail.Status.SENDING):
            break
        time.sleep(0.1)

    assert email.status == OutboundEmail.Status.SENT
    assert [m["To"] for m in esp.accepted] == ["ada@example.org"]


def test_a_refused_address_is_not_retried(subscribe, esp):
    esp.refuse = True
    subscribe("ada@example.org")

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2), tick=False):
        send_due_emails.apply()

    assert len(esp.calls) == 1
    email = OutboundEmail.objects.get()
    assert email.status == OutboundEmail.Status.FAILED and "rejected" in email.error


def test_a_task_queued_by_the_previous_release_becomes_a_recorded_email(esp, run_on_commit):
    subscriber = SubscriberFactory(status=Subscriber.Status.PENDING, confirm_nonce="abc")

    with run_on_commit():
        assert send_subscription_email.apply(args=[subscriber.pk, "confirm"]).get() is True

    assert OutboundEmail.objects.get().status == OutboundEmail.Status.SENT
    assert [m["To"] for m in esp.accepted] == [subscriber.email]
