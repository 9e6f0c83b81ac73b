"""The e-mails of the sign-up flow; each is built by lib.emails from its templates."""

from anymail.message import AnymailMessage
from django.conf import settings

from lib.emails import make_message
from subscriptions.models import Subscriber
from subscriptions.tokens import confirm_url, manage_url


def confirm_link_days() -> int:
    return max(1, settings.SUBSCRIPTION_CONFIRM_MAX_AGE // 86400)


def confirmation(subscriber: Subscriber) -> AnymailMessage:
    context = {"confirm_url": confirm_url(subscriber), "valid_days": confirm_link_days()}
    return make_message("confirm", [subscriber.email], context)


def already_subscribed(subscriber: Subscriber) -> AnymailMessage:
    # Sent instead of a confirmation when the address already gets the digest, so the
    # sign-up form's answer can be identical for everyone without leaving them stuck.
    return make_message(
        "already-subscribed", [subscriber.email], {"manage_url": manage_url(subscriber)}
    )
