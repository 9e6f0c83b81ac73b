"""Reads for sending: who is due when, and which papers each subscriber gets.

Everything here works on whole chunks (one query for a chunk's topics, one for its
history), so the number of queries never grows with the number of recipients.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from digests import relevance
from digests.models import Delivery, EditionPaper, Kind
from papers.models import Paper
from subscriptions.models import Subscriber


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # A bad stored value must not stop everyone else's digest: treat it as UTC.
        return ZoneInfo("UTC")


def due_on_date(*, day: dt.date, kind: str) -> QuerySet:
    """Everyone who gets the `kind` digest of `day`, whatever their delivery hour."""
    subscribers = Subscriber.objects.receiving(on=day).filter(frequency=kind)
    if kind == Kind.WEEKLY:
        subscribers = subscribers.filter(weekday=day.weekday())
    return subscribers


# The subscriber's columns that decide which digest they get (`reader_for`, and the format).
DIGEST_CHOICES = (
    "email_format",
    "papers_per_email",
    "only_with_code",
    "ranking",
    "keywords_include",
    "keywords_exclude",
)
# All the columns choosing and sending read, with the address and account behind the links
# and updates: the send loads only these.
READER_FIELDS = ("email", "user", *DIGEST_CHOICES)


def in_digest_order(subscribers: QuerySet) -> QuerySet:
    """`subscribers` with those likely to get the same digest next to each other: by their
    `DIGEST_CHOICES`, then their first topic.

    The fan-out cuts the list into chunks in this order, so a chunk's readers share few
    distinct digests: in bulk mode each is one ESP call (and one claim) for all its readers
    in the chunk, rendered once. Readers with their own relevance model still get their
    own order; the sort only puts the others together.
    """
    through = Subscriber.topics.through
    first_topic = through.objects.filter(subscriber_id=OuterRef("pk")).order_by("topic_id")
    return subscribers.order_by(
        *DIGEST_CHOICES,
        Subquery(first_topic.values("topic_id")[:1]).asc(nulls_first=True),
        "pk",
    )


def due_now(*, now: dt.datetime) -> dict[tuple[dt.date, str], QuerySet]:
    """Subscribers whose delivery hour has come at `now` in their own time zone.

    Keyed by (local date, kind): a reader in Tokyo and one in Lima are due in the same hour
    but on different dates, so they get different editions. One query finds the time zones
    in use; the returned QuerySets are lazy. Who receives mail on a date is decided by
    `Subscriber.objects.receiving(on=<local date>)` alone, so a paused reader east of UTC
    is due on the first local day after the pause, before the nightly status flip.
    """
    zones = (
        Subscriber.objects.filter(
            status__in=[Subscriber.Status.CONFIRMED, Subscriber.Status.PAUSED]
        )
        .values_list("timezone", flat=True)
        .distinct()
    )
    by_date: dict[tuple[dt.date, str], Q] = {}
    for name in zones:
        local = now.astimezone(_zone(name))
        day = local.date()
        for kind in Kind.values:
            match = Q(timezone=name, delivery_hour=local.hour)
            if kind == Kind.WEEKLY:
                match &= Q(weekday=local.weekday())
            key = (day, kind)
            by_date[key] = by_date[key] | match if key in by_date else match
    due = {}
    for (day, kind), match in sorted(by_date.items()):
        due[(day, kind)] = Subscriber.objects.receiving(on=day).filter(frequency=kind).filter(match)
    return due


@dataclass(frozen=True)
class Candidate:
    """An edition paper, reduced to what choosing needs."""

    paper_id: int
    topic_ids: frozenset[int]
    text: str  # lower-cased title and abstract, for keyword matching
    has_code: bool
    reason: str = ""  # why the edition holds it ("+50 stars in 24 h")
    # TF-IDF terms of title and abstract, for the reader's relevance model (empty when off).
    vector: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Reader:
    """A subscriber, reduced to what choosing needs: plain values, no queries."""

    subscriber_id: int
    topic_ids: frozenset[int]  # empty = all topics
    keywords_include: tuple[str, ...]
    keywords_exclude: tuple[str, ...]
    only_with_code: bool
    papers_per_email: int
    seen: frozenset[int]  # papers an earlier edition already sent them
    muted_topic_ids: frozenset[int] = frozenset()  # "Mute this topic"
    profile: object = None  # digests.relevance.ReaderProfile; None = trending order
    ranking: str = "balanced"  # trending / balanced / interests (Subscriber.Ranking)


@dataclass(frozen=True)
class ChosenPaper:
    paper_id: int
    reason: str  # why trending
    personal_reason: str = ""  # why for this reader ("Because you saved ..."), if any


@dataclass(frozen=True)
class Choice:
    """The papers one reader gets, in order, each with why; or why they get nothing."""

    papers: tuple[ChosenPaper, ...] = ()
    skip_reason: str = ""

    @property
    def paper_ids(self) -> list[int]:
        return [p.paper_id for p in self.papers]

    @property
    def personal_reasons(self) -> list[str]:
        return [p.personal_reason for p in self.papers]


def choose(*, reader: Reader, candidates: Sequence[Candidate], index=None) -> Choice:
    """The one pure rule for what a reader gets, used by the real send and the dry run.

    Candidates in, ordered choice with per-paper reasons out: the edition's papers in
    their order, filtered by the reader's preferences, never sent to them before, cut to
    their chosen count. An empty choice carries the reason recorded in the history. No
    database access: a per-reader ranking can replace this function without touching I/O.
    `index` (relevance.Index of the candidates) saves rebuilding it for every reader.
    """
    # Locals, not attributes, in the loop: this runs for every candidate of every reader.
    topics, only_code = reader.topic_ids, reader.only_with_code
    include, exclude, seen = reader.keywords_include, reader.keywords_exclude, reader.seen
    muted, profile = reader.muted_topic_ids, reader.profile
    # A reader with a model ranks every fresh candidate; one without stops at their count.
    limit = reader.papers_per_email if profile is None else len(candidates)
    matched = False
    fresh = []
    for paper in candidates:
        if topics and not (paper.topic_ids & topics):
            continue
        if muted and paper.topic_ids & muted:
            continue
        if only_code and not paper.has_code:
            continue
        if include and not any(w in paper.text for w in include):
            continue
        if exclude and any(w in paper.text for w in exclude):
            continue
        matched = True
        if paper.paper_id not in seen:
            fresh.append(paper)
            if len(fresh) == limit:
                break
    if not matched:
        return Choice(skip_reason=Delivery.SkipReason.NO_MATCH)
    if not fresh:
        return Choice(skip_reason=Delivery.SkipReason.ALL_SEEN)
    if profile is None:  # no signals: exactly the trending order
        return Choice(papers=tuple(ChosenPaper(p.paper_id, p.reason) for p in fresh))
    by_id = {p.paper_id: p for p in fresh}
    ranked = relevance.rank(
        [(p.paper_id, p.vector) for p in fresh],
        profile,
        mode=reader.ranking,
        limit=reader.papers_per_email,
        index=index,
    )
    return Choice(
        papers=tuple(ChosenPaper(r.paper_id, by_id[r.paper_id].reason, r.reason) for r in ranked)
    )


def candidates_of(rows: Sequence[tuple]) -> list[Candidate]:
    """Candidates for [(paper, reason), ...] in order, with their topics: one query."""
    topics = defaultdict(set)
    through = Paper.topics.through
    for paper_id, topic_id in through.objects.filter(
        paper_id__in=[paper.pk for paper, _ in rows]
    ).values_list("paper_id", "topic_id"):
        topics[paper_id].add(topic_id)
    vectors = _vectors([paper for paper, _ in rows])
    return [
        Candidate(
            paper_id=paper.pk,
            topic_ids=frozenset(topics[paper.pk]),
            text=f"{paper.title}\n{paper.abstract}".lower(),
            has_code=paper.has_code,
            reason=reason or "",
            vector=vectors.get(paper.pk, {}),
        )
        for paper, reason in rows
    ]


def _vectors(papers) -> dict:
    """The candidates' relevance features (cached per process), or none when it is off."""
    if not papers or not settings.RELEVANCE_ENABLED:
        return {}
    from digests.services import reader  # the services package imports this module

    return reader.paper_vectors(papers)


