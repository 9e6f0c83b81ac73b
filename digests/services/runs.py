"""Whole sends: what beat runs each hour, and what `send_digest` runs for one date."""

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import get_connection

from digests import rendering, selection
from digests.sending import Outcome, Recipient, TransientSendError
from digests.sending import send_each as _send_each
from digests.services.compose import EditionEmpty, edition_get_or_compose, edition_preview
from digests.services.deliveries import (
    CHUNK_SIZE,
    ChunkResult,
    backoff_seconds,
    delivery_fail_chunk,
    delivery_fail_stale,
    delivery_send_chunk,
    digest_fan_out,
    edition_finish_if_done,
    recipient_for,
)
from papers.models import Paper
from subscriptions.models import Subscriber

logger = logging.getLogger(__name__)


@dataclass
class SendSummary:
    editions: list = field(default_factory=list)
    due: int = 0
    result: ChunkResult = field(default_factory=ChunkResult)


def digest_send_due(*, now: dt.datetime, enqueue) -> SendSummary:
    """What beat runs each hour: compose the editions that are due and fan them out."""
    summary = SendSummary()
    delivery_fail_stale()
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
    import time

    sleep = sleep or time.sleep
    summary = SendSummary()
    subscribers = selection.due_on_date(day=day, kind=kind)
    edition, _ = edition_get_or_compose(day=day, kind=kind)
    summary.editions.append(edition)
    chunks: list[list[int]] = []
    summary.due = digest_fan_out(
        edition=edition, subscribers=subscribers, enqueue=lambda _pk, ids: chunks.append(ids)
    )
    connection = get_connection()
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
    """What `send_digest --dry-run` reports: the choices, with nothing sent or written."""
    summary = SendSummary()
    edition, entries = edition_preview(day=day, kind=kind, refresh_scores=True)
    candidates = [
        selection.Candidate(
            paper_id=e.id,
            topic_ids=frozenset(),
            text=f"{e.title}\n{e.abstract}".lower(),
            has_code=bool(e.code),
        )
        for e in entries
    ]
    topic_map = defaultdict(set)
    for paper_id, topic_id in Paper.topics.through.objects.filter(
        paper_id__in=[c.paper_id for c in candidates]
    ).values_list("paper_id", "topic_id"):
        topic_map[paper_id].add(topic_id)
    candidates = [
        selection.Candidate(c.paper_id, frozenset(topic_map[c.paper_id]), c.text, c.has_code)
        for c in candidates
    ]
    subscribers = selection.due_on_date(day=day, kind=kind).order_by("pk")
    if edition.pk:
        subscribers = subscribers.exclude(deliveries__edition=edition)
    for chunk_start in range(0, subscribers.count(), CHUNK_SIZE):
        chunk = list(subscribers[chunk_start : chunk_start + CHUNK_SIZE])
        topics = selection.topics_of([s.pk for s in chunk])
        seen = selection.already_sent(
            edition=edition if edition.pk else None,
            subscriber_ids=[s.pk for s in chunk],
            paper_ids=[c.paper_id for c in candidates],
        )
        for subscriber in chunk:
            choice = selection.choose_papers(
                subscriber,
                candidates=candidates,
                topic_ids=topics[subscriber.pk],
                seen=seen.get(subscriber.pk, set()),
            )
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
    rendered = rendering.render_digest(
        edition,
        entries,
        html=True,
        web_url=rendering.edition_web_url(edition),
    )
    subscriber = Subscriber.objects.by_email(to).first()
    if subscriber:
        recipient = recipient_for(0, subscriber)
    else:  # not a reader: the copy shows the site's address where their links would be
        home = f"{settings.SITE_URL}/"
        recipient = Recipient(0, 0, to, {"unsubscribe_url": home, "manage_url": home}, {})
    outcomes: dict[int, Outcome] = {}
    _send_each(
        connection=connection or get_connection(),
        rendered=rendered,
        recipients=[recipient],
        kind=edition.kind,
        edition_id=edition.pk or 0,
        outcomes=outcomes,
    )
    outcome = outcomes[0]
    if not outcome.sent:
        raise ValueError(outcome.error)
    return outcome.message_id
