import email

from anymail.message import AnymailMessage
from django.core.mail import get_connection


def _backend(settings, tmp_path):
    settings.EMAIL_FILE_PATH = str(tmp_path)
    return get_connection("lib.mailbox.EmailBackend")


def test_it_keeps_each_message_as_an_eml_file(settings, tmp_path):
    message = AnymailMessage(
        subject="Hello",
        body="Plain part",
        to=["a@example.org"],
        connection=_backend(settings, tmp_path),
    )
    message.attach_alternative("<p>HTML part</p>", "text/html")
    message.tags = ["digest"]

    assert message.send() == 1

    [path] = tmp_path.glob("*.eml")
    parsed = email.message_from_bytes(path.read_bytes())
    assert parsed["Subject"] == "Hello"
    assert parsed["To"] == "a@example.org"
    status = message.anymail_status.recipients["a@example.org"]
    assert status.status == "sent"
    assert parsed["X-Anymail-Message-Id"] == status.message_id


def test_it_writes_one_file_per_recipient_with_merged_headers(settings, tmp_path):
    message = AnymailMessage(
        subject="Digest",
        body="text",
        to=["a@example.org", "b@example.org"],
        connection=_backend(settings, tmp_path),
    )
    message.merge_headers = {
        "a@example.org": {"List-Unsubscribe": "<https://x/u/a>"},
        "b@example.org": {"List-Unsubscribe": "<https://x/u/b>"},
    }
    message.merge_metadata = {"a@example.org": {"id": "1"}, "b@example.org": {"id": "2"}}

    message.send()

    parsed = [email.message_from_bytes(p.read_bytes()) for p in tmp_path.glob("*.eml")]
    by_recipient = {m["To"]: m["List-Unsubscribe"] for m in parsed}
    assert by_recipient == {"a@example.org": "<https://x/u/a>", "b@example.org": "<https://x/u/b>"}
