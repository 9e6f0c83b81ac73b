"""kill -9 of a real worker process mid-chunk, then a rerun: duplicates + missing stay
within one ESP call's recipients (one reader one-by-one, one batch in bulk mode)."""

import os
import signal
import time

import pytest

from config.celery_app import app as celery_app
from digests.models import Delivery, Kind
from digests.services import digest_fan_out, edition_get_or_compose
from subscriptions.models import Subscriber
from tests.digests.conftest import make_trending
from tests.factories import SubscriberFactory
from tests.processes import (
    WORKER_PROCESS_MARKS,
    esp_state,
    fake_esp_process,
    wait_for,
    worker_process,
)

QUEUE = "digests-kill-test"

pytestmark = WORKER_PROCESS_MARKS


@pytest.fixture
def fake_esp():
    with fake_esp_process(delay=0.1) as port:
        yield port


@pytest.mark.parametrize(
    ("mode", "env", "per_call", "kill_after_calls"),
    [
        ("one-by-one", {"DIGEST_BATCH_SEND": "0"}, 1, 4),
        ("bulk", {"DIGEST_BATCH_SEND": "1", "DIGEST_BATCH_SIZE": "3"}, 3, 2),
    ],
)
def test_a_kill_9_mid_chunk_costs_at_most_one_calls_readers(
    fake_esp, mode, env, per_call, kill_after_calls
):
    make_trending(3)
    readers = [SubscriberFactory() for _ in range(15)]
    edition, _ = edition_get_or_compose(day=readers[0].created_at.date(), kind=Kind.DAILY)
    chunks = []
    digest_fan_out(
        edition=edition,
        subscribers=Subscriber.objects.all(),
        enqueue=lambda _pk, ids: chunks.append(ids),
    )
    assert len(chunks) == 1  # one chunk: the kill lands in the middle of it
    celery_app.conf.task_always_eager = False
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE)  # nothing left from an earlier run
    from digests.tasks import send_digest_chunk

    worker = worker_process(fake_esp, QUEUE, env)
    try:
        send_digest_chunk.apply_async((edition.pk, chunks[0]), queue=QUEUE)
        assert wait_for(lambda: esp_state(fake_esp)["calls"] >= kill_after_calls)
        os.kill(worker.pid, signal.SIGKILL)  # mid-chunk, most likely mid-call
        worker.wait()
    finally:
        if worker.poll() is None:
            worker.kill()
    # Killed mid-chunk: readers of later calls are still pending, not stuck in "sending".
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).exists()
    assert Delivery.objects.filter(status=Delivery.Status.SENDING).count() <= per_call

    # The rerun (send_digest again, or the broker redelivering the unacknowledged task).
    rerun = worker_process(fake_esp, QUEUE, env)
    try:
        send_digest_chunk.apply_async((edition.pk, chunks[0]), queue=QUEUE)
        assert wait_for(
            lambda: not Delivery.objects.filter(status=Delivery.Status.PENDING).exists(), 60
        )
        time.sleep(0.5)  # let the last mark commit
    finally:
        rerun.send_signal(signal.SIGTERM)
        rerun.wait(30)

    got = esp_state(fake_esp)["to"]
    missing = [r.email for r in readers if not got.get(r.email)]  # zero if killed between calls
    duplicates = sum(n - 1 for n in got.values() if n > 1)
    assert len(missing) + duplicates <= per_call, (mode, missing, duplicates)
    unaccounted = Delivery.objects.exclude(status=Delivery.Status.SENT)
    assert unaccounted.count() <= per_call
    assert set(unaccounted.values_list("status", flat=True)) <= {Delivery.Status.SENDING}
