from django import template

from digests import tokens
from digests.services import reader
from subscriptions import tokens as subscription_tokens

register = template.Library()


@register.inclusion_tag("digests/_reader_feed.html", takes_context=True)
def reader_feed_box(context, subscriber):
    """The preference centre's "Your digest as a feed" box."""
    feed = reader.reader_feed_get(subscriber=subscriber)
    request = context.get("request")
    from digests.models import ReaderUpdates

    return {
        "feed": feed,
        "updates_by_email": ReaderUpdates.objects.filter(
            subscriber=subscriber, by_email=True
        ).exists(),
        "urls": tokens.reader_feed_urls(feed),
        "manage_token": subscription_tokens.make_token(subscriber, subscription_tokens.MANAGE),
        "next": request.path if request else "",
        "csrf_token": context.get("csrf_token"),
    }
