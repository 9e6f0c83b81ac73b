"""Writes to subscriptions. Views, webhooks, commands and tasks call these."""

from django.db import transaction
from django.utils import timezone

from subscriptions.models import ConsentRecord, Subscriber

# Statuses that end sending for good unless an editor reinstates the address.
SUPPRESSED = {Subscriber.Status.BOUNCED, Subscriber.Status.COMPLAINED}


@transaction.atomic
def subscriber_unsubscribe(
    *, subscriber: Subscriber, source: str, ip_address: str | None = None, user_agent: str = ""
) -> bool:
    """Stop all mail to `subscriber`. Idempotent: returns False if nothing changed."""
    updated = (
        Subscriber.objects.filter(pk=subscriber.pk)
        .exclude(status=Subscriber.Status.UNSUBSCRIBED)
        .update(
            status=Subscriber.Status.UNSUBSCRIBED,
            unsubscribed_at=timezone.now(),
            updated_at=timezone.now(),
        )
    )
    if updated:
        ConsentRecord.objects.create(
            subscriber=subscriber,
            kind=ConsentRecord.Kind.UNSUBSCRIBE,
            source=source[:200],
            ip_address=ip_address,
            user_agent=user_agent[:400],
        )
        subscriber.refresh_from_db(fields=["status", "unsubscribed_at", "updated_at"])
    return bool(updated)


def subscriber_suppress(*, subscriber: Subscriber, status: str) -> bool:
    """Mark a hard bounce or spam complaint; mail stops at once. Idempotent."""
    if status not in SUPPRESSED:
        raise ValueError(f"not a suppression status: {status!r}")
    updated = (
        Subscriber.objects.filter(pk=subscriber.pk)
        .exclude(status=status)
        .update(status=status, updated_at=timezone.now())
    )
    if updated:
        subscriber.status = status
    return bool(updated)
