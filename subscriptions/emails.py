"""The e-mails of the sign-up flow; each is built by config.emails from its templates."""

from anymail.message import AnymailMessage

from config.emails import make_message
from subscriptions.models import Subscriber
from subscriptions.tokens import confirm_url, manage_url


def confirmation(subscriber: Subscriber) -> AnymailMessage:
    return make_message("confirm", [subscriber.email], {"confirm_url": confirm_url(subscriber)})


def already_subscribed(subscriber: Subscriber) -> AnymailMessage:
    # Sent instead of a confirmation when the address already gets the digest, so the
    # sign-up form's answer can be identical for everyone without leaving them stuck.
    return make_message(
        "already-subscribed", [subscriber.email], {"manage_url": manage_url(subscriber)}
    )
