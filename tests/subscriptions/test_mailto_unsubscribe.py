import base64
import json
from pathlib import Path
from unittest import mock

import pytest

from subscriptions import services, tokens
from subscriptions.models import Subscriber
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

# A real-shaped Postmark inbound webhook payload (their documented example, our addresses).
PAYLOAD = json.loads((Path(__file__).parent / "data" / "postmark-inbound.json").read_text())


@pytest.fixture
def webhook(client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    settings.UNSUBSCRIBE_MAILTO = "unsubscribe@paperboy.localhost"
    auth = "Basic " + base64.b64encode(b"hook:s3cret").decode()

    def post(**changes):
        payload = {**PAYLOAD, **changes}
        return client.post(
            "/anymail/postmark/inbound/",
            json.dumps(payload),
            content_type="application/json",
            HTTP_AUTHORIZATION=auth,
        )

    return post


def test_a_mail_to_the_list_unsubscribe_mailto_unsubscribes(webhook):
    subscriber = SubscriberFactory(email="ada@example.org")
    token = tokens.make_token(subscriber, tokens.UNSUBSCRIBE)

    response = webhook(Subject=f"unsubscribe {token}")

    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.consents.get().source == "mailto"


@pytest.mark.parametrize("subject", ["unsubscribe", "unsubscribe not-a-token", "hello"])
def test_a_mail_without_a_valid_token_changes_nothing(webhook, subject):
    subscriber = SubscriberFactory(email="ada@example.org")

    assert webhook(Subject=subject).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED


def test_a_mail_to_another_address_changes_nothing(webhook):
    subscriber = SubscriberFactory(email="ada@example.org")
    token = tokens.make_token(subscriber, tokens.UNSUBSCRIBE)
    elsewhere = [{"Email": "hello@paperboy.localhost", "Name": "", "MailboxHash": ""}]

    handled = []
    real = services.subscriber_unsubscribe_by_mail

    def spy(**kwargs):
        handled.append((kwargs, real(**kwargs)))
        return handled[-1][1]

    with mock.patch.object(services, "subscriber_unsubscribe_by_mail", spy):
        response = webhook(Subject=f"unsubscribe {token}", ToFull=elsewhere, OriginalRecipient="")

    # Accepted and read (a refused call would change nothing too, for the wrong reason),
    # then turned down because the mail went to another address.
    assert response.status_code == 200
    [(arguments, someone_left)] = handled
    assert arguments == {
        "recipients": ["hello@paperboy.localhost"],
        "subject": f"unsubscribe {token}",
    }
    assert someone_left is False
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
