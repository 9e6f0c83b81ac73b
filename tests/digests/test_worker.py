import time

import pytest
from celery.signals import task_postrun
from django.utils import timezone

from digests.models import Delivery, Edition
from digests.tasks import send_due_digests
from tests.digests.conftest import POSTMARK, make_trending, postmark_ok, sent_payloads
from tests.factories import SubscriberFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_for(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def finished_chunks():
    """Ids of the chunk tasks the worker has finished (its thread fires these signals)."""
    done = []

    def record(sender=None, task_id=None, **kwargs):
        if sender is not None and sender.name == "digests.tasks.send_digest_chunk":
            done.append(task_id)

    task_postrun.connect(record, weak=False)
    yield done
    task_postrun.disconnect(record)


def test_it_sends_an_edition_end_to_end_on_a_real_worker(postmark, celery_worker, finished_chunks):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    make_trending(5, title="Worker paper")
    hour = timezone.now().hour
    # Two readers an hour apart: whichever hour the beat task sees, exactly one is due.
    SubscriberFactory(delivery_hour=hour, email="now@example.org")
    SubscriberFactory(delivery_hour=(hour + 1) % 24, email="next@example.org")

    result = send_due_digests.delay().get(timeout=30)

    assert result["due"] == 1
    assert _wait_for(lambda: Delivery.objects.filter(status="sent").count() == 1)
    assert _wait_for(lambda: Edition.objects.filter(status=Edition.Status.SENT).exists())
    mails = sent_payloads(postmark)
    assert len(mails) == 1 and mails[0]["Subject"].endswith("Worker paper 0")
    # A second beat in the same hour finds everything already claimed.
    assert _wait_for(lambda: len(finished_chunks) == 1)
    assert send_due_digests.delay().get(timeout=30)["due"] == 1
    # Wait for the second beat's chunk task itself to finish, then count.
    assert _wait_for(lambda: len(finished_chunks) == 2)
    assert len(sent_payloads(postmark)) == 1
    assert Delivery.objects.get().attempts == 1
