"""Fan-out, claim, send and mark: the exactly-once core of sending a digest."""

import datetime as dt
import json
import logging
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import islice

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from digests import rendering, selection, sending
from digests.models import Delivery, Edition
from digests.sending import (
    Outcome,
    Recipient,
    TransientSendError,
    digest_connection,
    recipient_for,
    send_mode,
)
from digests.services import reader, updates
from subscriptions.models import Subscriber

logger = logging.getLogger(__name__)

STALE_CLAIM = dt.timedelta(hours=2)


# --- Fan-out --------------------------------------------------------------------------------


def digest_fan_out(*, edition: Edition, subscribers, enqueue) -> int:
    """Create a pending delivery per subscriber (existing ones are kept as they are) and
    hand each chunk of subscriber ids to `enqueue(edition_id, ids)`. Returns the number of
    subscribers handed out.

    Chunks are cut in `selection.in_digest_order`, so readers who get the same digest share
    a chunk and, in bulk mode, an ESP call: with chunks cut by primary key, 9,000 readers
    of the send benchmark took 499 calls for 55 distinct digests. The ids stream through
    one server-side cursor, so memory does not grow with the list.
    """
    size = settings.DIGEST_CHUNK_SIZE
    total = 0
    ordered = selection.in_digest_order(subscribers).values_list("pk", flat=True)
    stream = ordered.iterator(chunk_size=size)
    while ids := list(islice(stream, size)):
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


# --- Sending one chunk: claim -> choose -> send -> mark, one ESP call at a time ------------


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


@dataclass(slots=True)
class Mark:
    """One delivery's outcome, to write (lighter than a model instance per reader)."""

    pk: int
    subscriber_id: int
    paper_ids: list
    reasons: list = field(default_factory=list)  # the reader's own "why" per paper
    status: str = Delivery.Status.SENDING
    skip_reason: str = ""
    esp_message_id: str = ""
    error: str = ""
    sent_at: object = None


@dataclass
class Call:
    """What one ESP call carries: readers in the same format, each with their digest,
    `(paper_ids, personal reasons, updates)`; the same one for all, or each their own."""

    html: bool
    recipients: list[Recipient]
    digests: list[tuple]  # aligned with recipients

    @classmethod
    def shared(cls, digest: tuple, html: bool, recipients: list[Recipient]) -> "Call":
        return cls(html, recipients, [digest] * len(recipients))


def delivery_send_chunk(*, edition: Edition, subscriber_ids: list[int], connection=None):
    """Send the pending deliveries of one chunk, one ESP call at a time.

    Each call is claimed just before it is made (its rows become "sending") and marked
    just after, so a worker killed at any moment leaves at most one call's readers
    unaccounted for; a rerun or a redelivered task sends everyone else. Raises
    TransientSendError after putting the failed call's rows back to pending, so a retry
    sends exactly those (and never a reader an earlier call already reached).
    """
    connection = connection or digest_connection()
    mode = send_mode(connection)
    result = ChunkResult()
    marks: list[Mark] = []  # the last call's outcomes, written with the next claim
    _commit_without_flush(True)
    try:
        calls = _choose(edition=edition, subscriber_ids=subscriber_ids, mode=mode, result=result)
        if calls:
            with connection:
                for call in calls:
                    _send_call(
                        edition=edition,
                        call=call,
                        connection=connection,
                        mode=mode,
                        result=result,
                        marks=marks,
                    )
    finally:
        _mark(marks)
        _count(edition=edition, result=result)
        _commit_without_flush(False)
    edition_finish_if_done(edition=edition)
    return result


def _commit_without_flush(on: bool) -> None:
    """PostgreSQL, with DIGEST_ASYNC_COMMIT only (off by default): claims and marks commit
    without waiting for the WAL flush to disk.

    A claim commits before every ESP call, one per reader in one-by-one mode, and a
    flushed commit costs a disk sync (5 to 7 ms on the benchmark machine against 0.3 ms).
    A commit is visible to every worker at once either way, and a killed worker loses
    nothing the database has; only a crash of the database server itself can lose the
    last fraction of a second (3 x wal_writer_delay) of claims, whose readers a rerun may
    then mail a second time. See docs/digests.md.
    """
    if connection.vendor == "postgresql" and settings.DIGEST_ASYNC_COMMIT:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off" if on else "RESET synchronous_commit")


# What `_mark` writes for a reader skipped here: every other column of a delivery (a dozen
# timestamps among them) would cost more to load than the rest of choosing.
_PENDING_FIELDS = (
    "subscriber",
    "status",
    "skip_reason",
    "paper_ids",
    "reasons",
    "esp_message_id",
    "error",
    "sent_at",
)


