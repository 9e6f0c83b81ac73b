"""Signed, single-purpose tokens for the links in e-mails.

One salt per purpose: a confirmation token cannot unsubscribe and an unsubscribe token
cannot open the preference centre. Tokens carry the subscriber's id and e-mail address,
so a token stops working if the address behind the id changes (e.g. after deletion).
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

CONFIRM = "subscriptions.confirm"
MANAGE = "subscriptions.manage"
UNSUBSCRIBE = "subscriptions.unsubscribe"

# Confirmation links expire; manage and unsubscribe links live as long as the e-mails do.
MAX_AGE = {
    CONFIRM: getattr(settings, "SUBSCRIPTION_CONFIRM_MAX_AGE", 7 * 24 * 3600),
    MANAGE: None,
    UNSUBSCRIBE: None,
}


class BadToken(Exception):
    """Tampered, truncated, expired or for another purpose."""

    def __init__(self, *, expired: bool = False):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


@dataclass(frozen=True)
class TokenData:
    subscriber_id: int
    email: str


def make_token(subscriber, purpose: str) -> str:
    return signing.dumps([subscriber.pk, subscriber.email], salt=purpose, compress=True)


def read_token(token: str, purpose: str) -> TokenData:
    try:
        subscriber_id, email = signing.loads(token, salt=purpose, max_age=MAX_AGE[purpose])
    except signing.SignatureExpired:
        raise BadToken(expired=True) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise BadToken() from None
    return TokenData(subscriber_id=int(subscriber_id), email=str(email))


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def confirm_url(subscriber) -> str:
    return _absolute(reverse("subscriptions:confirm", args=[make_token(subscriber, CONFIRM)]))


def manage_url(subscriber) -> str:
    return _absolute(reverse("subscriptions:manage", args=[make_token(subscriber, MANAGE)]))


def unsubscribe_url(subscriber) -> str:
    return _absolute(
        reverse("subscriptions:unsubscribe", args=[make_token(subscriber, UNSUBSCRIBE)])
    )
