"""What readers tell us, and the ranking we learn from it.

Signals come from the digest's links (More / Less like this, Mute this topic), the
library (saved and imported papers) and the chosen topics. `reader_models_train` turns
them into one digests.relevance.ReaderProfile per reader; the send reads the profiles of a
whole chunk at once with `reader_profiles`.
"""

import json
import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from digests import relevance
from digests.models import Delivery, ReaderModel, ReaderSignal, RelevanceVocabulary, TopicMute
from digests.services import stats
from papers.models import LibraryItem, Paper, Topic
from subscriptions.models import Subscriber

logger = logging.getLogger(__name__)


# --- Signals from the e-mail ----------------------------------------------------------------


def reader_signal_record(
    *, subscriber: Subscriber, paper: Paper, kind: str, delivery: Delivery | None = None
) -> bool:
    """Record More or Less like this. Idempotent; an opposite signal replaces the earlier
    one. Returns whether anything changed."""
    if kind not in (ReaderSignal.Kind.MORE, ReaderSignal.Kind.LESS):
        raise ValueError(f"unknown signal {kind!r}")
    with transaction.atomic():
        signal, created = ReaderSignal.objects.select_for_update().get_or_create(
            subscriber=subscriber, paper=paper, defaults={"kind": kind, "delivery": delivery}
        )
        changed = created or signal.kind != kind
        if not created and changed:
            signal.kind = kind
            signal.delivery = delivery or signal.delivery
            signal.save(update_fields=["kind", "delivery", "updated_at"])
    if changed:
        reader_model_mark_stale(subscriber=subscriber)
        stats.paper_count_feedback(
            paper_id=paper.pk,
            edition_id=delivery.edition_id if delivery else None,
            more=kind == ReaderSignal.Kind.MORE,
        )
    return changed


def reader_read_record(*, subscriber: Subscriber, paper: Paper) -> bool:
    """A click-through from the reader's feed: counts as reading, never over More/Less."""
    _, created = ReaderSignal.objects.get_or_create(
        subscriber=subscriber, paper=paper, defaults={"kind": ReaderSignal.Kind.READ}
    )
    if created:
        reader_model_mark_stale(subscriber=subscriber)
    return created


def reader_signal_undo(*, subscriber: Subscriber, paper: Paper) -> bool:
    removed, _ = ReaderSignal.objects.filter(subscriber=subscriber, paper=paper).delete()
    if removed:
        reader_model_mark_stale(subscriber=subscriber)
    return bool(removed)


def topic_mute(*, subscriber: Subscriber, topic: Topic) -> bool:
    _, created = TopicMute.objects.get_or_create(subscriber=subscriber, topic=topic)
    if created:
        reader_model_mark_stale(subscriber=subscriber)
    return created


def topic_unmute(*, subscriber: Subscriber, topic: Topic) -> bool:
    removed, _ = TopicMute.objects.filter(subscriber=subscriber, topic=topic).delete()
    if removed:
        reader_model_mark_stale(subscriber=subscriber)
    return bool(removed)


def reader_model_mark_stale(*, subscriber: Subscriber | None = None, user=None) -> None:
    """Ask for a retrain of this reader's model, soon (after the transaction commits)."""
    if subscriber is None:
        subscriber = Subscriber.objects.filter(user=user).first() if user is not None else None
    if subscriber is None:
        return
    ReaderModel.objects.filter(subscriber=subscriber).update(stale=True)
    if getattr(settings, "RELEVANCE_ENABLED", True):
        from digests.tasks import train_reader_models

        train_reader_models.delay_on_commit([subscriber.pk])


# --- Features -------------------------------------------------------------------------------


def vocabulary_build(*, papers: int | None = None) -> RelevanceVocabulary:
    """Document frequencies of the latest `papers` published papers (nightly)."""
    limit = papers or settings.RELEVANCE_VOCABULARY_PAPERS
    texts = (
        f"{title}\n{abstract}"
        for title, abstract in Paper.objects.latest()
        .values_list("title", "abstract")[:limit]
        .iterator(chunk_size=2000)
    )
    vocabulary = relevance.vocabulary_build(texts)
    row = RelevanceVocabulary.objects.create(
        built_at=timezone.now(), documents=vocabulary.documents, idf=vocabulary.idf
    )
    RelevanceVocabulary.objects.exclude(pk=row.pk).delete()
    _vocabulary.cache_clear()
    _paper_vector.cache_clear()
    logger.info("relevance vocabulary: %d terms from %d papers", len(vocabulary.idf), row.documents)
    return row


