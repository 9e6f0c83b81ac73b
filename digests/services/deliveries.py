"""Fan-out, claim, send and mark: the exactly-once core of sending a digest."""

import datetime as dt
import json
import logging
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from digests import rendering, selection
from digests.models import Delivery, Edition
from digests.sending import Outcome, Recipient, TransientSendError, merge_format, send_batch
from digests.sending import send_each as _send_each
from subscriptions.models import Subscriber
from subscriptions.tokens import list_unsubscribe_headers, manage_url, unsubscribe_url

logger = logging.getLogger(__name__)

CHUNK_SIZE = getattr(settings, "DIGEST_CHUNK_SIZE", 1000)
STALE_CLAIM = dt.timedelta(hours=2)


# --- Fan-out --------------------------------------------------------------------------------


def digest_fan_out(*, edition: Edition, subscribers, enqueue) -> int:
    """Create a pending delivery per subscriber (existing ones are kept as they are) and
    hand each chunk of subscriber ids to `enqueue(edition_id, ids)`. Returns the number of
    subscribers handed out. Streams by primary key, so memory does not grow with the list.
    """
    last = 0
    total = 0
    ids_query = subscribers.order_by("pk").values_list("pk", flat=True)
    while True:
        ids = list(ids_query.filter(pk__gt=last)[:CHUNK_SIZE])
        if not ids:
            break
        last = ids[-1]
        _insert_pending(edition=edition, subscriber_ids=ids)
        if not total:
            # A new edition starts sending; later hours add readers in other time zones
            # to an edition already sent. A failed edition stays failed (visible).
            Edition.objects.filter(
                pk=edition.pk, status__in=[Edition.Status.COMPOSING, Edition.Status.SENT]
            ).update(status=Edition.Status.SENDING)
        enqueue(edition.pk, ids)
        total += len(ids)
    return total


def _insert_pending(*, edition: Edition, subscriber_ids: list[int]) -> None:
    """INSERT ... SELECT ... ON CONFLICT DO NOTHING: one statement per chunk, and an
    existing delivery (a rerun, a second beat) is left exactly as it is. Cheaper than
    bulk_create, which prepares every default of every row in Python."""
    template = Delivery(edition=edition)
    fields = [
        f
        for f in Delivery._meta.concrete_fields
        if not f.primary_key and f.name != "subscriber" and not f.null
    ]
    values = [f.get_db_prep_save(f.pre_save(template, True), connection) for f in fields]
    table = Delivery._meta.db_table
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    selected = ", ".join(["%s"] * len(values))
    members = ", ".join(["%s"] * len(subscriber_ids))
    sql = (
        f"INSERT INTO {table} ({columns}, subscriber_id) "
        f"SELECT {selected}, s.id FROM {Subscriber._meta.db_table} s WHERE s.id IN ({members}) "
        f"ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *subscriber_ids])


# --- Sending one chunk ----------------------------------------------------------------------


@dataclass
class ChunkResult:
    sent: int = 0
    failed: int = 0
    skipped: Counter = field(default_factory=Counter)
    released: int = 0

    def add(self, other: "ChunkResult") -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.skipped.update(other.skipped)
        self.released += other.released


def _claim(*, edition: Edition, subscriber_ids: list[int]) -> list[Delivery]:
    """Take this chunk's pending deliveries; rows another worker holds are skipped."""
    with transaction.atomic():
        claimed = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                edition=edition,
                subscriber_id__in=subscriber_ids,
                status=Delivery.Status.PENDING,
            )
            .select_related("subscriber")
            .order_by("pk")
        )
        if claimed:
            Delivery.objects.filter(pk__in=[d.pk for d in claimed]).update(
                status=Delivery.Status.SENDING,
                claimed_at=timezone.now(),
                attempts=F("attempts") + 1,
            )
    return claimed


def recipient_for(delivery_id: int, subscriber: Subscriber) -> Recipient:
    headers = list_unsubscribe_headers(subscriber)
    # The header's first entry is the https unsubscribe URL: reuse it rather than sign the
    # same token twice (signing is a tenth of the per-reader cost).
    first = headers["List-Unsubscribe"].split(",", 1)[0].strip()
    unsubscribe = first[1:-1] if first.startswith("<") else unsubscribe_url(subscriber)
    return Recipient(
        delivery_id,
        subscriber.pk,
        subscriber.email,
        {"unsubscribe_url": unsubscribe, "manage_url": manage_url(subscriber)},
        headers,
    )


