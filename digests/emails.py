"""E-mails of the digests app besides the digest itself; each is built by lib.emails."""

from django.conf import settings

from lib.emails import make_message
from subscriptions.tokens import list_unsubscribe_headers, manage_url


def send_updates_alert(*, subscriber, updates) -> None:
    """ "Updates on your papers", for readers who asked for them as they happen."""
    context = {
        "updates": [
            {
                "title": u.paper.title,
                "detail": u.detail,
                "url": settings.SITE_URL + u.paper.get_absolute_url(),
            }
            for u in updates
        ],
        "manage_url": manage_url(subscriber),
    }
    message = make_message(
        "paper-updates",
        [subscriber.email],
        context,
        headers=list_unsubscribe_headers(subscriber),
        tags=["paper-updates"],
        metadata={"subscriber_id": str(subscriber.pk)},
    )
    message.send()
