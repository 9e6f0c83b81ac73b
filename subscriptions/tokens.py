"""Signed, single-purpose tokens for the links in e-mails.

One salt per purpose: a confirmation token cannot unsubscribe and an unsubscribe token
cannot open the preference centre. Tokens carry the subscriber's id and e-mail address,
so a token stops working if the address behind the id changes (e.g. after deletion).
Confirmation tokens also carry the subscriber's current confirm_nonce, which the
confirmation clears: each confirmation link works once, and only the newest one does.
"""

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, get_urlconf, reverse

CONFIRM = "subscriptions.confirm"
MANAGE = "subscriptions.manage"
UNSUBSCRIBE = "subscriptions.unsubscribe"


def _max_age(purpose: str) -> int | None:
    """Confirmation links expire; manage and unsubscribe links live as long as e-mails do."""
    if purpose == CONFIRM:
        return getattr(settings, "SUBSCRIPTION_CONFIRM_MAX_AGE", 7 * 24 * 3600)
    if purpose in (MANAGE, UNSUBSCRIBE):
        return None
    raise ValueError(f"unknown token purpose: {purpose!r}")


class BadToken(Exception):
    """Tampered, truncated, expired or for another purpose."""

    def __init__(self, *, expired: bool = False):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


@dataclass(frozen=True)
class TokenData:
    subscriber_id: int
    email: str
    nonce: str = ""


def make_token(subscriber, purpose: str) -> str:
    payload = [subscriber.pk, subscriber.email]
    if purpose == CONFIRM:
        payload.append(subscriber.confirm_nonce)
    return signing.dumps(payload, salt=purpose, compress=True)


def read_token(token: str, purpose: str, *, max_age: int | None = -1) -> TokenData:
    """The payload of a valid `purpose` token; BadToken otherwise.

    `max_age=None` reads an expired token anyway: only to pre-fill the address on the
    "this link has expired" page, never to act on it.
    """
    try:
        payload = signing.loads(
            token, salt=purpose, max_age=_max_age(purpose) if max_age == -1 else max_age
        )
    except signing.SignatureExpired:
        raise BadToken(expired=True) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise BadToken() from None
    if not isinstance(payload, list) or len(payload) not in (2, 3):
        raise BadToken()
    try:
        return TokenData(
            subscriber_id=int(payload[0]),
            email=str(payload[1]),
            nonce=str(payload[2]) if len(payload) == 3 else "",
        )
    except (TypeError, ValueError):
        raise BadToken() from None


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def token_path(name: str, token: str) -> str:
    """reverse(name, args=[token]) for a signed token (URL-safe characters only), with
    reverse() run once per process, URL conf and prefix: every digest makes these links
    for every reader, and reverse() cost as much as signing."""
    before, after = _around_token(name, get_script_prefix(), settings.ROOT_URLCONF, get_urlconf())
    return f"{before}{token}{after}"


@lru_cache(maxsize=64)
def _around_token(name: str, _prefix: str, _root, _urlconf) -> tuple[str, str]:
    before, _, after = reverse(name, args=["T0KEN"]).partition("T0KEN")
    return before, after


def confirm_url(subscriber) -> str:
    return _absolute(reverse("subscriptions:confirm", args=[make_token(subscriber, CONFIRM)]))


def manage_url(subscriber) -> str:
    return _absolute(token_path("subscriptions:manage", make_token(subscriber, MANAGE)))


def unsubscribe_url(subscriber) -> str:
    return _absolute(token_path("subscriptions:unsubscribe", make_token(subscriber, UNSUBSCRIBE)))


def list_unsubscribe_headers(subscriber) -> dict[str, str]:
    """RFC 2369 + RFC 8058 headers for every bulk message to `subscriber`.

    Mailbox providers POST `List-Unsubscribe=One-Click` to the https URL; the mailto is
    the fallback for clients that only know mail.
    """
    token = make_token(subscriber, UNSUBSCRIBE)
    url = _absolute(token_path("subscriptions:unsubscribe", token))
    mailto = f"mailto:{settings.UNSUBSCRIBE_MAILTO}?subject=unsubscribe%20{token}"
    return {
        "List-Unsubscribe": f"<{url}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def subscriber_for_token(token: str, purpose: str):
    """The Subscriber a valid `purpose` token names; BadToken if the signature, the purpose,
    the age or the address behind the id does not match (a forged or recycled token)."""
    from subscriptions.models import Subscriber

    data = read_token(token, purpose)
    subscriber = Subscriber.objects.filter(pk=data.subscriber_id).first()
    if subscriber is None or subscriber.email != data.email.strip().lower():
        raise BadToken()
    return subscriber
