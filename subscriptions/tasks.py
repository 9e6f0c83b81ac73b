from celery import shared_task
from django.utils import timezone

from subscriptions import services
from subscriptions.models import Subscriber


@shared_task(name="subscriptions.tasks.send_outbound_email")
def send_outbound_email(email_id: int) -> str:
    """Send one recorded e-mail. Idempotent: a redelivered or duplicated message finds the
    row no longer pending. ESP failures are recorded on the row, which the sweep retries."""
    return services.outbound_email_send(email_id=email_id)


@shared_task(name="subscriptions.tasks.send_due_emails")
def send_due_emails() -> dict:
    """Every minute (beat): e-mails whose ESP call failed and are due again."""
    return services.outbound_emails_send_due(now=timezone.now(), enqueue=send_outbound_email.delay)


@shared_task
def send_subscription_email(subscriber_id: int, kind: str) -> bool:
    # Kept for messages queued by the previous release: they become recorded e-mails.
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        return False
    services.outbound_email_queue_for_subscriber(subscriber=subscriber, kind=kind)
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