def delivery_send_chunk(*, edition: Edition, subscriber_ids: list[int], connection=None):
    """Claim, choose papers, send and mark the deliveries of one chunk.

    Raises TransientSendError after putting back every delivery the ESP did not take, so
    a retry sends exactly those. Returns a ChunkResult.
    """
    result = ChunkResult()
    claimed = _claim(edition=edition, subscriber_ids=subscriber_ids)
    if not claimed:
        edition_finish_if_done(edition=edition)  # a rerun may be what completes it
        return result
    now = timezone.now()
    candidates = selection.edition_candidates(edition)
    active = [
        d for d in claimed if d.subscriber and d.subscriber.status == Subscriber.Status.CONFIRMED
    ]
    active_ids = {d.pk for d in active}
    topics = selection.topics_of([d.subscriber_id for d in active])
    seen = selection.already_sent(
        edition=edition,
        subscriber_ids=[d.subscriber_id for d in active],
        paper_ids=[c.paper_id for c in candidates],
    )
    groups: dict[tuple, list[Recipient]] = defaultdict(list)
    for delivery in claimed:
        subscriber = delivery.subscriber
        if delivery.pk not in active_ids:
            choice = selection.Choice(skip_reason=Delivery.SkipReason.INACTIVE)
        else:
            choice = selection.choose_papers(
                subscriber,
                candidates=candidates,
                topic_ids=topics.get(subscriber.pk, frozenset()),
                seen=seen.get(subscriber.pk, set()),
            )
        delivery.paper_ids = choice.paper_ids
        if choice.skip_reason:
            delivery.status = Delivery.Status.SKIPPED
            delivery.skip_reason = choice.skip_reason
            result.skipped[choice.skip_reason] += 1
            continue
        html = subscriber.email_format != Subscriber.Format.TEXT
        groups[(tuple(choice.paper_ids), html)].append(recipient_for(delivery.pk, subscriber))

    outcomes: dict[int, Outcome] = {}
    transient: TransientSendError | None = None
    connection = connection or get_connection()
    batch = merge_format(connection)
    try:
        with connection:
            for (paper_ids, html), recipients in groups.items():
                rendered = rendering.rendered_for(edition, paper_ids, html=html)
                if batch:
                    field_format, protect = batch
                    for start in range(0, len(recipients), CHUNK_SIZE):
                        part = recipients[start : start + CHUNK_SIZE]
                        outcomes.update(
                            send_batch(
                                connection=connection,
                                rendered=rendered,
                                recipients=part,
                                field_format=field_format,
                                protect=protect,
                                kind=edition.kind,
                                edition_id=edition.pk,
                            )
                        )
                else:
                    _send_each(
                        connection=connection,
                        rendered=rendered,
                        recipients=recipients,
                        kind=edition.kind,
                        edition_id=edition.pk,
                        outcomes=outcomes,
                    )
    except TransientSendError as exc:
        transient = exc

    released = []
    for delivery in claimed:
        if delivery.status == Delivery.Status.SKIPPED:
            continue
        outcome = outcomes.get(delivery.pk)
        if outcome is None:
            delivery.status = Delivery.Status.PENDING  # the ESP never took it: retry sends it
            released.append(delivery)
        elif outcome.sent:
            delivery.status = Delivery.Status.SENT
            delivery.esp_message_id = outcome.message_id[:200]
            delivery.sent_at = now
            result.sent += 1
        else:
            delivery.status = Delivery.Status.FAILED
            delivery.error = outcome.error
            result.failed += 1
            logger.warning(
                "digest to subscriber %s refused: %s", delivery.subscriber_id, outcome.error
            )
    result.released = len(released)
    with transaction.atomic():
        _mark(claimed)
        Edition.objects.filter(pk=edition.pk).update(
            sent_count=F("sent_count") + result.sent,
            failed_count=F("failed_count") + result.failed,
            skipped_count=F("skipped_count") + sum(result.skipped.values()),
            **{
                f"skipped_{reason}": F(f"skipped_{reason}") + count
                for reason, count in result.skipped.items()
            },
        )
    if transient is not None:
        raise transient
    edition_finish_if_done(edition=edition)
    return result


