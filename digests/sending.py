"""Talking to the ESP, and every reader's own links (merge fields) in their digest.

A digest is rendered once per distinct choice of papers, with placeholders where each
reader's links go (`placeholders()`). This module is the only one that knows them: it
merges each reader's links in itself (one call per reader, or Postmark's /email/batch) or
turns the placeholders into the ESP's merge fields (Postmark's Bulk API, or any ESP given
DIGEST_MERGE_FIELD_FORMAT, e.g. "%recipient.{name}%" for Mailgun).

Modes, chosen by `send_mode(connection)`:
- "bulk": one call carries up to DIGEST_BATCH_SIZE readers and the ESP merges the links.
  The default with Postmark (its Bulk API), and any ESP with DIGEST_MERGE_FIELD_FORMAT.
- "batch": Postmark's /email/batch, up to 500 readers a call, bodies merged here. Used
  once Postmark has refused the Bulk API (it is enabled per account on request): the
  refusal is remembered for a day, logged and shown in the admin.
- "each": one call per reader, bodies merged here (any other backend, or batching off).
"""

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

import requests
from anymail.backends.base import AnymailBaseBackend
from anymail.backends.postmark import EmailBackend as PostmarkBackend
from anymail.backends.postmark import PostmarkPayload
from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.core.cache import cache
from django.core.mail import get_connection
from django.utils import timezone

from digests.rendering import Rendered
from digests.tokens import feedback_base_url, web_url
from lib.emails import message_from_parts
from subscriptions.tokens import list_unsubscribe_headers, manage_url, unsubscribe_url

logger = logging.getLogger(__name__)

# --- Merge fields -----------------------------------------------------------------------

MERGE_FIELDS = ("web_url", "manage_url", "unsubscribe_url", "feedback_url")
_SENTINEL = "PBMERGE_{}_PBMERGE"
_SPLIT = re.compile(r"PBMERGE_(\w+?)_PBMERGE")


def placeholders() -> dict[str, str]:
    """What the digest is rendered with in place of each reader's links."""
    return {name: _SENTINEL.format(name) for name in MERGE_FIELDS}


def sample_links() -> dict[str, str]:
    """Links as a reader gets them, signed for a made-up reader: for the admin's preview
    (which must look real) and size checks (a long address makes long tokens)."""
    from subscriptions.models import Subscriber

    reader = Subscriber(pk=1_234_567, email="a.long-reader-address@example.org")
    delivery_id = 12_345_678
    return {
        "web_url": web_url(delivery_id),
        "manage_url": manage_url(reader),
        "unsubscribe_url": unsubscribe_url(reader),
        "feedback_url": feedback_base_url(
            subscriber_id=reader.pk, email=reader.email, delivery_id=delivery_id
        ),
    }


class Template:
    """A rendered part split at its merge fields: literal, field, literal, field, ...

    Each reader's copy is then a string join, about a hundred times cheaper than a
    template render plus CSS inlining."""

    def __init__(self, rendered: str):
        self.parts = _SPLIT.split(rendered)

    def merge(self, values: dict[str, str]) -> str:
        parts = self.parts
        out = [parts[0]]
        for index in range(1, len(parts), 2):
            out.append(values[parts[index]])
            out.append(parts[index + 1])
        return "".join(out)

    def with_merge_fields(self, field_format: str, protect=None) -> str:
        """The part for an ESP that merges itself: fields in its syntax, and literal text
        protected so the ESP's template language reads nothing else as a field."""
        protect = protect or (lambda text: text)
        parts = self.parts
        out = [protect(parts[0])]
        for index in range(1, len(parts), 2):
            out.append(field_format.format(name=parts[index]))
            out.append(protect(parts[index + 1]))
        return "".join(out)


@lru_cache(maxsize=512)
def template(text: str) -> Template:
    return Template(text)


def merged(rendered: Rendered, links: dict) -> tuple[str, str, str | None]:
    """(subject, text, html) of one reader's copy."""
    html = template(rendered.html).merge(links) if rendered.html is not None else None
    return rendered.subject, template(rendered.text).merge(links), html


def html_size(rendered: Rendered) -> int:
    """Bytes of the HTML part with the longest realistic links (Gmail clips at 102 kB)."""
    return len(merged(rendered, sample_links())[2].encode()) if rendered.html else 0


@dataclass(frozen=True)
class Recipient:
    delivery_id: int
    subscriber_id: int
    email: str
    links: dict  # merge field name -> this reader's URL
    list_headers: dict  # List-Unsubscribe and List-Unsubscribe-Post, from subscriptions