def _choose(*, edition: Edition, subscriber_ids: list[int], mode, result: ChunkResult):
    """Choose each pending reader's papers and plan the ESP calls. Readers who get
    nothing are claimed and marked skipped here, in one transaction (no ESP call)."""
    pending = list(
        Delivery.objects.filter(
            edition=edition, subscriber_id__in=subscriber_ids, status=Delivery.Status.PENDING
        )
        .select_related("subscriber")
        .only(*_PENDING_FIELDS, *(f"subscriber__{name}" for name in selection.READER_FIELDS))
        .order_by("pk")
    )
    if not pending:
        return []
    # The same rule as at fan-out: whoever left or paused since is skipped, not mailed.
    receiving = set(
        Subscriber.objects.receiving(on=edition.date)
        .filter(pk__in=[d.subscriber_id for d in pending if d.subscriber_id])
        .values_list("pk", flat=True)
    )
    active = [d for d in pending if d.subscriber_id in receiving]
    feed_only = reader.feed_only_subscribers([d.subscriber_id for d in active])
    listed = updates.pending_for_digest([d.subscriber for d in active])
    choices = selection.choices_for(
        edition=edition,
        subscribers=[d.subscriber for d in active],
        candidates=selection.edition_candidates(edition),
    )
    skipped = []
    groups: dict[tuple, list[Recipient]] = defaultdict(list)
    for delivery in pending:
        choice = choices.get(delivery.subscriber_id)
        if choice is None:
            choice = selection.Choice(skip_reason=Delivery.SkipReason.INACTIVE)
        if not choice.skip_reason and delivery.subscriber_id in feed_only:
            # Chosen and recorded for the reader's own feed, not mailed.
            delivery.paper_ids = choice.paper_ids
            delivery.reasons = choice.personal_reasons
            choice = selection.Choice(skip_reason=Delivery.SkipReason.FEED_ONLY)
        if choice.skip_reason:
            delivery.status = Delivery.Status.SKIPPED
            delivery.skip_reason = choice.skip_reason
            skipped.append(delivery)
            continue
        delivery.paper_ids = choice.paper_ids
        html = delivery.subscriber.email_format != Subscriber.Format.TEXT
        key = (
            tuple(choice.paper_ids),
            tuple(choice.personal_reasons),
            listed.get(delivery.subscriber_id, ()),
            html,
        )
        groups[key].append(recipient_for(delivery.pk, delivery.subscriber))
    if skipped:
        with transaction.atomic():
            claimed = delivery_claim(delivery_ids=[d.pk for d in skipped])
            skipped = [d for d in skipped if d.pk in claimed]
            _mark(skipped)
        result.skipped.update(d.skip_reason for d in skipped)
    return _plan_calls(groups, mode)


def _plan_calls(groups: dict, mode) -> list[Call]:
    """ESP calls for a chunk's readers, grouped by digest: readers who share a digest go
    in one call per digest (its text carried once); with an ESP that takes many readers
    a call, those whose digest nobody else in the chunk gets (a personal order) go
    together, up to `mode.per_call` a call, each with their own digest."""
    calls, alone = [], defaultdict(list)
    for (paper_ids, reasons, news, html), recipients in groups.items():
        digest = (paper_ids, reasons, news)
        if len(recipients) == 1 and mode.per_call > 1:
            alone[html].append((digest, recipients[0]))
            continue
        for start in range(0, len(recipients), mode.per_call):
            calls.append(Call.shared(digest, html, recipients[start : start + mode.per_call]))
    for html, readers in alone.items():
        for start in range(0, len(readers), mode.per_call):
            part = readers[start : start + mode.per_call]
            calls.append(Call(html, [r for _, r in part], [d for d, _ in part]))
    return calls


def delivery_claim(*, delivery_ids: list[int], mark_first: list[Delivery] = ()) -> set[int]:
    """Take the pending rows among `delivery_ids` for this worker: "sending", committed
    before any ESP call. Rows another worker holds are skipped, not waited for.

    `mark_first` (the previous call's outcomes) is written in the same statement: one
    round trip and one commit per ESP call. A kill between that call and this claim
    leaves its readers "sending" (mailed, not resent): still one call's worth.
    """
    if connection.vendor == "postgresql":
        return _claim_postgresql(delivery_ids, mark_first)
    # SQLite has no row locks (a write locks the whole file): select, then update.
    table = Delivery._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        _mark(mark_first)
        cursor.execute(
            f"SELECT id FROM {table} WHERE id IN ({', '.join(['%s'] * len(delivery_ids))}) "
            "AND status = %s",
            [*delivery_ids, Delivery.Status.PENDING],
        )
        ids = [row[0] for row in cursor.fetchall()]
        if ids:
            cursor.execute(
                f"UPDATE {table} SET status = %s, claimed_at = %s, attempts = attempts + 1 "
                f"WHERE id IN ({', '.join(['%s'] * len(ids))})",
                [
                    Delivery.Status.SENDING,
                    connection.ops.adapt_datetimefield_value(timezone.now()),
                    *ids,
                ],
            )
    return set(ids)


