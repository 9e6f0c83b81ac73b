"""Behind DJANGO_BEHIND_PROXY=1 the client is the last X-Forwarded-For hop, the one our
proxy appended; what the client wrote before it never picks a rate-limit bucket."""

import pytest

from subscriptions.models import ConsentRecord
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"


@pytest.fixture(autouse=True)
def behind_proxy(settings):
    # What config/settings.py sets for DJANGO_BEHIND_PROXY=1 (tests/config/test_settings.py
    # checks that mapping in a fresh process).
    settings.BEHIND_PROXY = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1


def _forwarded(spoofed: str, client: str) -> dict:
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"{spoofed}, {client}"}


def test_spoofing_the_first_hop_gets_no_fresh_sign_up_bucket(client, settings, run_on_commit):
    settings.SUBSCRIBE_LIMIT_PER_IP = 2

    def subscribe(n, real_client):
        with run_on_commit():
            return client.post(
                "/subscribe/",
                {"email": f"reader{n}@example.org"},
                **_forwarded(f"192.0.2.{n}", real_client),
            ).status_code

    answers = [subscribe(n, "203.0.113.7") for n in range(3)]

    assert answers == [302, 302, 429]
    # Another client behind the same proxy has a bucket of its own.
    assert subscribe(9, "203.0.113.8") == 302
    assert set(ConsentRecord.objects.values_list("ip_address", flat=True)) == {
        "203.0.113.7",
        "203.0.113.8",
    }


def test_spoofing_the_first_hop_gets_no_fresh_sign_in_bucket(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login": "2/m/ip"}
    UserFactory(email="ada@example.org")
    wrong = {"login": "ada@example.org", "password": "not it"}

    answers = [
        client.post("/accounts/login/", wrong, **_forwarded(f"192.0.2.{n}", "203.0.113.7"))
        for n in range(3)
    ]
    other = client.post("/accounts/login/", wrong, **_forwarded("192.0.2.1", "203.0.113.8"))

    assert [a.status_code for a in answers] == [200, 200, 429]
    # Not one bucket for everyone behind the proxy (REMOTE_ADDR is the proxy's address).
    assert other.status_code == 200