@lru_cache(maxsize=1)
def _vocabulary(version: str) -> relevance.Vocabulary:
    row = RelevanceVocabulary.objects.order_by("-built_at").first()
    if row is None:
        return relevance.Vocabulary(idf={}, documents=0)
    return relevance.Vocabulary(idf=row.idf, documents=row.documents)


def _vocabulary_version() -> str:
    built = (
        RelevanceVocabulary.objects.order_by("-built_at").values_list("built_at", flat=True).first()
    )
    if built is None:  # a first run: build it now rather than rank nothing
        built = vocabulary_build().built_at
    return built.isoformat()


def vocabulary_current() -> relevance.Vocabulary:
    return _vocabulary(_vocabulary_version())


@lru_cache(maxsize=20000)
def _paper_vector(version: str, paper_id: int, text: str) -> tuple:
    return tuple(relevance.vectorise(text, _vocabulary(version)).items())


def paper_vectors(papers: Iterable) -> dict[int, relevance.Vector]:
    """{paper id: vector} for objects with pk, title and abstract; cached per process."""
    version = _vocabulary_version()
    return {p.pk: dict(_paper_vector(version, p.pk, f"{p.title}\n{p.abstract}")) for p in papers}


# --- Training -------------------------------------------------------------------------------


# Papers whose features one training run keeps between its chunks (a few kilobytes each).
_RUN_PAPERS = 50000


class _Terms(dict):
    """A paper's anchor terms with their JSON, encoded once per run rather than once in
    every model that keeps the paper as an anchor."""

    __slots__ = ("json",)


def _profile_json(profile: relevance.ReaderProfile) -> str:
    """json.dumps(profile.as_json()), reusing the anchor terms' JSON where it is known."""
    dumps = json.dumps
    anchors = ",".join(
        f'{{"kind":{dumps(a["kind"])},"title":{dumps(a["title"])},"terms":'
        f"{getattr(a['terms'], 'json', None) or dumps(a['terms'])}}}"
        for a in profile.anchors
    )
    return (
        f'{{"weights":{dumps(profile.weights)},"anchors":[{anchors}],"signals":{profile.signals}}}'
    )


class _Features:
    """The features one training run needs, each computed once for the whole run: every
    signalled paper's vector and anchor terms, every topic's vector. (Per chunk or per
    reader, the same papers were fetched and vectorised again and again.)"""

    def __init__(self):
        self.vocabulary = vocabulary_current()
        self.papers: dict[int, tuple[str, relevance.Vector, relevance.Vector]] = {}
        self.topics = {
            t.pk: relevance.vectorise(f"{t.name}\n{t.description}", self.vocabulary)
            for t in Topic.objects.only("name", "description")
        }

    def load(self, paper_ids: set[int]) -> None:
        """Fetch and vectorise the papers of `paper_ids` not seen yet in this run."""
        missing = [pk for pk in paper_ids if pk not in self.papers]
        if not missing:
            return
        if len(self.papers) + len(missing) > _RUN_PAPERS:
            self.papers = {pk: self.papers[pk] for pk in paper_ids if pk in self.papers}
        for pk, title, abstract in (
            Paper.objects.filter(pk__in=missing)
            .values_list("pk", "title", "abstract")
            .iterator(chunk_size=2000)
        ):
            vector = relevance.vectorise(f"{title}\n{abstract}", self.vocabulary)
            top = _Terms(relevance.anchor_terms(vector))
            top.json = json.dumps(top)
            self.papers[pk] = (title, vector, top)

    def topic(self, topic_id: int) -> relevance.Vector:
        return self.topics.get(topic_id) or relevance.vectorise("", self.vocabulary)


