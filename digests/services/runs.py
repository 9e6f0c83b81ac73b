"""Whole sends: what beat runs each hour, and what `send_digest` runs for one date."""

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import get_connection

from digests import rendering, selection, sending
from digests.models import Delivery
from digests.sending import Recipient, TransientSendError
from digests.services import updates
from digests.services.compose import (
    EditionEmpty,
    edition_get_or_compose,
    edition_pick_papers,
    edition_preview,
)
from digests.services.deliveries import (
    ChunkResult,
    backoff_seconds,
    delivery_fail_chunk,
    delivery_fail_stale,
    delivery_send_chunk,
    digest_fan_out,
    edition_finish_if_done,
)
from subscriptions.models import Subscriber

logger = logging.getLogger(__name__)


@dataclass
class SendSummary:
    editions: list = field(default_factory=list)
    due: int = 0
    already_sent: int = 0  # readers an earlier run of the same edition reached
    result: ChunkResult = field(default_factory=ChunkResult)


def digest_send_due(*, now: dt.datetime, enqueue) -> SendSummary:
    """What beat runs each hour: compose the editions that are due and fan them out."""
    summary = SendSummary()
    delivery_fail_stale()
    # What changed on the papers readers keep, before their digests list it.
    updates.paper_updates_detect(now=now)
    for (day, kind), subscribers in selection.due_now(now=now).items():
        if not subscribers.exists():
            continue
        try:
            edition, _ = edition_get_or_compose(day=day, kind=kind)
        except EditionEmpty as exc:
            # Nothing is stored, so the next hourly run composes it once there are papers;
            # readers due this hour get it from `send_digest --date` (it sends everyone due
            # that day).
            logger.error(
                "%s Readers due now: run send_digest --date %s --kind %s once there are papers.",
                exc,
                day.isoformat(),
                kind,
            )
            continue
        summary.editions.append(edition)
        summary.due += digest_fan_out(edition=edition, subscribers=subscribers, enqueue=enqueue)
    return summary


def digest_send_date(
    *, day: dt.date, kind: str, retries: int = 3, sleep=None, progress=None
) -> SendSummary:
    """Send the edition of `day` to everyone due that day, in this process (send_digest)."""
    sleep = sleep or time.sleep
    summary = SendSummary()
    updates.paper_updates_detect()
    subscribers = selection.due_on_date(day=day, kind=kind)
    edition, _ = edition_get_or_compose(day=day, kind=kind)
    summary.editions.append(edition)
    summary.already_sent = Delivery.objects.filter(
        edition=edition, status=Delivery.Status.SENT
    ).count()
    chunks: list[list[int]] = []
    summary.due = digest_fan_out(
        edition=edition, subscribers=subscribers, enqueue=lambda _pk, ids: chunks.append(ids)
    )
    connection = sending.digest_connection()
    for index, ids in enumerate(chunks, start=1):
        for attempt in range(retries + 1):
            try:
                summary.result.add(
                    delivery_send_chunk(edition=edition, subscriber_ids=ids, connection=connection)
                )
                break
            except TransientSendError as exc:
                if attempt == retries:
                    summary.result.failed += delivery_fail_chunk(
                        edition=edition, subscriber_ids=ids, error=str(exc)
                    )
                    break
                logger.warning("transient ESP error, retrying: %s", exc)
                sleep(backoff_seconds(attempt, base=1, cap=30))
        if progress:
            progress(index, len(chunks), summary.result)
    edition_finish_if_done(edition=edition)
    return summary


def digest_dry_run(*, day: dt.date, kind: str) -> SendSummary:
    """What `send_digest --dry-run` reports: the same choices as a real send
    (selection.choices_for over the same candidates), with nothing sent or written."""
    summary = SendSummary()
    edition, _ = edition_preview(day=day, kind=kind, refresh_scores=True)
    if edition.pk:
        candidates = selection.edition_candidates(edition)
        summary.already_sent = Delivery.objects.filter(
            edition=edition, status=Delivery.Status.SENT
        ).count()
    else:
        picks = edition_pick_papers(kind=kind)
        candidates = selection.candidates_of([(p.paper, p.reason) for p in picks])
    subscribers = selection.due_on_date(day=day, kind=kind).order_by("pk")
    if edition.pk:
        done = Delivery.objects.filter(edition=edition).exclude(status=Delivery.Status.PENDING)
        subscribers = subscribers.exclude(pk__in=done.values("subscriber_id"))
    size = settings.DIGEST_CHUNK_SIZE
    last = 0
    while True:
        chunk = list(subscribers.filter(pk__gt=last)[:size])
        if not chunk:
            break
        last = chunk[-1].pk
        choices = selection.choices_for(edition=edition, subscribers=chunk, candidates=candidates)
        for choice in choices.values():
            if choice.skip_reason:
                summary.result.skipped[choice.skip_reason] += 1
            else:
                summary.result.sent += 1
        summary.due += len(chunk)
    summary.editions.append(edition)
    return summary


def digest_send_test(*, day: dt.date, kind: str, to: str, connection=None) -> str:
    """One test copy of the edition of `day` to `to`: no delivery is recorded and the
    edition is not written. Links point at `to`'s own preferences if `to` subscribes."""
    edition, entries = edition_preview(day=day, kind=kind, refresh_scores=True)
    entries = entries[:10]
    rendered = rendering.render_digest(edition, entries, html=True, links=sending.placeholders())
    subscriber = Subscriber.objects.by_email(to).first()
    web = rendering.edition_web_url(edition)
    if subscriber:
        recipient = sending.recipient_for(0, subscriber)
        recipient.links["web_url"] = web  # a test copy has no delivery of its own
    else:  # not a reader: the copy shows the site's address where their links would be
        home = f"{settings.SITE_URL}/"
        links = {
            "web_url": web,
            "unsubscribe_url": home,
            "manage_url": home,
            "feedback_url": home.rstrip("/"),
        }
        recipient = Recipient(0, 0, to, links, {})
    outcomes = sending.send_call(
        connection=connection or get_connection(),
        mode=sending.Mode("each", 1),
        rendered=rendered,
        recipients=[recipient],
        kind=edition.kind,
        edition_id=edition.pk or 0,
    )
    outcome = outcomes[0]
    if not outcome.sent:
        raise ValueError(outcome.error)
    return outcome.message_id
