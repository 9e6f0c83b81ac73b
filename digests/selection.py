"""Reads for sending: who is due when, and which papers each subscriber gets.

Everything here works on whole chunks (one query for a chunk's topics, one for its
history), so the number of queries never grows with the number of recipients.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Q, QuerySet
from django.utils import timezone

from digests.models import Delivery, EditionPaper, Kind
from subscriptions.models import Subscriber


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # A bad stored value must not stop everyone else's digest: treat it as UTC.
        return ZoneInfo("UTC")


def active_subscribers(*, on: dt.date) -> QuerySet:
    """Confirmed subscribers whose pause (if any) is over on date `on`."""
    return Subscriber.objects.filter(status=Subscriber.Status.CONFIRMED).filter(
        Q(paused_until__isnull=True) | Q(paused_until__lt=on)
    )


def due_on_date(*, day: dt.date, kind: str) -> QuerySet:
    """Everyone who gets the `kind` digest of `day`, whatever their delivery hour."""
    subscribers = active_subscribers(on=day).filter(frequency=kind)
    if kind == Kind.WEEKLY:
        subscribers = subscribers.filter(weekday=day.weekday())
    return subscribers


def due_now(*, now: dt.datetime) -> dict[tuple[dt.date, str], QuerySet]:
    """Subscribers whose delivery hour has come at `now` in their own time zone.

    Keyed by (local date, kind): a reader in Tokyo and one in Lima are due in the same hour
    but on different dates, so they get different editions. One query finds the time zones
    in use; the returned QuerySets are lazy.
    """
    zones = (
        Subscriber.objects.filter(status=Subscriber.Status.CONFIRMED)
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
        due[(day, kind)] = active_subscribers(on=day).filter(frequency=kind).filter(match)
    return due


@dataclass(frozen=True)
class Candidate:
    """An edition paper, reduced to what the preference filters need."""

    paper_id: int
    topic_ids: frozenset[int]
    text: str  # lower-cased title and abstract, for keyword matching
    has_code: bool


@dataclass
class Choice:
    paper_ids: list[int] = field(default_factory=list)
    skip_reason: str = ""


def edition_candidates(edition) -> list[Candidate]:
    """The edition's papers in order, with their topics: two queries."""
    entries = list(
        EditionPaper.objects.filter(edition=edition)
        .select_related("paper")
        .only("paper__id", "paper__title", "paper__abstract", "paper__has_code", "position")
        .order_by("position")
    )
    topics = defaultdict(set)
    through = entries[0].paper.topics.through if entries else None
    if through is not None:
        rows = through.objects.filter(paper_id__in=[e.paper_id for e in entries])
        for paper_id, topic_id in rows.values_list("paper_id", "topic_id"):
            topics[paper_id].add(topic_id)
    return [
        Candidate(
            paper_id=e.paper_id,
            topic_ids=frozenset(topics[e.paper_id]),
            text=f"{e.paper.title}\n{e.paper.abstract}".lower(),
            has_code=e.paper.has_code,
        )
        for e in entries
    ]


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
    earlier = EditionPaper.objects.filter(paper_id__in=paper_ids).exclude(edition=edition)
    rows = Delivery.objects.filter(
        subscriber_id__in=subscriber_ids,
        status__in=[Delivery.Status.SENT, Delivery.Status.SENDING],
        edition_id__in=earlier.values("edition_id"),
    ).values_list("subscriber_id", "paper_ids")
    wanted = set(paper_ids)
    seen = defaultdict(set)
    for subscriber_id, ids in rows:
        seen[subscriber_id].update(wanted.intersection(ids or []))
    return seen


def _keywords(values) -> list[str]:
    return [str(v).strip().lower() for v in (values or []) if str(v).strip()]


def choose_papers(
    subscriber, *, candidates: list[Candidate], topic_ids: frozenset[int], seen: set
) -> Choice:
    """The subscriber's papers: the edition's, filtered by preferences, never sent before,
    cut to their chosen count. An empty choice carries the reason for the history."""
    include = _keywords(subscriber.keywords_include)
    exclude = _keywords(subscriber.keywords_exclude)
    matching = []
    for paper in candidates:
        if topic_ids and not (paper.topic_ids & topic_ids):
            continue
        if subscriber.only_with_code and not paper.has_code:
            continue
        if include and not any(word in paper.text for word in include):
            continue
        if exclude and any(word in paper.text for word in exclude):
            continue
        matching.append(paper.paper_id)
    if not matching:
        return Choice(skip_reason=Delivery.SkipReason.NO_MATCH)
    fresh = [pk for pk in matching if pk not in seen]
    if not fresh:
        return Choice(skip_reason=Delivery.SkipReason.ALL_SEEN)
    return Choice(paper_ids=fresh[: subscriber.papers_per_email])


def local_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localdate(now or timezone.now())
