"""One address, whatever its spelling: limits, suppression and lookups all see through
soft hyphens, full-width letters and zero-width spaces (lib.addresses)."""

import base64
import json

import pytest
from allauth.account.models import EmailAddress

from subscriptions import services
from subscriptions.forms import DeleteAccountForm
from subscriptions.models import Subscriber
from tests.digests.conftest import event_payload
from tests.factories import SubscriberFactory, UserFactory

pytestmark = pytest.mark.django_db

SPELLINGS = [
    "frank@exam\u00adple.org",  # soft hyphen
    "frank@\uff45xample.org",  # full-width e
    "fr\u200bank@example.org",  # zero-width space
    "FRANK@example.org\u200d",  # zero-width joiner, capitals
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_complained_address_cannot_sign_up_again_under_another_spelling(
    subscribe, outbox, spelling
):
    SubscriberFactory(email="frank@example.org", status=Subscriber.Status.COMPLAINED)

    response = subscribe(spelling)

    # The same answer as for anyone (no enumeration), and nothing else.
    assert response.status_code == 302
    assert list(Subscriber.objects.values_list("email", "status")) == [
        ("frank@example.org", "complained")
    ]
    assert outbox == []


def test_a_new_sign_up_is_stored_in_its_one_spelling(subscribe, outbox):
    subscribe("Frank@Exam\u00adple.org")

    assert Subscriber.objects.get().email == "frank@example.org"
    assert outbox[0].to == ["frank@example.org"]


def test_the_per_address_limit_counts_every_spelling(subscribe, settings):
    settings.SUBSCRIBE_LIMIT_PER_ADDRESS = 2

    answers = [
        subscribe(spelling, ip=f"203.0.113.{n}").status_code
        for n, spelling in enumerate(["frank@example.org", *SPELLINGS[:2]])
    ]

    assert answers == [302, 302, 429]


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("=?utf-8?q?frank?=@example.org", "encoded word"),
        ("frank@[192.0.2.1]", "not at an IP address"),
        ("frank@localhost", "not at localhost"),
    ],
)
def test_the_form_refuses_what_the_esp_would_refuse_with_a_clear_message(
    subscribe, outbox, address, message
):
    response = subscribe(address)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Subscriber.objects.exists()
    assert outbox == []


def test_an_import_sees_through_spellings_and_refuses_undeliverable_rows():
    SubscriberFactory(email="frank@example.org", status=Subscriber.Status.COMPLAINED)
    rows = [
        (2, SPELLINGS[0]),
        (3, "Ada@B\u00fccher.de"),
        (4, "ada@xn--bcher-kva.de"),
        (5, "=?utf-8?q?x?=@example.org"),
        (6, "grace@[192.0.2.1]"),
    ]

    report = services.subscribers_import(rows=rows, confirmed=True, source="import: t")

    assert report.imported == 1
    assert sorted(report.duplicates) == [(2, "frank@example.org"), (4, "ada@xn--bcher-kva.de")]
    assert [line for line, _ in report.bad_rows] == [5, 6]
    assert "encoded word" in report.bad_rows[0][1]
    assert Subscriber.objects.get(email="frank@example.org").status == "complained"


def test_a_webhook_finds_the_subscriber_under_another_spelling(client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    frank = SubscriberFactory(email="frank@example.org")
    body = event_payload("postmark_event_spam.json", Email=SPELLINGS[1], MessageID="unknown")

    response = client.post(
        "/anymail/postmark/tracking/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"hook:s3cret").decode(),
    )

    assert response.status_code == 200
    frank.refresh_from_db()
    assert frank.status == Subscriber.Status.COMPLAINED


def test_account_linking_compares_normalised_addresses():
    frank = SubscriberFactory(email="frank@example.org", status=Subscriber.Status.PENDING)
    user = UserFactory(email=SPELLINGS[0])
    EmailAddress.objects.create(user=user, email=SPELLINGS[0], verified=True, primary=True)

    assert services.subscriber_link_user(user=user, email=SPELLINGS[0]) == frank
    frank.refresh_from_db()
    assert frank.user == user


def test_account_deletion_accepts_any_spelling_of_the_address():
    user = UserFactory(email="frank@example.org")

    assert DeleteAccountForm({"email": SPELLINGS[2]}, user=user).is_valid()
    assert not DeleteAccountForm({"email": "frank@example.com"}, user=user).is_valid()