def _examples_for(
    subscribers: list[Subscriber], features: _Features | None = None
) -> dict[int, list[relevance.Example]]:
    """Every reader's training examples, oldest first, in four queries for the chunk (and
    one for the papers `features` has not seen yet)."""
    features = features or _Features()
    ids = [s.pk for s in subscribers]
    by_user = {s.user_id: s.pk for s in subscribers if s.user_id}
    rows: dict[int, list[tuple]] = defaultdict(list)  # subscriber -> (time, kind, paper, title)
    for item in LibraryItem.objects.filter(user_id__in=list(by_user)).values_list(
        "user_id", "created_at", "origin", "paper_id", "title"
    ):
        user_id, created, origin, paper_id, title = item
        rows[by_user[user_id]].append((created, origin, paper_id, title))
    for sub_id, updated, kind, paper_id in ReaderSignal.objects.filter(
        subscriber_id__in=ids
    ).values_list("subscriber_id", "updated_at", "kind", "paper_id"):
        rows[sub_id].append((updated, kind, paper_id, ""))
    chosen = defaultdict(list)
    for sub_id, topic_id in Subscriber.topics.through.objects.filter(
        subscriber_id__in=ids
    ).values_list("subscriber_id", "topic_id"):
        chosen[sub_id].append(topic_id)
    for sub_id, topic_id in TopicMute.objects.filter(subscriber_id__in=ids).values_list(
        "subscriber_id", "topic_id"
    ):
        chosen[sub_id].append(-topic_id)  # negative: muted
    features.load({paper_id for items in rows.values() for _, _, paper_id, _ in items if paper_id})
    papers = features.papers
    Example = relevance.Example
    examples: dict[int, list[relevance.Example]] = {}
    for subscriber in subscribers:
        items = sorted(rows.get(subscriber.pk, []), key=lambda row: row[0])
        found = []
        for topic_id in chosen.get(subscriber.pk, []):
            kind = "muted" if topic_id < 0 else "topic"
            found.append(Example(kind, "", features.topic(abs(topic_id))))
        for _, kind, paper_id, title in items:
            kind = "saved" if kind == LibraryItem.Origin.SAVED else kind
            paper = papers.get(paper_id)
            if paper is not None:
                found.append(Example(kind, paper[0], paper[1], paper[2]))
            elif title:  # an imported entry Paperboy does not have: its title still counts
                found.append(Example(kind, title, relevance.vectorise(title, features.vocabulary)))
        examples[subscriber.pk] = found
    return examples


def _models_payload(models: list[tuple[int, relevance.ReaderProfile]]) -> str:
    """A chunk's models as one JSON document [[subscriber id, profile, signals], ...]."""
    rows = (f"[{pk},{_profile_json(profile)},{profile.signals}]" for pk, profile in models)
    return f"[{','.join(rows)}]"