_MARK_ROWS = 200  # rows per UPDATE: 7 parameters each stays far below SQLite's limit


def _mark(deliveries: list[Delivery]) -> None:
    """Write each delivery's outcome: one UPDATE ... FROM (VALUES ...) per 200 rows.

    Django's bulk_update builds a CASE expression per field and row, which costs more
    Python time than the send itself; this statement runs on PostgreSQL and SQLite 3.33+.
    """
    postgres = connection.vendor == "postgresql"
    json_cast, time_cast = ("::jsonb", "::timestamptz") if postgres else ("", "")
    table = Delivery._meta.db_table
    for start in range(0, len(deliveries), _MARK_ROWS):
        rows = deliveries[start : start + _MARK_ROWS]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(rows))
        params = []
        for d in rows:
            params += [
                d.pk,
                d.status,
                d.skip_reason,
                json.dumps(d.paper_ids),
                d.esp_message_id,
                d.error,
                connection.ops.adapt_datetimefield_value(d.sent_at),
            ]
        sql = (
            f"WITH v(id, status, skip_reason, paper_ids, esp_message_id, error, sent_at) "
            f"AS (VALUES {values}) "
            f"UPDATE {table} SET status = v.status, skip_reason = v.skip_reason, "
            f"paper_ids = v.paper_ids{json_cast}, esp_message_id = v.esp_message_id, "
            f"error = v.error, sent_at = v.sent_at{time_cast} "
            f"FROM v WHERE {table}.id = v.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def edition_finish_if_done(*, edition: Edition) -> bool:
    """Mark the edition sent once no delivery is waiting; failures are kept visible."""
    waiting = Delivery.objects.filter(
        edition=edition, status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING]
    ).exists()
    if waiting:
        return False
    done = Edition.objects.filter(pk=edition.pk, status=Edition.Status.SENDING).update(
        status=Edition.Status.SENT, sent_at=timezone.now()
    )
    if done:
        edition.refresh_from_db()
        if edition.failed_count:
            logger.error("%s finished with %d failed deliveries", edition, edition.failed_count)
    return bool(done)


def delivery_fail_chunk(*, edition: Edition, subscriber_ids: list[int], error: str) -> int:
    """Give up on a chunk the ESP kept refusing (retries exhausted): mark it failed."""
    with transaction.atomic():
        failed = Delivery.objects.filter(
            edition=edition,
            subscriber_id__in=subscriber_ids,
            status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING],
        ).update(status=Delivery.Status.FAILED, error=error[:2000])
        Edition.objects.filter(pk=edition.pk).update(
            failed_count=F("failed_count") + failed,
            status=Edition.Status.FAILED,
            error=error[:2000],
        )
    logger.error("%s: %d deliveries failed after retries: %s", edition, failed, error)
    return failed


def delivery_fail_stale(*, older_than: dt.timedelta = STALE_CLAIM) -> int:
    """Deliveries claimed long ago and never marked: the worker died mid-send. Whether the
    ESP took them is unknown, so they are marked failed (visible) rather than resent."""
    cutoff = timezone.now() - older_than
    stale = Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_at__lt=cutoff)
    by_edition = Counter(stale.values_list("edition_id", flat=True))
    count = stale.update(
        status=Delivery.Status.FAILED,
        error="interrupted mid-send; not resent, since the ESP may have taken it",
    )
    for edition_id, n in by_edition.items():
        Edition.objects.filter(pk=edition_id).update(failed_count=F("failed_count") + n)
        logger.error("edition %s: %d deliveries interrupted mid-send", edition_id, n)
    return count


def backoff_seconds(attempt: int, *, base: float = 30, cap: float = 1800) -> float:
    """Exponential backoff with full jitter: spreads retrying workers apart."""
    return random.uniform(0, min(cap, base * 2**attempt))  # jitter, not security
