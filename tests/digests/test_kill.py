"""kill -9 of a real worker process mid-chunk, then a rerun: duplicates + missing stay
within one ESP call's recipients (one reader one-by-one, one batch in bulk mode)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery_app import app as celery_app
from digests.models import Delivery, Kind
from digests.services import digest_fan_out, edition_get_or_compose
from subscriptions.models import Subscriber
from tests.digests.conftest import make_trending
from tests.factories import SubscriberFactory

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "digests-kill-test"

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
        or not os.environ.get("REDIS_URL"),
        reason="a worker process shares the test database and broker: PostgreSQL and Redis",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _esp_state(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
        return json.load(response)


def _wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _worker(port: int, env: dict) -> subprocess.Popen:
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    if db.get("PASSWORD"):
        database_url = (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config.celery_app",
            "worker",
            "--pool=solo",
            f"--queues={QUEUE}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
            "ANYMAIL_POSTMARK_SERVER_TOKEN": "kill-test",
            "ANYMAIL_POSTMARK_API_URL": f"http://127.0.0.1:{port}/",
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture
def fake_esp():
    port = _free_port()
    esp = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fake_esp.py"), "--port", str(port), "--delay", "0.1"]
    )
    assert _wait_for(lambda: _is_up(port), timeout=10)
    yield port
    esp.terminate()
    esp.wait()


def _is_up(port: int) -> bool:
    try:
        _esp_state(port)
    except OSError:
        return False
    return True


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

    worker = _worker(fake_esp, env)
    try:
        send_digest_chunk.apply_async((edition.pk, chunks[0]), queue=QUEUE)
        assert _wait_for(lambda: _esp_state(fake_esp)["calls"] >= kill_after_calls)
        os.kill(worker.pid, signal.SIGKILL)  # mid-chunk, most likely mid-call
        worker.wait()
    finally:
        if worker.poll() is None:
            worker.kill()
    # Killed mid-chunk: readers of later calls are still pending, not stuck in "sending".
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).exists()
    assert Delivery.objects.filter(status=Delivery.Status.SENDING).count() <= per_call

    # The rerun (send_digest again, or the broker redelivering the unacknowledged task).
    rerun = _worker(fake_esp, env)
    try:
        send_digest_chunk.apply_async((edition.pk, chunks[0]), queue=QUEUE)
        assert _wait_for(
            lambda: not Delivery.objects.filter(status=Delivery.Status.PENDING).exists(), 60
        )
        time.sleep(0.5)  # let the last mark commit
    finally:
        rerun.send_signal(signal.SIGTERM)
        rerun.wait(30)

    got = _esp_state(fake_esp)["to"]
    missing = [r.email for r in readers if not got.get(r.email)]  # zero if killed between calls
    duplicates = sum(n - 1 for n in got.values() if n > 1)
    assert len(missing) + duplicates <= per_call, (mode, missing, duplicates)
    unaccounted = Delivery.objects.exclude(status=Delivery.Status.SENT)
    assert unaccounted.count() <= per_call
    assert set(unaccounted.values_list("status", flat=True)) <= {Delivery.Status.SENDING}
