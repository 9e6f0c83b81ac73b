"""Transactional e-mail, recorded before it is sent: sign-up mail and allauth's account mail.

Every such e-mail is an OutboundEmail row, written in the transaction that asks for it and
sent by a task once that commits. The task claims the row with one conditional UPDATE
(pending → sending) before the ESP call, as digest deliveries are claimed, so a task
redelivered after a worker died mid-call finds nothing to send: a kill costs at most that
one e-mail, never a duplicate. An ESP that fails puts the row back to pending with
exponential backoff, and the minutely sweep (`outbound_emails_send_due`) sends what is due
until the e-mail expires, so an outage of a day delays a confirmation but does not lose it.
"""

import datetime
import logging

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from anymail.message import AnymailMessage
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from subscriptions.models import OutboundEmail, Subscriber
from subscriptions.services.lifecycle import ACTIVE

logger = logging.getLogger(__name__)

# A claim older than this was left by a worker that died mid-call: the ESP may have taken
# the e-mail, so it is failed, never sent again.
INTERRUPTED_AFTER = datetime.timedelta(hours=1)
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
SWEEP_BATCH = 1000
# Finished e-mails are kept this long for the admin, then deleted: they name an address,
# possibly of someone who never signed up (allauth's "unknown account" notice).
KEEP_FINISHED = datetime.timedelta(days=30)
# The task enqueued at commit sends a new e-mail at once; the sweep only takes it up if that
# task never ran (a broker down at the time), a little later.
SWEEP_GRACE = datetime.timedelta(minutes=2)


def _subscription_kinds() -> dict:
    """Sign-up e-mails: how each is built, and while which statuses it is still wanted (a
    late send never mails someone who meanwhile confirmed or left)."""
    from subscriptions import emails

    return {
        "confirm": (
            emails.confirmation,
            {Subscriber.Status.PENDING, Subscriber.Status.UNSUBSCRIBED},
        ),
        "already-subscribed": (emails.already_subscribed, ACTIVE),
    }


def _enqueue(email: OutboundEmail) -> None:
    from subscriptions.tasks import send_outbound_email

    # robust: a broker that is down must not turn the person's request into an error page;
    # the row is committed, and the sweep sends it.
    transaction.on_commit(lambda: send_outbound_email.delay(email.pk), robust=True)


def outbound_email_queue_for_subscriber(*, subscriber: Subscriber, kind: str) -> OutboundEmail:
    """Record a sign-up e-mail (`confirm`, `already-subscribed`) and send it after commit."""
    if kind not in _subscription_kinds():
        raise ValueError(f"unknown subscription e-mail {kind!r}")
    now = timezone.now()
    email = OutboundEmail.objects.create(
        kind=kind,
        to=subscriber.email,
        subscriber=subscriber,
        next_attempt_at=now + SWEEP_GRACE,
        # The link inside works this long; a confirmation sent later would be dead.
        expires_at=now + datetime.timedelta(seconds=settings.SUBSCRIPTION_CONFIRM_MAX_AGE),
    )
    _enqueue(email)
    return email


def outbound_email_queue_message(
    *, kind: str, message, lifetime: datetime.timedelta, user=None
) -> OutboundEmail:
    """Record an already rendered e-mail to one address (allauth's account mail) and send
    it after commit. `lifetime`: how long sending it still makes sense (a login code is
    useless after a few minutes)."""
    html = next((body for body, mimetype in message.alternatives if mimetype == "text/html"), "")
    now = timezone.now()
    email = OutboundEmail.objects.create(
        kind=kind[:100],
        to=message.to[0],
        user=user if getattr(user, "pk", None) else None,
        from_email=message.from_email or "",
        subject=message.subject[:998],
        body_text=message.body,
        body_html=html,
        next_attempt_at=now + SWEEP_GRACE,
        expires_at=now + lifetime,
    )
    _enqueue(email)
    return email


