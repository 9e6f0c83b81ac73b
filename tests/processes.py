"""Real processes for the kill -9 tests: a Celery worker on the test database and broker,
and the fake Postmark API of bench/fake_esp.py, which counts what it received per address."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

# For a test module that starts worker processes: they share its database and broker.
WORKER_PROCESS_MARKS = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
        or not os.environ.get("REDIS_URL"),
        reason="a worker process shares the test database and broker: PostgreSQL and Redis",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def esp_state(port: int) -> dict:
    """{"received", "calls", "to": {address: copies}} as the fake ESP counted them."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
        return json.load(response)


def wait_for(condition, timeout=60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _is_up(port: int) -> bool:
    try:
        esp_state(port)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def fake_esp_process(*, delay: float):
    """The fake Postmark API in its own process, answering each call after `delay` s; a
    call counts as received when its body has arrived, before the delay."""
    port = free_port()
    script = str(ROOT / "bench" / "fake_esp.py")
    esp = subprocess.Popen([sys.executable, script, "--port", str(port), "--delay", str(delay)])
    try:
        assert wait_for(lambda: _is_up(port), timeout=10)
        yield port
    finally:
        esp.terminate()
        esp.wait()


def worker_process(esp_port: int, queue: str, env: dict) -> subprocess.Popen:
    """A Celery worker process (solo pool) consuming `queue`, on the test database, with
    the real Postmark backend pointed at the fake ESP."""
    db = connection.settings_dict
    auth = f"{db['USER']}:{db['PASSWORD']}" if db.get("PASSWORD") else db["USER"]
    database_url = f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config.celery_app",
            "worker",
            "--pool=solo",
            f"--queues={queue}",
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
            "ANYMAIL_POSTMARK_API_URL": f"http://127.0.0.1:{esp_port}/",
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
