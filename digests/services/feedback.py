"""ESP feedback: tracking events from Anymail's webhook, applied to deliveries and readers."""

import logging

from django.db.models import F
from django.utils import timezone

from digests.models import Delivery, Edition
from digests.services import stats
from subscriptions.models import Subscriber
from subscriptions.services import subscriber_suppress, subscriber_unsubscribe

logger = logging.getLogger(__name__)

_SOFT_BOUNCES = {"SoftBounce", "Transient", "DnsError"}


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


def delivery_record_event(*, event) -> str:
    """Apply one Anymail tracking event; returns what was done (for logs and tests)."""
    delivery = _find_delivery(event)
    when = event.timestamp or timezone.now()
    event_type = event.event_type
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    subscriber = delivery.subscriber if delivery else None
    if subscriber is None and event.recipient:
        subscriber = Subscriber.objects.filter(email__iexact=event.recipient).first()

    if event_type == "bounced" and raw.get("Type") in _SOFT_BOUNCES:
        return "soft bounce ignored"
    if event_type in ("bounced", "complained"):
        status = (
            Subscriber.Status.BOUNCED if event_type == "bounced" else Subscriber.Status.COMPLAINED
        )
        if subscriber:
            subscriber_suppress(subscriber=subscriber, status=status)
        if delivery:
            _first(delivery, f"{event_type}_at", f"{event_type}_count", when)
        return f"suppressed ({status})" if subscriber else "unknown recipient"
    if event_type == "unsubscribed":
        if subscriber:
            subscriber_unsubscribe(subscriber=subscriber, source="esp")
        return "unsubscribed" if subscriber else "unknown recipient"
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
