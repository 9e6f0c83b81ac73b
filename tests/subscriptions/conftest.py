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
def outbox():
    mail.outbox.clear()
    return mail.outbox