def _claim_postgresql(delivery_ids: list[int], mark_first: list[Delivery]) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(*_claim_sql_postgresql(delivery_ids, mark_first))
        return {row[0] for row in cursor.fetchall()}


def _claim_sql_postgresql(delivery_ids: list[int], mark_first: list[Delivery]) -> tuple:
    # One statement, so one round trip per ESP call even in one-by-one mode: the previous
    # call's outcomes (a data-modifying CTE), then SELECT ... FOR UPDATE SKIP LOCKED of
    # this call's pending rows, which become "sending". Its text never changes (arrays,
    # not one placeholder per row), so psycopg and the server parse one statement.
    #
    # The rows are locked through the primary key alone, and their status is checked on
    # the locked row. With `status = 'pending'` beside the join, the planner may scan the
    # partial index of pending rows instead, which holds every row of the day's fan-out:
    # it does whenever the table's statistics predate the fan-out (a first send, or the
    # day's rows inserted since the last ANALYZE), and each claim then reads every pending
    # row (27 ms a claim, 18 of 77 s of a 100,000-reader send in bench/send_digest.py).
    table = Delivery._meta.db_table
    marked, params = _MARK_SQL_POSTGRESQL.format(table=table), _mark_arrays(mark_first)
    sql = (
        f"WITH marked AS ({marked}), "
        f"locked AS (SELECT d.id, d.status FROM unnest(%s::bigint[]) AS c(id) "
        f"JOIN {table} d ON d.id = c.id FOR UPDATE OF d SKIP LOCKED) "
        f"UPDATE {table} SET status = %s, claimed_at = %s, attempts = {table}.attempts + 1 "
        f"FROM locked WHERE {table}.id = locked.id AND locked.status = %s "
        f"RETURNING {table}.id"
    )
    params += [list(delivery_ids), Delivery.Status.SENDING, timezone.now(), Delivery.Status.PENDING]
    return sql, params


def _send_call(
    *, edition: Edition, call: Call, connection, mode, result: ChunkResult, marks: list
) -> None:
    """Claim one call's readers, make the call, mark them: the unit a kill -9 can cost.
    The outcomes go to `marks`, written by the next claim (or at the end of the chunk)."""
    claimed = delivery_claim(
        delivery_ids=[r.delivery_id for r in call.recipients], mark_first=marks
    )
    marks.clear()
    recipients = [r for r in call.recipients if r.delivery_id in claimed]
    if not recipients:
        return  # another worker, or an earlier run, has them
    links = sending.placeholders()
    digests = dict(zip((r.delivery_id for r in call.recipients), call.digests, strict=True))
    renders: dict[tuple, rendering.Rendered] = {}  # one join per distinct digest in the call
    for recipient in recipients:
        paper_ids, reasons, news = digest = digests[recipient.delivery_id]
        if digest not in renders:
            renders[digest] = rendering.rendered_for(
                edition, paper_ids, html=call.html, links=links, reasons=reasons, updates=news
            )
    deliveries = []
    for r in recipients:
        paper_ids, reasons, _ = digests[r.delivery_id]
        deliveries.append(Mark(r.delivery_id, r.subscriber_id, list(paper_ids), list(reasons)))
    try:
        outcomes = sending.send_call(
            connection=connection,
            mode=mode,
            rendered=[renders[digests[r.delivery_id]] for r in recipients],
            recipients=recipients,
            kind=edition.kind,
            edition_id=edition.pk,
        )
    except TransientSendError:
        for delivery in deliveries:
            delivery.status = Delivery.Status.PENDING  # the ESP did not take it: retry sends it
            delivery.paper_ids = []
            delivery.reasons = []
        _mark(deliveries)
        result.released += len(deliveries)
        raise
    now = timezone.now()
    for delivery in deliveries:
        outcome = outcomes.get(delivery.pk) or Outcome(sent=False, error="no answer from the ESP")
        if outcome.sent:
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
    marks.extend(deliveries)
    for delivery in deliveries:
        news = digests[delivery.pk][2]
        if news and delivery.status == Delivery.Status.SENT:
            until = max(u[0] for u in news)
            updates.updates_mark_listed(subscriber_id=delivery.subscriber_id, until=until)