def recipient_for(delivery_id: int, subscriber) -> Recipient:
    """One reader's links: their own web copy, preferences and one-click unsubscribe."""
    headers = list_unsubscribe_headers(subscriber)
    # The header's first entry is the https unsubscribe URL: reuse it rather than sign the
    # same token twice (signing is a tenth of the per-reader cost).
    first = headers["List-Unsubscribe"].split(",", 1)[0].strip()
    unsubscribe = first[1:-1] if first.startswith("<") else unsubscribe_url(subscriber)
    links = {
        "web_url": web_url(delivery_id),
        "manage_url": manage_url(subscriber),
        "unsubscribe_url": unsubscribe,
        # The prefix of this reader's More / Less / Mute links: one signature per reader.
        "feedback_url": feedback_base_url(
            subscriber_id=subscriber.pk, email=subscriber.email, delivery_id=delivery_id
        ),
    }
    return Recipient(delivery_id, subscriber.pk, subscriber.email, links, headers)


# --- Outcomes and errors ----------------------------------------------------------------

# Anymail statuses meaning the ESP will never deliver this copy.
REFUSED = {"rejected", "invalid", "failed"}


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


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


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


# --- Connection and mode ----------------------------------------------------------------

POSTMARK_BATCH_LIMIT = 500  # Postmark's /email/batch takes at most 500 messages a call
_BULK_REFUSED_KEY = "digests:postmark-bulk-refused"
_BULK_REFUSED_FOR = 24 * 3600  # try the Bulk API again after a day: support may enable it


class _LocallyMergedPayload(PostmarkPayload):
    """Postmark's /email/batch with each reader's body merged here, for accounts where
    the Bulk API is not enabled."""

    def get_api_endpoint(self):
        return "email/batch"

    def data_for_recipient(self, to):
        data = super().data_for_recipient(to)
        subject, text, html = self.message.local_bodies[to.addr_spec]
        data["Subject"] = subject  # each reader's own, when their digests differ
        data["TextBody"] = text
        if html is not None:
            data["HtmlBody"] = html
        return data


class PostmarkBatchBackend(PostmarkBackend):
    """Anymail's Postmark backend, sending through /email/batch with local merging."""

    def __init__(self, **kwargs):
        kwargs["use_bulk_api"] = False
        super().__init__(**kwargs)

    def build_message_payload(self, message, defaults):
        return _LocallyMergedPayload(message, defaults, self)


def bulk_refused() -> dict | None:
    """{"at": ..., "error": ...} if Postmark refused the Bulk API in the last day."""
    return cache.get(_BULK_REFUSED_KEY)


def _remember_bulk_refused(error: str) -> None:
    logger.warning(
        "Postmark refused the Bulk API (%s); digests go through /email/batch, %d readers "
        "a call, for the next 24 hours. Ask Postmark support to enable the Bulk API.",
        error,
        POSTMARK_BATCH_LIMIT,
    )
    cache.set(
        _BULK_REFUSED_KEY,
        {"at": timezone.now().isoformat(), "error": error[:500]},
        _BULK_REFUSED_FOR,
    )


def _is_postmark(connection) -> bool:
    return isinstance(connection, AnymailBaseBackend) and connection.esp_name == "Postmark"


def digest_connection():
    """The connection digests go through: with Postmark and batching on (the default),
    its Bulk API, or /email/batch once the Bulk API was refused."""
    connection = get_connection()
    if not settings.DIGEST_BATCH_SEND or not _is_postmark(connection):
        return connection
    if isinstance(connection, PostmarkBatchBackend):
        return connection
    if bulk_refused():
        return PostmarkBatchBackend()
    return get_connection(settings.EMAIL_BACKEND, use_bulk_api=True)


@dataclass(frozen=True)
class Mode:
    name: str  # "bulk", "batch" or "each"
    per_call: int  # readers one ESP call carries, at most
    field_format: str = ""
    protect: object = None
    raw_format: str = ""  # a field whose value goes in as it is (HTML not escaped again)


def _mustache_protect(text: str) -> str:
    # Paper titles and abstracts may hold LaTeX such as "{{x}}"; a zero-width space keeps
    # Mustachio from reading it as a field while readers see the same characters.
    return text.replace("{{", "{\u200b{").replace("}}", "}\u200b}")