def _models_store(models, payload: str | None, cold: list[int], now) -> None:
    """Upsert a chunk's models in one statement; delete the models of readers now cold."""
    with transaction.atomic():
        if cold:
            ReaderModel.objects.filter(subscriber_id__in=cold).delete()
        if not models:
            return
        if payload is None:
            ReaderModel.objects.bulk_create(
                [
                    ReaderModel(
                        subscriber_id=pk,
                        profile=profile.as_json(),
                        signals=profile.signals,
                        trained_at=now,
                        stale=False,
                    )
                    for pk, profile in models
                ],
                update_conflicts=True,
                unique_fields=["subscriber"],
                update_fields=["profile", "signals", "trained_at", "stale"],
            )
            return
        table = connection.ops.quote_name(ReaderModel._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {table} (subscriber_id, profile, signals, trained_at, stale)
                SELECT (row->>0)::bigint, row->1, (row->>2)::integer, %s, false
                FROM jsonb_array_elements(%s::jsonb) AS row
                ON CONFLICT (subscriber_id) DO UPDATE SET
                    profile = EXCLUDED.profile,
                    signals = EXCLUDED.signals,
                    trained_at = EXCLUDED.trained_at,
                    stale = EXCLUDED.stale
                """,
                [now, payload],
            )


def _close_thread_connection() -> None:
    connection.close()  # the calling thread's own connection


class _ChunkWriter:
    """Stores each chunk's models.

    On PostgreSQL the chunk goes as one JSON document, encoded here in C (the papers'
    anchor terms once per run) and unpacked by the server: bulk_create sent an array of
    JSON texts that psycopg's client-side binding escapes in Python, most of the old run's
    time. Outside a transaction a second thread with its own connection stores a chunk
    while this one trains the next, so the server's work and ours share the two cores; at
    most one chunk waits, and its error is raised here.
    """

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"
        threaded = self.postgres and not connection.in_atomic_block
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="models-write") if threaded else None
        self.pending: Future | None = None

    def write(self, models, cold: list[int], now) -> None:
        payload = _models_payload(models) if self.postgres and models else None
        if self.pool is None:
            _models_store(models, payload, cold, now)
            return
        self.wait()
        self.pending = self.pool.submit(_models_store, models, payload, cold, now)

    def wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def close(self) -> None:
        if self.pool is None:
            return
        try:
            self.wait()
        finally:
            self.pool.submit(_close_thread_connection).result()
            self.pool.shutdown()


def reader_models_train(*, subscriber_ids: list[int] | None = None, stale_only: bool = False):
    """(Re)train the models of these readers (all active ones when None). Returns the
    number of models written. Readers without signals get no model: trending order."""
    readers = Subscriber.objects.exclude(
        status__in=[Subscriber.Status.UNSUBSCRIBED, Subscriber.Status.COMPLAINED]
    )
    if subscriber_ids is not None:
        readers = readers.filter(pk__in=subscriber_ids)
    if stale_only:
        readers = readers.filter(reader_model__stale=True)
    now = timezone.now()
    written = 0
    chunk = settings.RELEVANCE_TRAIN_CHUNK
    features = _Features()
    writer = _ChunkWriter()
    last = 0
    try:
        while True:
            batch = list(readers.filter(pk__gt=last).order_by("pk").only("pk", "user_id")[:chunk])
            if not batch:
                break
            last = batch[-1].pk
            examples = _examples_for(batch, features)
            models, cold = [], []
            for subscriber in batch:
                profile = relevance.profile_train(examples[subscriber.pk])
                if profile.is_cold():
                    cold.append(subscriber.pk)
                else:
                    models.append((subscriber.pk, profile))
            writer.write(models, cold, now)
            written += len(models)
    finally:
        writer.close()
    return written


def reader_profiles(subscriber_ids: list[int]) -> dict[int, relevance.ReaderProfile]:
    """{subscriber id: profile} for a chunk of readers (readers without one are cold)."""
    if not getattr(settings, "RELEVANCE_ENABLED", True):
        return {}
    rows = ReaderModel.objects.filter(subscriber_id__in=subscriber_ids).values_list(
        "subscriber_id", "profile"
    )
    return {pk: relevance.ReaderProfile.from_json(profile) for pk, profile in rows}


def muted_topics(subscriber_ids: list[int]) -> dict[int, frozenset[int]]:
    muted = defaultdict(set)
    for sub_id, topic_id in TopicMute.objects.filter(subscriber_id__in=subscriber_ids).values_list(
        "subscriber_id", "topic_id"
    ):
        muted[sub_id].add(topic_id)
    return {pk: frozenset(topics) for pk, topics in muted.items()}


# --- The reader's own feed ------------------------------------------------------------------


def reader_feed_get(*, subscriber: Subscriber):
    """The reader's feed settings, created with a fresh key on first use."""
    from digests.models import ReaderFeed

    feed, _ = ReaderFeed.objects.get_or_create(
        subscriber=subscriber, defaults={"key": secrets.token_hex(16)}
    )
    return feed


def reader_feed_rotate(*, subscriber: Subscriber):
    """A new feed URL: every earlier one stops working."""
    feed = reader_feed_get(subscriber=subscriber)
    feed.key = secrets.token_hex(16)
    feed.save(update_fields=["key"])
    return feed


def reader_feed_set_feed_only(*, subscriber: Subscriber, feed_only: bool):
    feed = reader_feed_get(subscriber=subscriber)
    if feed.feed_only != feed_only:
        feed.feed_only = feed_only
        feed.save(update_fields=["feed_only"])
    return feed


def feed_only_subscribers(subscriber_ids: list[int]) -> set[int]:
    from digests.models import ReaderFeed

    return set(
        ReaderFeed.objects.filter(subscriber_id__in=subscriber_ids, feed_only=True).values_list(
            "subscriber_id", flat=True
        )
    )
