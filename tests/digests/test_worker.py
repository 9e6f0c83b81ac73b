import pytest
from django.utils import timezone

from digests.models import Delivery, Edition
from digests.tasks import send_due_digests
from tests.digests.conftest import POSTMARK, make_trending, postmark_ok, sent_payloads, wait_for
from tests.factories import SubscriberFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CHUNK = "digests.tasks.send_digest_chunk"


def test_it_sends_an_edition_end_to_end_on_a_real_worker(postmark, celery_worker, finished_tasks):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    make_trending(5, title="Worker paper")
    hour = timezone.now().hour
    # Two readers an hour apart: whichever hour the beat task sees, exactly one is due.
    SubscriberFactory(delivery_hour=hour, email="now@example.org")
    SubscriberFactory(delivery_hour=(hour + 1) % 24, email="next@example.org")

    result = send_due_digests.delay().get(timeout=30)

    assert result["due"] == 1
    assert wait_for(lambda: Delivery.objects.filter(status="sent").count() == 1)
    assert wait_for(lambda: Edition.objects.filter(status=Edition.Status.SENT).exists())
    mails = sent_payloads(postmark)
    assert len(mails) == 1 and mails[0]["Subject"].endswith("Worker paper 0")
    # A second beat in the same hour finds everything already claimed.
    assert wait_for(lambda: finished_tasks.count(CHUNK) == 1)
    assert send_due_digests.delay().get(timeout=30)["due"] == 1
    # Wait for the second beat's chunk task itself to finish, then count.
    assert wait_for(lambda: finished_tasks.count(CHUNK) == 2)
    assert len(sent_payloads(postmark)) == 1
    assert Delivery.objects.get().attempts == 1