def send_mode(connection) -> Mode:
    """How `connection` sends digests, and so how many readers one claim covers."""
    size = settings.DIGEST_BATCH_SIZE
    if not settings.DIGEST_BATCH_SEND or not isinstance(connection, AnymailBaseBackend):
        return Mode("each", 1)
    if isinstance(connection, PostmarkBatchBackend):
        return Mode("batch", min(size, POSTMARK_BATCH_LIMIT))
    if settings.DIGEST_MERGE_FIELD_FORMAT:
        field_format = settings.DIGEST_MERGE_FIELD_FORMAT
        return Mode("bulk", size, field_format, raw_format=field_format)
    if _is_postmark(connection) and connection.use_bulk_api:
        # Mustachio escapes HTML in {{field}} and leaves {{{field}}} as it is.
        return Mode("bulk", size, "{{{{{name}}}}}", _mustache_protect, "{{{{{{{name}}}}}}}")
    return Mode("each", 1)


# --- Sending ----------------------------------------------------------------------------


def list_id(kind: str) -> str:
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return f"{settings.SITE_NAME} {kind} digest <{kind}.digest.{host}>"


def _esp_extra(connection) -> dict | None:
    # Newsletters go through Postmark's broadcast stream; confirmations and login codes
    # keep the default (transactional) one, since they are built without this.
    stream = settings.DIGEST_MESSAGE_STREAM
    return {"MessageStream": stream} if stream and _is_postmark(connection) else None


def send_call(
    *,
    connection,
    mode: Mode,
    rendered: Rendered | list[Rendered],
    recipients: list,
    kind: str,
    edition_id: int,
) -> dict[int, Outcome]:
    """One ESP call carrying `recipients` (one reader in "each" mode): one digest for all
    of them, or a list of digests aligned with `recipients` (each reader their own).
    Returns an outcome per delivery id; raises TransientSendError if the ESP may take the
    call later."""
    renders = rendered if isinstance(rendered, list) else [rendered] * len(recipients)
    shared = all(r is renders[0] for r in renders)
    try:
        if mode.name == "bulk" and shared:
            return _send_merged_by_esp(connection, mode, renders[0], recipients, kind, edition_id)
        if mode.name == "bulk":
            return _send_own_by_esp(connection, mode, renders, recipients, kind, edition_id)
        return _send_merged_here(connection, renders, recipients, kind, edition_id)
    except _BulkRefused as refused:
        _remember_bulk_refused(refused.error)
        batch = PostmarkBatchBackend()
        outcomes = {}
        for start in range(0, len(recipients), POSTMARK_BATCH_LIMIT):
            part = slice(start, start + POSTMARK_BATCH_LIMIT)
            outcomes.update(
                _send_merged_here(batch, renders[part], recipients[part], kind, edition_id)
            )
        return outcomes


class _BulkRefused(Exception):
    def __init__(self, error: str):
        super().__init__(error)
        self.error = error


def _call(message, recipients, *, bulk: bool) -> dict[int, Outcome]:
    try:
        message.send()
    except AnymailRecipientsRefused as exc:
        return {r.delivery_id: Outcome(sent=False, error=_describe(exc)) for r in recipients}
    except (AnymailError, requests.RequestException) as exc:
        if is_transient(exc):
            raise TransientSendError(_describe(exc)) from exc
        status = getattr(exc, "status_code", None)
        if bulk and status is not None and status != 401 and 400 <= status < 500:
            # A whole bulk call refused (Bulk API not enabled on this account, or the
            # endpoint unknown): try the same readers through /email/batch.
            raise _BulkRefused(_describe(exc)) from exc
        return {r.delivery_id: Outcome(sent=False, error=_describe(exc)) for r in recipients}
    return {r.delivery_id: _outcome_from_status(message, r.email) for r in recipients}


def _send_merged_by_esp(connection, mode, rendered, recipients, kind, edition_id):
    """One bulk call for readers who share a digest: only their links differ."""
    protect = mode.protect or (lambda text: text)
    html = rendered.html
    message = _bulk_message(
        connection,
        subject=protect(rendered.subject),
        text=template(rendered.text).with_merge_fields(mode.field_format, mode.protect),
        html=template(html).with_merge_fields(mode.field_format, mode.protect) if html else None,
        recipients=recipients,
        kind=kind,
        edition_id=edition_id,
    )
    message.merge_data = {r.email: r.links for r in recipients}
    bulk = _is_postmark(connection) and getattr(connection, "use_bulk_api", False)
    return _call(message, recipients, bulk=bulk)


