import re

import pytest
from django.core import mail


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Runs what the code enqueues with transaction.on_commit (e-mail tasks) at once; the
    test transaction never commits, so without it nothing would be sent."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def subscribe(client, run_on_commit):
    """POST the banner form as a browser would, sending whatever e-mail it enqueues."""

    def post(email, *, ip="203.0.113.7", client=client, **extra):
        data = {"email": email, "source": "/", "timezone": "Europe/Paris", **extra}
        with run_on_commit():
            return client.post(
                "/subscribe/", data, REMOTE_ADDR=ip, HTTP_USER_AGENT="Mozilla/5.0 (test)"
            )

    return post


def link_in(message, path):
    """The first absolute link containing `path` in both parts of `message` (same link)."""
    text_links = re.findall(r"https?://\S*" + re.escape(path) + r"\S*", message.body)
    html = message.alternatives[0][0] if message.alternatives else ""
    html_links = re.findall(r'href="(https?://[^"]*' + re.escape(path) + r'[^"]*)"', html)
    assert text_links, f"no {path} link in the text part"
    assert html_links, f"no {path} link in the HTML part"
    assert text_links[0] == html_links[0]
    return text_links[0]


@pytest.fixture
def post(client, run_on_commit):
    """POST as a browser would, then run what the request enqueued on commit: e-mails are
    recorded and sent by a task after commit."""

    def do(path, data, **extra):
        with run_on_commit():
            return client.post(path, data, **extra)

    return do


@pytest.fixture
def outbox():
    mail.outbox.clear()
    return mail.outbox


class WorkerKilled(BaseException):
    """Stands in for a kill -9 during the ESP call: nothing after it runs."""


@pytest.fixture
def esp(settings):
    """The real Postmark backend with its HTTP layer replaced: `esp.up` switches an outage
    (503) on and off, `esp.refuse` answers that the recipient is inactive (422), `esp.kill`
    makes the next call die mid-flight, and each call records
    the statuses of the recorded e-mails at the moment the ESP was called."""
    import json
    import uuid
    from pathlib import Path
    from types import SimpleNamespace

    import responses

    from subscriptions.models import OutboundEmail

    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "test-server-token"}
    data = Path(__file__).resolve().parent.parent / "digests" / "data"
    ok = json.loads((data / "postmark_send_ok.json").read_text())
    down = (data / "postmark_server_error.json").read_text()
    inactive = (data / "postmark_inactive_recipient.json").read_text()
    state = SimpleNamespace(up=True, kill=False, refuse=False, calls=[], accepted=[])

    def answer(request):
        payload = json.loads(request.body)
        statuses = list(OutboundEmail.objects.values_list("status", flat=True))
        state.calls.append((payload, statuses))
        if state.kill:
            state.kill = False
            raise WorkerKilled()
        if not state.up:
            return 503, {"Content-Type": "application/json"}, down
        if state.refuse:  # Postmark's answer for an address it has marked inactive
            refused = inactive.replace("reader@example.org", payload["To"])
            return 422, {"Content-Type": "application/json"}, refused
        state.accepted.append(payload)
        body = {**ok, "To": payload["To"], "MessageID": str(uuid.uuid4())}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback("POST", "https://api.postmarkapp.com/email", callback=answer)
        yield state
