"""Celery tasks: thin wrappers over digests.services."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from digests import services
from digests.models import Edition
from digests.sending import TransientSendError

logger = logging.getLogger(__name__)


def _enqueue(edition_id: int, subscriber_ids: list[int]) -> None:
    transaction.on_commit(lambda: send_digest_chunk.delay(edition_id, subscriber_ids))


@shared_task(name="digests.tasks.send_due_digests")
def send_due_digests() -> dict:
    """Hourly (beat): compose the editions now due and fan them out in chunk tasks."""
    summary = services.digest_send_due(now=timezone.now(), enqueue=_enqueue)
    return {"editions": [e.pk for e in summary.editions], "due": summary.due}


@shared_task(bind=True, name="digests.tasks.send_digest_chunk", max_retries=None, acks_late=True)
def send_digest_chunk(self, edition_id: int, subscriber_ids: list[int]) -> dict:
    """Send one chunk. Idempotent: a redelivered or retried message only finds the
    deliveries still pending. Transient ESP errors retry with backoff and jitter."""
    edition = Edition.objects.filter(pk=edition_id).first()
    if edition is None:
        logger.warning("edition %s is gone; chunk dropped", edition_id)
        return {}
    try:
        result = services.delivery_send_chunk(edition=edition, subscriber_ids=subscriber_ids)
    except TransientSendError as exc:
        # Read when the task runs (not at import), so override_settings and a changed
        # environment reach it.
        if self.request.retries >= settings.DIGEST_MAX_RETRIES:
            failed = services.delivery_fail_chunk(
                edition=edition, subscriber_ids=subscriber_ids, error=str(exc)
            )
            return {"failed": failed}
        raise self.retry(exc=exc, countdown=services.backoff_seconds(self.request.retries)) from exc
    return {"sent": result.sent, "failed": result.failed, "skipped": dict(result.skipped)}


@shared_task(name="digests.tasks.train_reader_models")
def train_reader_models(subscriber_ids: list[int] | None = None) -> int:
    """Retrain these readers' models (after a signal), or every stale one."""
    from digests.services import reader

    return reader.reader_models_train(subscriber_ids=subscriber_ids, stale_only=False)


@shared_task(name="digests.tasks.train_reader_models_nightly")
def train_reader_models_nightly() -> int:
    """Nightly: rebuild the vocabulary from the latest papers, then every reader's model."""
    from digests.services import reader

    reader.vocabulary_build()
    return reader.reader_models_train()


@shared_task(name="digests.tasks.send_update_alerts")
def send_update_alerts() -> int:
    """Hourly: e-mail "Updates on your papers" to readers who want them as they happen."""
    from digests.services import updates

    return updates.update_alerts_send()