def _bulk_message(connection, *, subject, text, html, recipients, kind, edition_id):
    message = message_from_parts(
        subject=subject,
        text=text,
        html=html,
        to=[r.email for r in recipients],
        headers={"List-Id": list_id(kind), "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        metadata={"edition_id": str(edition_id)},
        tags=[f"digest-{kind}"],
        esp_extra=_esp_extra(connection),
    )
    message.track_opens = message.track_clicks = True
    message.connection = connection
    message.merge_headers = {
        r.email: {"List-Unsubscribe": r.list_headers["List-Unsubscribe"]}
        for r in recipients
        if "List-Unsubscribe" in r.list_headers
    }
    message.merge_metadata = {
        r.email: {"subscriber_id": str(r.subscriber_id), "delivery_id": str(r.delivery_id)}
        for r in recipients
    }
    return message


def _send_own_by_esp(connection, mode, renders, recipients, kind, edition_id):
    """One bulk call for readers who each have a digest of their own (a personal order).

    What every reader of the edition shares (the head with its styles, the footer) goes
    once, with the ESP's fields for their links; each reader's own parts (subject, count,
    papers in their order with their feedback links, updates) go in that reader's merge
    data as fields the ESP inserts as they are (`mode.raw_format`), links merged in here."""
    protect = mode.protect or (lambda text: text)

    def shell(parts: tuple, prefix: str) -> str:
        out = []
        for index, part in enumerate(parts):
            if index % 2:  # the reader's own
                out.append(mode.raw_format.format(name=f"{prefix}{index // 2}"))
            else:  # the same for every reader of the edition
                out.append(template(part).with_merge_fields(mode.field_format, mode.protect))
        return "".join(out)

    sentinels = placeholders()

    def own(parts: tuple, prefix: str, links: dict) -> dict:
        values = {}
        for index in range(1, len(parts), 2):
            part = parts[index]
            for name, sentinel in sentinels.items():  # str.replace: one pass in C each
                if sentinel in part:
                    part = part.replace(sentinel, links[name])
            values[f"{prefix}{index // 2}"] = protect(part)
        return values

    first = renders[0]
    html = first.html is not None
    message = _bulk_message(
        connection,
        subject=mode.raw_format.format(name="pb_subject"),
        text=shell(first.text_parts, "pb_text_"),
        html=shell(first.html_parts, "pb_html_") if html else None,
        recipients=recipients,
        kind=kind,
        edition_id=edition_id,
    )
    merge_data = {}
    for recipient, rendered in zip(recipients, renders, strict=True):
        data = {**recipient.links, "pb_subject": protect(rendered.subject)}
        data |= own(rendered.text_parts, "pb_text_", recipient.links)
        if html:
            data |= own(rendered.html_parts, "pb_html_", recipient.links)
        merge_data[recipient.email] = data
    message.merge_data = merge_data
    bulk = _is_postmark(connection) and getattr(connection, "use_bulk_api", False)
    return _call(message, recipients, bulk=bulk)


def _send_merged_here(connection, renders, recipients, kind, edition_id):
    """Bodies merged here: one reader per call, or Postmark's /email/batch."""
    first = recipients[0]
    subject, text, html = merged(renders[0], first.links)
    metadata = {"edition_id": str(edition_id)}
    if len(recipients) == 1:
        metadata |= {
            "subscriber_id": str(first.subscriber_id),
            "delivery_id": str(first.delivery_id),
        }
    message = message_from_parts(
        subject=subject,
        text=text,
        html=html,
        to=[r.email for r in recipients],
        headers={**first.list_headers, "List-Id": list_id(kind)},
        metadata=metadata,
        tags=[f"digest-{kind}"],
        esp_extra=_esp_extra(connection),
    )
    message.track_opens = message.track_clicks = True
    message.connection = connection
    if isinstance(connection, PostmarkBatchBackend):
        message.local_bodies = {
            r.email: merged(rendered, r.links)
            for r, rendered in zip(recipients, renders, strict=True)
        }
        message.merge_headers = {r.email: r.list_headers for r in recipients}
        message.merge_metadata = {
            r.email: {"subscriber_id": str(r.subscriber_id), "delivery_id": str(r.delivery_id)}
            for r in recipients
        }
    elif len(recipients) != 1:
        raise ValueError("one reader per call unless the ESP merges or batches")
    return _call(message, recipients, bulk=False)