def _claim(email_id: int, now) -> bool:
    return bool(
        OutboundEmail.objects.filter(pk=email_id, status=OutboundEmail.Status.PENDING).update(
            status=OutboundEmail.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    )


def _build(email: OutboundEmail) -> AnymailMessage | None:
    """The message to send, or None when it is no longer wanted."""
    if email.subscriber_id is not None:
        build, statuses = _subscription_kinds()[email.kind]
        subscriber = email.subscriber
        if subscriber.status not in statuses:
            return None
        if email.kind == "confirm" and not subscriber.confirm_nonce:
            return None
        return build(subscriber)
    if email.kind in _subscription_kinds():
        return None  # its subscriber was deleted
    message = AnymailMessage(
        subject=email.subject,
        body=email.body_text,
        from_email=email.from_email or settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        tags=[email.kind.rsplit("/", 1)[-1]],
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    return message


def _permanent(exc: Exception) -> bool:
    """Errors that sending again cannot fix: the ESP refused the address or the message.
    Anything else (timeouts, connection errors, 5xx, 429, SMTP trouble) is an outage."""
    if isinstance(exc, AnymailRecipientsRefused):
        return True
    status = getattr(exc, "status_code", None)
    return (
        isinstance(exc, AnymailAPIError)
        and status is not None
        and 400 <= status < 500
        and (status != 429)
    )


def backoff(attempts: int) -> datetime.timedelta:
    """30 s after the first failure, doubling up to an hour between attempts."""
    seconds = BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return datetime.timedelta(seconds=min(BACKOFF_CAP_SECONDS, seconds))


def _finish(email_id: int, status: str, **fields) -> None:
    if status != OutboundEmail.Status.PENDING:
        # Login codes and reset links are not kept once they have gone (or never will).
        fields.update(body_text="", body_html="")
    OutboundEmail.objects.filter(pk=email_id).update(status=status, **fields)


def outbound_email_send(*, email_id: int, connection=None) -> str:
    """Claim one pending e-mail and make the one ESP call that sends it; returns what
    happened (for logs and tests). Never raises for an ESP error: the row records it."""
    now = timezone.now()
    if not _claim(email_id, now):
        return "not pending"
    email = OutboundEmail.objects.select_related("subscriber").get(pk=email_id)
    if email.expires_at <= now:
        _finish(email_id, OutboundEmail.Status.FAILED, error="expired before the ESP took it")
        return "expired"
    message = _build(email)
    if message is None:
        _finish(email_id, OutboundEmail.Status.CANCELLED)
        return "cancelled"
    if connection is not None:
        message.connection = connection
    try:
        message.send()
    except Exception as exc:  # every ESP failure is recorded on the row, none is raised
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if _permanent(exc):
            _finish(email_id, OutboundEmail.Status.FAILED, error=error)
            logger.error("e-mail %s (%s) refused by the ESP: %s", email_id, email.kind, error)
            return "failed"
        retry_at = timezone.now() + backoff(email.attempts)
        _finish(email_id, OutboundEmail.Status.PENDING, error=error, next_attempt_at=retry_at)
        logger.warning(
            "e-mail %s (%s) not sent, retry at %s: %s", email_id, email.kind, retry_at, error
        )
        return "retry"
    status = getattr(message, "anymail_status", None)
    _finish(
        email_id,
        OutboundEmail.Status.SENT,
        sent_at=timezone.now(),
        error="",
        esp_message_id=str(getattr(status, "message_id", "") or "")[:200],
    )
    return "sent"


def outbound_emails_send_due(*, now: datetime.datetime, enqueue) -> dict[str, int]:
    """The minutely sweep: hand every pending e-mail that is due to `enqueue` (one task
    each; the task drops those past their use), fail claims a dead worker left behind, and
    delete e-mails finished more than KEEP_FINISHED ago."""
    interrupted = OutboundEmail.objects.filter(
        status=OutboundEmail.Status.SENDING, claimed_at__lt=now - INTERRUPTED_AFTER
    ).update(
        status=OutboundEmail.Status.FAILED,
        error="interrupted mid-send (the ESP may have taken it); not sent again",
        body_text="",
        body_html="",
    )
    due = list(
        OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for email_id in due:
        enqueue(email_id)
    deleted, _ = (
        OutboundEmail.objects.exclude(
            status__in=[OutboundEmail.Status.PENDING, OutboundEmail.Status.SENDING]
        )
        .filter(created_at__lt=now - KEEP_FINISHED)
        .delete()
    )
    if interrupted:
        logger.error("%d e-mails interrupted mid-send; not sent again", interrupted)
    return {"due": len(due), "interrupted": interrupted, "deleted": deleted}
