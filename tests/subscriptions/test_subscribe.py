import pytest
from django.test import override_settings

from subscriptions.models import ConsentRecord, Subscriber
from tests.factories import SubscriberFactory
from tests.subscriptions.conftest import link_in

pytestmark = pytest.mark.django_db


def test_it_creates_a_pending_subscriber_and_sends_a_confirmation(subscribe, outbox, settings):
    response = subscribe("  Ada@Example.org ")

    assert response.status_code == 302
    assert response["Location"] == "/subscribe/check-your-inbox/"
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "ada@example.org"
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.timezone == "Europe/Paris"
    assert subscriber.confirmed_at is None
    assert len(outbox) == 1
    message = outbox[0]
    assert message.to == ["ada@example.org"]
    assert message.subject == "Confirm your Paperboy subscription"
    link = link_in(message, "/confirm/")
    assert link.startswith(f"{settings.SITE_URL}/confirm/")
    assert "works once, for 7 days" in message.body
    assert "Confirm my subscription" in message.alternatives[0][0]
    assert 'style="' in message.alternatives[0][0]  # CSS inlined for webmail


def test_it_keeps_a_consent_record_of_the_opt_in(subscribe):
    subscribe("ada@example.org", source="/papers/2411.00001/")

    consent = ConsentRecord.objects.get()
    assert consent.kind == ConsentRecord.Kind.OPT_IN
    assert consent.source == "/papers/2411.00001/"
    assert consent.ip_address == "203.0.113.7"
    assert consent.user_agent == "Mozilla/5.0 (test)"
    # Proof of whose consent it is: the record hangs off that address's subscription.
    assert consent.subscriber == Subscriber.objects.get(email="ada@example.org")


def test_it_shows_the_check_your_inbox_page(client, subscribe):
    response = client.get(subscribe("ada@example.org")["Location"])

    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()


@pytest.mark.parametrize("status", list(Subscriber.Status))
def test_it_answers_the_same_whatever_the_address_is(subscribe, status):
    baseline = subscribe("new-person@example.org")
    SubscriberFactory(email="known@example.org", status=status)

    response = subscribe("KNOWN@example.org")

    assert response.status_code == baseline.status_code
    assert response["Location"] == baseline["Location"]
    assert Subscriber.objects.filter(email="known@example.org").count() == 1


def test_it_reminds_a_confirmed_subscriber_instead_of_reconfirming(subscribe, outbox):
    subscriber = SubscriberFactory(email="known@example.org")

    subscribe("known@example.org")

    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert [m.subject for m in outbox] == ["You already get the Paperboy digest"]
    assert "/preferences/" in link_in(outbox[0], "/preferences/")
    assert not subscriber.consents.exists()


@pytest.mark.parametrize("status", [Subscriber.Status.BOUNCED, Subscriber.Status.COMPLAINED])
def test_it_never_mails_a_suppressed_address(subscribe, outbox, status):
    SubscriberFactory(email="gone@example.org", status=status)

    subscribe("gone@example.org")

    assert outbox == []
    assert Subscriber.objects.get().status == status


def test_it_sends_a_fresh_confirmation_to_an_unsubscribed_address(subscribe, outbox):
    SubscriberFactory(email="back@example.org", status=Subscriber.Status.UNSUBSCRIBED)

    subscribe("back@example.org")

    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED  # until they confirm
    assert subscriber.confirm_nonce
    assert outbox[0].subject == "Confirm your Paperboy subscription"


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b", "x" * 250 + "@example.org"])
def test_it_returns_the_form_with_an_error_for_a_bad_address(subscribe, outbox, email):
    response = subscribe(email)

    assert response.status_code == 400
    body = response.content.decode()
    assert "errorlist" in body
    assert "e-mail address" in body
    assert not Subscriber.objects.exists()
    assert not ConsentRecord.objects.exists()
    assert outbox == []


def test_it_falls_back_to_utc_for_an_unknown_time_zone(subscribe):
    subscribe("ada@example.org", timezone="Mars/Olympus_Mons")

    assert Subscriber.objects.get().timezone == "UTC"


def test_it_ignores_a_source_that_is_not_a_path(subscribe):
    subscribe("ada@example.org", source="https://evil.example/")

    assert ConsentRecord.objects.get().source == "/subscribe/"


@override_settings(SUBSCRIBE_LIMIT_PER_ADDRESS=3, SUBSCRIBE_LIMIT_PER_IP=100)
def test_it_rate_limits_repeated_requests_for_one_address(subscribe, outbox):
    answers = [subscribe("ada@example.org", ip=f"198.51.100.{n}") for n in range(5)]

    assert [a.status_code for a in answers] == [302, 302, 302, 429, 429]
    assert "Too many attempts" in answers[-1].content.decode()
    assert len(outbox) == 3
    assert ConsentRecord.objects.count() == 3


@override_settings(SUBSCRIBE_LIMIT_PER_ADDRESS=100, SUBSCRIBE_LIMIT_PER_IP=2)
def test_it_rate_limits_one_client_trying_many_addresses(subscribe, outbox):
    answers = [subscribe(f"person{n}@example.org") for n in range(4)]

    assert [a.status_code for a in answers] == [302, 302, 429, 429]
    assert len(outbox) == 2
    assert Subscriber.objects.count() == 2
    # Another client is not held back by this one.
    assert subscribe("other@example.org", ip="192.0.2.1").status_code == 302


@override_settings(SUBSCRIBE_LIMIT_PER_ADDRESS=1, SUBSCRIBE_LIMIT_PER_IP=100)
def test_the_rate_limit_reveals_nothing_about_subscribers(subscribe):
    SubscriberFactory(email="known@example.org")

    known = [subscribe("known@example.org").status_code for _ in range(2)]
    unknown = [subscribe("unknown@example.org").status_code for _ in range(2)]

    assert known == unknown == [302, 429]


def test_it_shows_a_standalone_form(client):
    response = client.get("/subscribe/")

    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()


def test_the_banner_sends_the_browser_time_zone(client):
    body = client.get("/subscribe/").content.decode()

    assert 'name="timezone" value="" data-browser-timezone' in body
    assert "subscriptions/timezone" in body