def edition_candidates(edition) -> list[Candidate]:
    """The saved edition's papers in order, with their topics: two queries."""
    entries = (
        EditionPaper.objects.filter(edition=edition)
        .select_related("paper")
        .only(
            "paper__id",
            "paper__title",
            "paper__abstract",
            "paper__has_code",
            "position",
            "reason",
        )
        .order_by("position")
    )
    return candidates_of([(e.paper, e.reason) for e in entries])


def topics_of(subscriber_ids: list[int]) -> dict[int, frozenset[int]]:
    """{subscriber id: chosen topic ids} for a chunk, in one query (empty = all topics)."""
    through = Subscriber.topics.through
    chosen = defaultdict(set)
    rows = through.objects.filter(subscriber_id__in=subscriber_ids)
    for subscriber_id, topic_id in rows.values_list("subscriber_id", "topic_id"):
        chosen[subscriber_id].add(topic_id)
    return {pk: frozenset(chosen[pk]) for pk in subscriber_ids}


def already_sent(*, edition, subscriber_ids: list[int], paper_ids: list[int]) -> dict[int, set]:
    """{subscriber id: ids among `paper_ids` that an earlier edition sent them}; one query.

    Only earlier editions that contain one of today's papers are read, so the history
    scanned stays proportional to how long papers keep trending, not to the list's age.
    """
    if not paper_ids or not subscriber_ids:
        return {}
    earlier = EditionPaper.objects.filter(paper_id__in=paper_ids)
    if edition is not None and edition.pk:
        earlier = earlier.exclude(edition=edition)
    # Feed-only readers' digests count as sent: their feed already showed those papers.
    shown = Q(status__in=[Delivery.Status.SENT, Delivery.Status.SENDING]) | Q(
        status=Delivery.Status.SKIPPED, skip_reason=Delivery.SkipReason.FEED_ONLY
    )
    rows = Delivery.objects.filter(
        shown,
        subscriber_id__in=subscriber_ids,
        edition_id__in=earlier.values("edition_id"),
    ).values_list("subscriber_id", "paper_ids")
    wanted = set(paper_ids)
    seen = defaultdict(set)
    for subscriber_id, ids in rows:
        seen[subscriber_id].update(wanted.intersection(ids or []))
    return seen