def _count(*, edition: Edition, result: ChunkResult) -> None:
    """Move the edition's counters once per chunk (exact again when it finishes)."""
    skipped = sum(result.skipped.values())
    if result.sent or result.failed or skipped:
        Edition.objects.filter(pk=edition.pk).update(
            sent_count=F("sent_count") + result.sent,
            failed_count=F("failed_count") + result.failed,
            skipped_count=F("skipped_count") + skipped,
            **{
                f"skipped_{reason}": F(f"skipped_{reason}") + count
                for reason, count in result.skipped.items()
            },
        )


_MARK_COLUMNS = "id, status, skip_reason, paper_ids, reasons, esp_message_id, error, sent_at"
_MARK_ASSIGNMENTS = (
    "status = v.status, skip_reason = v.skip_reason, paper_ids = v.paper_ids{json}, "
    "reasons = v.reasons{json}, esp_message_id = v.esp_message_id, error = v.error, "
    "sent_at = v.sent_at{time}"
)
# PostgreSQL: one array per column, so the statement's text is the same for 1 row or 1,000.
_MARK_SQL_POSTGRESQL = (
    "UPDATE {table} SET "
    + _MARK_ASSIGNMENTS.format(json="::jsonb", time="")
    + " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], "
    "%s::text[], %s::text[], %s::timestamptz[]) AS v(" + _MARK_COLUMNS + ") "
    "WHERE {table}.id = v.id"
)


def _mark_arrays(rows: list) -> list:
    """The columns of `_MARK_SQL_POSTGRESQL`, one list each."""
    return [
        [d.pk for d in rows],
        [d.status for d in rows],
        [d.skip_reason for d in rows],
        [json.dumps(d.paper_ids) for d in rows],
        [json.dumps(d.reasons or []) for d in rows],
        [d.esp_message_id for d in rows],
        [d.error for d in rows],
        [d.sent_at for d in rows],
    ]


def _mark_sql_sqlite(rows: list) -> tuple[str, list]:
    """UPDATE ... FROM (VALUES ...) writing each row's outcome (SQLite names a VALUES
    list's columns only through WITH), and its parameters."""
    table = Delivery._meta.db_table
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    params = []
    for d in rows:
        params += [
            d.pk,
            d.status,
            d.skip_reason,
            json.dumps(d.paper_ids),
            json.dumps(d.reasons or []),
            d.esp_message_id,
            d.error,
            connection.ops.adapt_datetimefield_value(d.sent_at),
        ]
    sql = (
        f"WITH v({_MARK_COLUMNS}) AS (VALUES {values}) "
        f"UPDATE {table} SET {_MARK_ASSIGNMENTS.format(json='', time='')} "
        f"FROM v WHERE {table}.id = v.id"
    )
    return sql, params


_MARK_ROWS = 200  # rows per SQLite UPDATE: 8 parameters each stays far below its limit


def _mark(deliveries: list[Delivery]) -> None:
    """Write each delivery's outcome: one UPDATE ... FROM unnest(arrays) on PostgreSQL, one
    UPDATE ... FROM (VALUES ...) per 200 rows on SQLite 3.33+.

    Django's bulk_update builds a CASE expression per field and row, which costs more
    Python time than the send itself."""
    if not deliveries:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = _MARK_SQL_POSTGRESQL.format(table=Delivery._meta.db_table)
            cursor.execute(sql, _mark_arrays(deliveries))
            return
        for start in range(0, len(deliveries), _MARK_ROWS):
            cursor.execute(*_mark_sql_sqlite(deliveries[start : start + _MARK_ROWS]))


def edition_finish_if_done(*, edition: Edition) -> bool:
    """Mark the edition sent once no delivery is waiting; failures are kept visible."""
    waiting = Delivery.objects.filter(
        edition=edition, status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING]
    ).exists()
    if waiting:
        return False
    # Counters are moved once per chunk; a worker killed mid-chunk never moved its own, so
    # they are counted from the deliveries when the edition completes.
    counts = Counter(
        dict(
            Delivery.objects.filter(edition=edition)
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
    )
    done = Edition.objects.filter(pk=edition.pk, status=Edition.Status.SENDING).update(
        status=Edition.Status.SENT,
        sent_at=timezone.now(),
        sent_count=counts[Delivery.Status.SENT],
        failed_count=counts[Delivery.Status.FAILED],
        skipped_count=counts[Delivery.Status.SKIPPED],
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
        edition = Edition.objects.filter(pk=edition_id).first()
        if edition is not None:
            edition_finish_if_done(edition=edition)
    return count


def backoff_seconds(attempt: int, *, base: float = 30, cap: float = 1800) -> float:
    """Exponential backoff with full jitter: spreads retrying workers apart."""
    return random.uniform(0, min(cap, base * 2**attempt))  # jitter, not security
