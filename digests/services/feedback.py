"""ESP feedback: tracking events from Anymail's webhook, applied to deliveries and readers."""

import logging

from django.db.models import F
from django.utils import timezone

from digests.models import Delivery, Edition
from digests.services import stats
from lib import addresses
from subscriptions.models import Subscriber
from subscriptions.services import SUPPRESSED, subscriber_suppress, subscriber_unsubscribe

logger = logging.getLogger(__name__)

# Postmark bounce types after which Postmark marks the address inactive and refuses every
# later send to it (Anymail reports HardBounce as "bounced", the rest as "rejected"). Any
# other Postmark event whose payload says "Inactive": true suppresses too.
INACTIVE_TYPES = {"HardBounce", "BadEmailAddress", "ManuallyDeactivated", "Blocked", "DMARCPolicy"}
# Says nothing about the mailbox: the message was refused, not the address.
NEVER_SUPPRESS_TYPES = {"VirusNotification"}


def _find_delivery(event) -> Delivery | None:
    metadata = event.metadata or {}
    delivery_id = str(metadata.get("delivery_id", ""))
    if delivery_id.isdigit():
        found = Delivery.objects.filter(pk=int(delivery_id)).select_related("subscriber").first()
        if found:
            return found
    if event.message_id:
        return (
            Delivery.objects.filter(esp_message_id=str(event.message_id))
            .select_related("subscriber")
            .first()
        )
    return None


def _first(delivery: Delivery, field_name: str, counter: str | None, when) -> None:
    """Set a first-seen timestamp once; move the edition's counter only that first time."""
    updated = Delivery.objects.filter(pk=delivery.pk, **{f"{field_name}__isnull": True}).update(
        **{field_name: when}
    )
    if updated and counter:
        Edition.objects.filter(pk=delivery.edition_id).update(**{counter: F(counter) + 1})


def _suppresses(event, raw: dict) -> bool:
    """Whether a bounce or rejection means the address can no longer receive mail."""
    bounce_type = raw.get("Type")
    if bounce_type is None:
        # Not a Postmark bounce record (another ESP, or Postmark's SubscriptionChange that
        # Anymail already turned into "bounced"): Anymail's "bounced" is a hard bounce.
        return event.event_type == "bounced" or event.reject_reason in ("invalid", "bounced")
    if bounce_type in NEVER_SUPPRESS_TYPES:
        return False
    return bounce_type in INACTIVE_TYPES or raw.get("Inactive") is True


def _is_current_address(subscriber: Subscriber, event) -> bool:
    # The subscriber may have moved to a new address since this message went out: an
    # event about the old address must not silence the new one.
    if not event.recipient:
        return True
    try:  # compared in the one spelling every address is stored in
        return addresses.normalise(event.recipient) == subscriber.email
    except addresses.InvalidAddress:
        return False


def delivery_record_event(*, event) -> str:
    """Apply one Anymail tracking event; returns what was done (for logs and tests).

    Bounces and rejections suppress the address when it can no longer receive mail
    (INACTIVE_TYPES, or Postmark says the recipient is now inactive), complaints always;
    both only if the subscriber still has the address the event names, and both are
    recorded on the delivery either way. An ESP-side unsubscribe never downgrades a
    suppressed (complained or bounced) subscriber to "unsubscribed", which they could undo.
    """
    delivery = _find_delivery(event)
    when = event.timestamp or timezone.now()
    event_type = event.event_type
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    subscriber = delivery.subscriber if delivery else None
    if subscriber is None and event.recipient:
        subscriber = Subscriber.objects.by_email(event.recipient).first()

    if event_type == "complained":
        return _suppress(delivery, subscriber, event, "complained", when)
    # Anymail files some of Postmark's bounce types under other events ("Unknown" is
    # "unknown", "DnsError" "deferred"): what Postmark says about the address decides.
    if event_type in ("bounced", "rejected") or raw.get("Inactive") is True:
        if not _suppresses(event, raw):
            return f"{raw.get('Type') or event_type} ignored: the address still receives mail"
        return _suppress(delivery, subscriber, event, "bounced", when)
    if event_type == "unsubscribed":
        if subscriber is None:
            return "unknown recipient"
        if subscriber.status in SUPPRESSED:
            return f"kept {subscriber.status}"
        subscriber_unsubscribe(subscriber=subscriber, source="esp")
        return "unsubscribed"
    if delivery is None:
        return "unknown delivery"
    if event_type == "delivered":
        _first(delivery, "delivered_at", "delivered_count", when)
        return "delivered"
    if event_type == "opened":
        Delivery.objects.filter(pk=delivery.pk).update(open_count=F("open_count") + 1)
        _first(delivery, "opened_at", "opened_count", when)
        return "opened"
    if event_type == "clicked":
        Delivery.objects.filter(pk=delivery.pk).update(click_count=F("click_count") + 1)
        _first(delivery, "clicked_at", "clicked_count", when)
        stats.paper_count_click(delivery=delivery, url=event.click_url or "", when=when)
        return "clicked"
    return f"ignored {event_type}"


def _suppress(delivery, subscriber, event, what: str, when) -> str:
    """Record a hard bounce or complaint on the delivery; suppress the subscriber if the
    event is about the address they have now."""
    if delivery:
        _first(delivery, f"{what}_at", f"{what}_count", when)
    if subscriber is None:
        return "unknown recipient"
    if not _is_current_address(subscriber, event):
        return f"{what} recorded; not suppressed: the subscriber's address changed since"
    if subscriber.status == Subscriber.Status.COMPLAINED:
        return "kept complained"  # the stronger record: a later bounce must not replace it
    status = Subscriber.Status.BOUNCED if what == "bounced" else Subscriber.Status.COMPLAINED
    subscriber_suppress(subscriber=subscriber, status=status)
    return f"suppressed ({status})"
