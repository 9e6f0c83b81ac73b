"""The default e-mail backend: Anymail semantics, messages kept as .eml files.

It goes through Anymail's base backend, so tags, metadata, merge_headers and the
post-send signals behave as with a real ESP, while each message (one per recipient in a
batch send, with that recipient's merged headers) lands in EMAIL_FILE_PATH as a file any
mail client opens.
"""

import uuid
from pathlib import Path

from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.message import AnymailRecipientStatus
from django.conf import settings
from django.utils import timezone


class EmailBackend(AnymailTestBackend):
    esp_name = "Mailbox"

    def post_to_esp(self, payload, message):
        params = payload.get_params()
        directory = Path(settings.EMAIL_FILE_PATH)
        directory.mkdir(parents=True, exist_ok=True)
        merge_headers = params.get("merge_headers") or {}
        statuses = {}
        for email in payload.recipient_emails:
            message_id = str(uuid.uuid4())
            copy = message.message()
            if params.get("is_batch_send"):
                # A batch is one API call but one e-mail per recipient: show what each got.
                del copy["To"]
                copy["To"] = email
                for name, value in merge_headers.get(email, {}).items():
                    del copy[name]
                    copy[name] = value
            copy["X-Anymail-Message-Id"] = message_id
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            (directory / f"{stamp}-{message_id}.eml").write_bytes(copy.as_bytes())
            statuses[email] = AnymailRecipientStatus(message_id=message_id, status="sent")
        return {"recipient_status": statuses}
