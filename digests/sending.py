"""Talking to the ESP: batch or one-by-one, and which errors are worth a retry.

Batch sending needs the ESP to merge each recipient's links into a body defined once.
Anymail's Postmark backend does that on Postmark's Bulk API (USE_BULK_API), with
Mustachio fields; any other ESP can opt in with DIGEST_MERGE_FIELD_FORMAT (its merge-field
syntax, e.g. "%recipient.{name}%" for Mailgun). Otherwise each recipient gets one API
call with the links merged in here, from the same once-rendered body.
"""

import logging
from dataclasses import dataclass

import requests
from anymail.backends.base import AnymailBaseBackend
from anymail.exceptions import (
    AnymailAPIError,
    AnymailError,
    AnymailRecipientsRefused,
)
from anymail.message import AnymailMessage
from django.conf import settings

from digests.rendering import Rendered

logger = logging.getLogger(__name__)

# Anymail statuses meaning the ESP will never deliver this copy.
REFUSED = {"rejected", "invalid", "failed"}


@dataclass(frozen=True)
class Recipient:
    delivery_id: int
    subscriber_id: int
    email: str
    links: dict  # merge field name -> this recipient's URL
    list_headers: dict  # List-Unsubscribe and List-Unsubscribe-Post, from subscriptions


@dataclass(frozen=True)
class Outcome:
    sent: bool
    message_id: str = ""
    error: str = ""


class TransientSendError(Exception):
    """The ESP may accept this later (timeout, 5xx, rate limit): retry with backoff."""


def is_transient(exc: Exception) -> bool:
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return True
    if isinstance(exc, AnymailAPIError) and exc.status_code is not None:
        return exc.status_code == 429 or exc.status_code >= 500
    return False


def _mustache_protect(text: str) -> str:
    # Paper titles and abstracts may hold LaTeX such as "{{x}}"; a zero-width space keeps
    # Mustachio from reading it as a field while readers see the same characters.
    return text.replace("{{", "{\u200b{").replace("}}", "}\u200b}")


def merge_format(connection) -> tuple[str, object] | None:
    """(merge field format, literal-text protector) if `connection` can batch, else None."""
    if not getattr(settings, "DIGEST_BATCH_SEND", True):
        return None
    if not isinstance(connection, AnymailBaseBackend):
        return None
    custom = getattr(settings, "DIGEST_MERGE_FIELD_FORMAT", "")
    if custom:
        return custom, None
    if connection.esp_name == "Postmark" and getattr(connection, "use_bulk_api", False):
        return "{{{{{name}}}}}", _mustache_protect
    return None


def list_id(kind: str) -> str:
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return f"{settings.SITE_NAME} {kind} digest <{kind}.digest.{host}>"


def _message(*, subject, text, html, to, headers, metadata, tags) -> AnymailMessage:
    message = AnymailMessage(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers=headers,
        tags=tags,
        metadata=metadata,
    )
    if html is not None:
        message.attach_alternative(html, "text/html")
    message.track_opens = True
    message.track_clicks = True
    return message


def _outcome_from_status(message, email: str) -> Outcome:
    status = getattr(message, "anymail_status", None)
    if status is None or status.recipients is None:
        return Outcome(sent=True)  # a non-Anymail backend: it raised nothing, so it took it
    recipient = status.recipients.get(email) or status.recipients.get(email.lower())
    if recipient is None:
        return Outcome(sent=True, message_id=str(status.message_id or ""))
    if recipient.status in REFUSED:
        return Outcome(sent=False, error=f"refused by the ESP: {recipient.status}")
    return Outcome(sent=True, message_id=str(recipient.message_id or ""))


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def send_batch(
    *,
    connection,
    rendered: Rendered,
    recipients: list[Recipient],
    field_format: str,
    protect,
    kind: str,
    edition_id: int,
) -> dict[int, Outcome]:
    """One API call for all `recipients` of one distinct digest."""
    html = rendered.html.with_merge_fields(field_format, protect) if rendered.html else None
    message = _message(
        subject=(protect or (lambda s: s))(rendered.subject),
        text=rendered.text.with_merge_fields(field_format, protect),
        html=html,
        to=[r.email for r in recipients],
        headers={"List-Id": list_id(kind), "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        metadata={"edition_id": str(edition_id)},
        tags=[f"digest-{kind}"],
    )
    message.connection = connection
    message.merge_data = {r.email: r.links for r in recipients}
    message.merge_headers = {
        r.email: {"List-Unsubscribe": r.list_headers["List-Unsubscribe"]}
        for r in recipients
        if "List-Unsubscribe" in r.list_headers
    }
    message.merge_metadata = {
        r.email: {"subscriber_id": str(r.subscriber_id), "delivery_id": str(r.delivery_id)}
        for r in recipients
    }
    try:
        message.send()
    except AnymailRecipientsRefused as exc:
        return {r.delivery_id: Outcome(sent=False, error=_describe(exc)) for r in recipients}
    except (AnymailError, requests.RequestException) as exc:
        if is_transient(exc):
            raise TransientSendError(_describe(exc)) from exc
        return {r.delivery_id: Outcome(sent=False, error=_describe(exc)) for r in recipients}
    return {r.delivery_id: _outcome_from_status(message, r.email) for r in recipients}


def send_each(
    *,
    connection,
    rendered: Rendered,
    recipients: list[Recipient],
    kind: str,
    edition_id: int,
    outcomes: dict[int, Outcome],
) -> None:
    """One API call per recipient, links merged here. Fills `outcomes` as it goes, so a
    transient error part-way keeps what was already sent."""
    for r in recipients:
        message = _message(
            subject=rendered.subject,
            text=rendered.text.merge(r.links),
            html=rendered.html.merge(r.links) if rendered.html else None,
            to=[r.email],
            headers={**r.list_headers, "List-Id": list_id(kind)},
            metadata={
                "edition_id": str(edition_id),
                "subscriber_id": str(r.subscriber_id),
                "delivery_id": str(r.delivery_id),
            },
            tags=[f"digest-{kind}"],
        )
        message.connection = connection
        try:
            message.send()
        except (AnymailError, requests.RequestException) as exc:
            if is_transient(exc):
                raise TransientSendError(_describe(exc)) from exc
            outcomes[r.delivery_id] = Outcome(sent=False, error=_describe(exc))
            continue
        outcomes[r.delivery_id] = _outcome_from_status(message, r.email)
