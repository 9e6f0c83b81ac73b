"""Anymail's webhooks with the right secret and a hostile or broken payload: 400 for a
body that is not JSON, 200 and no change for mail with a header-injection subject, and
never a 500 (lib.webhooks)."""

import base64
import json
from pathlib import Path

import pytest

from subscriptions import tokens
from subscriptions.models import Subscriber
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

INBOUND = json.loads((Path(__file__).parent / "data" / "postmark-inbound.json").read_text())
AUTH = "Basic " + base64.b64encode(b"hook:s3cret").decode()


@pytest.fixture
def post(client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    settings.UNSUBSCRIBE_MAILTO = "unsubscribe@paperboy.localhost"
    client.raise_request_exception = False  # a 500 must show as a 500, not an exception

    def send(url, body, auth=AUTH):
        headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
        return client.post(url, body, content_type="application/json", **headers)

    return send


@pytest.mark.parametrize("kind", ["tracking", "inbound"])
@pytest.mark.parametrize("body", ["{not json", "", '{"RecordType": "Bounce",', b"\xff\xfe"])
def test_a_body_that_is_not_json_answers_400(post, kind, body):
    response = post(f"/anymail/postmark/{kind}/", body)

    assert response.status_code == 400


def test_an_event_of_the_wrong_shape_answers_400(post):
    assert post("/anymail/postmark/tracking/", "[]").status_code == 400


def test_without_the_secret_it_is_still_refused(post):
    assert post("/anymail/postmark/tracking/", "{not json", auth=None).status_code in (400, 401)


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_an_inbound_subject_with_cr_or_lf_answers_200_and_changes_nothing(post, newline):
    subscriber = SubscriberFactory(email="ada@example.org")
    token = tokens.make_token(subscriber, tokens.UNSUBSCRIBE)
    subject = f"unsubscribe {token}{newline}Bcc: everyone@example.org"

    response = post("/anymail/postmark/inbound/", json.dumps({**INBOUND, "Subject": subject}))

    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert not subscriber.consents.exists()


def test_a_bug_in_our_receiver_is_still_a_500(post, monkeypatch):
    from subscriptions import services

    def broken(**kwargs):
        raise KeyError("a bug of ours")

    monkeypatch.setattr(services, "subscriber_unsubscribe_by_mail", broken)

    response = post("/anymail/postmark/inbound/", json.dumps(INBOUND))

    assert response.status_code == 500
