"""kill -9 of a real worker process in the middle of a transactional e-mail's ESP call: the
task the broker redelivers, and the sweep after it, never send that e-mail again, and the
e-mails queued behind it go out once each."""

import datetime
import os
import signal

from django.utils import timezone

from config.celery_app import app as celery_app
from subscriptions.models import OutboundEmail
from subscriptions.services import outbound_emails_send_due
from subscriptions.tasks import send_outbound_email
from tests.processes import (
    WORKER_PROCESS_MARKS,
    esp_state,
    fake_esp_process,
    wait_for,
    worker_process,
)

QUEUE = "outbox-kill-test"

pytestmark = WORKER_PROCESS_MARKS


def _login_code(to: str) -> OutboundEmail:
    # Rows as allauth's mail adapter records them; created here without their on-commit
    # task, so that the test decides which worker gets which task.
    now = timezone.now()
    return OutboundEmail.objects.create(
        kind="account/email/login_code",
        to=to,
        subject="Your sign-in code",
        body_text="Your code is 123456.",
        next_attempt_at=now,
        expires_at=now + datetime.timedelta(minutes=15),
    )


def _send(email: OutboundEmail):
    return send_outbound_email.apply_async((email.pk,), queue=QUEUE)


def test_a_kill_9_during_the_esp_call_never_sends_that_email_twice():
    first, second = _login_code("ada@example.org"), _login_code("bob@example.org")
    celery_app.conf.task_always_eager = False
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE)  # nothing left from an earlier run

    # The ESP takes 3 s to answer: the kill lands after it has the message, before the reply.
    with fake_esp_process(delay=3) as esp:
        worker = worker_process(esp, QUEUE, {})
        try:
            _send(first)
            _send(second)  # queued behind it, not yet taken
            assert wait_for(lambda: esp_state(esp)["calls"] == 1, timeout=60)
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
        finally:
            if worker.poll() is None:
                worker.kill()
        first.refresh_from_db()
        assert first.status == OutboundEmail.Status.SENDING  # claimed before the call

        # A fresh worker: the broker's redelivery of the unacknowledged task (sent again by
        # hand: Redis would wait for its visibility timeout), then the sweep two hours on.
        rerun = worker_process(esp, QUEUE, {})
        try:
            assert _send(first).get(timeout=60) == "not pending"
            swept = []
            later = timezone.now() + datetime.timedelta(hours=2)
            outbound_emails_send_due(
                now=later, enqueue=lambda pk: swept.append(_send(OutboundEmail(pk=pk)))
            )
            # The sweep fails the interrupted claim; it hands on only what is still pending
            # (bob's e-mail, unless the fresh worker has already sent it).
            assert {r.get(timeout=60) for r in swept} <= {"sent", "not pending"}
            assert wait_for(
                lambda: OutboundEmail.objects.filter(status=OutboundEmail.Status.SENT).exists(),
                timeout=60,
            )
            assert _send(first).get(timeout=60) == "not pending"
        finally:
            rerun.send_signal(signal.SIGTERM)
            rerun.wait(30)
        got = esp_state(esp)["to"]

    assert got == {"ada@example.org": 1, "bob@example.org": 1}
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == OutboundEmail.Status.FAILED and "interrupted" in first.error
    assert second.status == OutboundEmail.Status.SENT
