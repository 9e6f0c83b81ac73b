from anymail.exceptions import AnymailAPIError
from celery import shared_task
from django.utils import timezone

from subscriptions import emails, services
from subscriptions.models import Subscriber

# Each kind is sent only while the subscriber is still in a state that wants it, so a
# retried or late task never mails someone who meanwhile confirmed or left.
_KINDS = {
    "confirm": (emails.confirmation, {Subscriber.Status.PENDING, Subscriber.Status.UNSUBSCRIBED}),
    "already-subscribed": (emails.already_subscribed, services.ACTIVE),
}


@shared_task(
    autoretry_for=(AnymailAPIError, ConnectionError),
    retry_backoff=30,
    max_retries=4,
)
def send_subscription_email(subscriber_id: int, kind: str) -> bool:
    build, statuses = _KINDS[kind]
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.status not in statuses:
        return False
    if kind == "confirm" and not subscriber.confirm_nonce:
        return False
    build(subscriber).send()
    return True


@shared_task
def resume_paused() -> int:
    return services.subscribers_resume_paused(today=timezone.localdate())


@shared_task
def purge_unconfirmed() -> int:
    return services.subscribers_purge_unconfirmed(now=timezone.now())


@shared_task
def record_list_size() -> dict:
    """Hourly (beat): the status totals the dashboard charts, stored on today's row."""
    from subscriptions.services.stats import list_size_record

    row = list_size_record(now=timezone.now())
    return {"day": row.day.isoformat(), "confirmed": row.confirmed}
