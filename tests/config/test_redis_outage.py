"""A Redis outage is not a site outage: a real closed port, no mocks.

Pages render without the cache, sign-in works, and the e-mail-sending sign-up fails
closed with a friendly 503 (its rate limits cannot be counted); /healthz reports it.
"""

import socket

import pytest
from django.core import mail
from django.core.cache import cache

from config.celery_app import app as celery_app
from lib import ratelimit
from lib.redis_cache import CacheUnavailable
from subscriptions.models import Subscriber
from tests.factories import PaperFactory, TopicFactory, TrendFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def _closed_port() -> int:
    """A port on this machine nothing listens on: bound by us, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "lib.redis_cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "paperboy",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    original = celery_app.conf.broker_url
    celery_app.conf.broker_url = url
    yield url
    celery_app.conf.broker_url = original


@pytest.fixture
def site():
    topic = TopicFactory(slug="vision", name="Vision")
    paper = PaperFactory(slug="segment-anything", title="Segment Anything")
    paper.topics.add(topic)
    TrendFactory(paper=paper)
    return paper


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/?window=week",
        "/latest/",
        "/papers/segment-anything/",
        "/topics/",
        "/topics/vision/",
        "/feed/",
        "/feed/atom/",
        "/topics/vision/feed/",
        "/search/?q=segment",
    ],
)
def test_pages_render_without_the_cache(client, site, redis_down, url):
    response = client.get(url)

    assert response.status_code == 200, url
    assert b"Segment Anything" in response.content or b"Vision" in response.content


def test_sign_up_fails_closed_with_a_friendly_page(client, redis_down):
    mail.outbox.clear()

    response = client.post("/subscribe/", {"email": "ada@example.org"}, REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 503
    assert "try again in a few minutes" in response.content.decode()
    assert response["Retry-After"]
    assert not Subscriber.objects.exists()
    assert mail.outbox == []


def test_sign_in_works(client, redis_down):
    user = UserFactory(email="ada@example.org")
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    response = client.post("/accounts/login/", {"login": "ada@example.org", "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_healthz_still_reports_it(client, redis_down):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert set(response.json()["down"]) == {"broker", "cache"}


def test_rate_limits_refuse_to_guess(redis_down):
    with pytest.raises(ratelimit.Unavailable):
        ratelimit.hit("test", "ada@example.org", limit=3, window=60)


def test_it_falls_back_to_process_memory_but_shared_counters_raise(redis_down):
    cache.set("k", "v")

    assert cache.in_outage()
    assert cache.get("k") == "v"
    assert cache.add("k", 1) is False
    assert cache.get_many(["k", "other"]) == {"k": "v"}
    with pytest.raises(CacheUnavailable):
        cache.incr("k")


def test_after_a_failure_it_stops_trying_for_a_while(redis_down):
    cache.get("first")
    client = cache._cache

    assert client.in_outage()
    # No new connection attempt during the pause: the pool is not even asked.
    client.get_client = None
    assert cache.get("never-set", "missing") == "missing"


def test_sign_in_limits_still_count_during_an_outage(client, redis_down, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "2/m/ip"}
    UserFactory(email="ada@example.org")
    wrong = {"login": "ada@example.org", "password": "not the password"}

    answers = [client.post("/accounts/login/", wrong).content.decode() for _ in range(3)]

    assert "Too many failed login attempts" not in answers[0]
    assert "Too many failed login attempts" in answers[-1]