def _keywords(values) -> tuple[str, ...]:
    return tuple(str(v).strip().lower() for v in (values or []) if str(v).strip())


def reader_for(
    subscriber, *, topic_ids: frozenset[int], seen, muted=frozenset(), profile=None
) -> Reader:
    """The plain values `choose` needs from one subscriber."""
    return Reader(
        subscriber_id=subscriber.pk,
        topic_ids=frozenset(topic_ids),
        keywords_include=_keywords(subscriber.keywords_include),
        keywords_exclude=_keywords(subscriber.keywords_exclude),
        only_with_code=subscriber.only_with_code,
        papers_per_email=subscriber.papers_per_email,
        seen=frozenset(seen),
        muted_topic_ids=frozenset(muted),
        profile=None if profile is None or profile.is_cold() else profile,
        ranking=getattr(subscriber, "ranking", "balanced"),
    )


def readers_of(*, edition, subscribers: Sequence, candidates: Sequence[Candidate]) -> dict:
    """{subscriber id: Reader} for a chunk of subscribers: four queries whatever its size."""
    ids = [s.pk for s in subscribers]
    topics = topics_of(ids)
    seen = already_sent(
        edition=edition, subscriber_ids=ids, paper_ids=[c.paper_id for c in candidates]
    )
    from digests.services import reader  # the services package imports this module

    profiles = reader.reader_profiles(ids)  # {} when relevance is off
    muted = reader.muted_topics(ids)
    return {
        s.pk: reader_for(
            s,
            topic_ids=topics.get(s.pk, frozenset()),
            seen=seen.get(s.pk, ()),
            muted=muted.get(s.pk, frozenset()),
            profile=profiles.get(s.pk),
        )
        for s in subscribers
    }


def choices_for(*, edition, subscribers: Sequence, candidates: Sequence[Candidate]) -> dict:
    """{subscriber id: Choice} for a chunk: what the send and the dry run both call."""
    readers = readers_of(edition=edition, subscribers=subscribers, candidates=candidates)
    index = relevance.Index([(c.paper_id, c.vector) for c in candidates])
    choices = {}
    # `choose` is pure: readers without a model who differ only by id get the same choice,
    # and the fan-out puts such readers in the same chunk. Those with a model rank alone.
    alike: dict[Reader, Choice] = {}
    for pk, reader in readers.items():
        if reader.profile is not None:
            choices[pk] = choose(reader=reader, candidates=candidates, index=index)
            continue
        key = replace(reader, subscriber_id=0)
        if key not in alike:
            alike[key] = choose(reader=reader, candidates=candidates, index=index)
        choices[pk] = alike[key]
    return choices


def local_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localdate(now or timezone.now())
