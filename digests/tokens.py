"""Signed links of the digest, one salt per purpose, none with an expiry.

* "View on the web" names one delivery, so it opens that reader's own digest (their
  papers, their order) and nothing else.
* Feedback links (More / Less like this, Mute this topic): one token per reader and
  delivery. The token carries the reader (id and address, as every subscription token
  does) and the delivery; the paper is the link's last part, and it counts only if that
  delivery carried it. So one signature per reader serves every paper of their digest
  (signing is a real part of the per-reader cost at a million readers), and a token cannot
  be pointed at a paper the reader was never sent.
* The reader's private feed, signed over a key the reader can replace (revocation).

The unsubscribe and preference tokens stay in subscriptions.tokens.
"""

from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.crypto import constant_time_compare

from subscriptions.tokens import BadToken

WEB = "digests.web"


def web_token(delivery_id: int) -> str:
    # Signer, not signing.dumps: this runs once per recipient of every digest.
    return signing.Signer(salt=WEB).sign(str(delivery_id))


def read_web_token(token: str) -> int | None:
    """The delivery id of a valid token, else None."""
    try:
        return int(signing.Signer(salt=WEB).unsign(token))
    except (signing.BadSignature, ValueError):
        return None


def web_url(delivery_id: int) -> str:
    # reverse() once per process and prefix: this runs once per recipient.
    return _web_base(settings.SITE_URL, get_script_prefix()) + web_token(delivery_id) + "/"


@lru_cache(maxsize=8)
def _web_base(site_url: str, _prefix: str) -> str:
    return site_url + reverse("digests:mine", kwargs={"token": "T"})[:-2]


FEEDBACK = "digests.feedback"
ACTIONS = ("more", "less", "mute")


def feedback_token(*, subscriber_id: int, email: str, delivery_id: int) -> str:
    return signing.dumps([subscriber_id, email, delivery_id], salt=FEEDBACK, compress=True)


def feedback_base_url(*, subscriber_id: int, email: str, delivery_id: int) -> str:
    """The reader's link prefix; a paper's link is `<base>/<paper id>/<action>/`."""
    token = feedback_token(subscriber_id=subscriber_id, email=email, delivery_id=delivery_id)
    before, after = _around_feedback_token(
        get_script_prefix(), settings.ROOT_URLCONF, get_urlconf()
    )
    return f"{settings.SITE_URL}{before}{token}{after}"


@lru_cache(maxsize=8)
def _around_feedback_token(_prefix: str, _root, _urlconf) -> tuple[str, str]:
    # reverse() once per process and prefix: this runs once per recipient.
    path = reverse("digests:feedback", args=["T0KEN", 0, "more"]).rsplit("/0/more/", 1)[0]
    before, _, after = path.partition("T0KEN")
    return before, after


def feedback_url(base: str, paper_id: int, action: str) -> str:
    return f"{base}/{paper_id}/{action}/"


def feedback_read(token: str, *, paper_id: int):
    """(subscriber, delivery) for a valid token whose delivery carried `paper_id`;
    BadToken otherwise (forged, another purpose, another reader, another paper)."""
    from digests.models import Delivery

    try:
        payload = signing.loads(token, salt=FEEDBACK)
        subscriber_id, email, delivery_id = int(payload[0]), str(payload[1]), int(payload[2])
    except (signing.BadSignature, ValueError, TypeError, IndexError, KeyError):
        raise BadToken() from None
    delivery = (
        Delivery.objects.select_related("subscriber")
        .filter(pk=delivery_id, subscriber_id=subscriber_id)
        .first()
    )
    if delivery is None or delivery.subscriber is None:
        raise BadToken()
    if delivery.subscriber.email != email.strip().lower():
        raise BadToken()
    if paper_id not in (delivery.paper_ids or []):
        raise BadToken()
    return delivery.subscriber, delivery


READER_FEED = "digests.reader_feed"


def reader_feed_token(feed) -> str:
    return signing.dumps([feed.subscriber_id, feed.key], salt=READER_FEED, compress=True)


def reader_feed_urls(feed) -> dict[str, str]:
    token = reader_feed_token(feed)
    return {
        "atom": settings.SITE_URL + reverse("digests:reader-feed-atom", args=[token]),
        "json": settings.SITE_URL + reverse("digests:reader-feed-json", args=[token]),
    }


def reader_feed_read(token: str):
    """The ReaderFeed a token names, if its key is still the current one; BadToken if the
    token is forged, for another purpose, or revoked by a newer key."""
    from digests.models import ReaderFeed

    try:
        subscriber_id, key = signing.loads(token, salt=READER_FEED)
        subscriber_id, key = int(subscriber_id), str(key)
    except (signing.BadSignature, ValueError, TypeError):
        raise BadToken() from None
    feed = (
        ReaderFeed.objects.select_related("subscriber").filter(subscriber_id=subscriber_id).first()
    )
    if feed is None or not constant_time_compare(feed.key, key):
        raise BadToken()
    return feed
