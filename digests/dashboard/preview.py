"""Preview what a reader will get: their next digest, and why each paper is in or out.

Reads only: the edition is the stored one or composed in memory (edition_preview), the
history is read, and nothing is written or sent. The choice itself is
digests.selection.choose, called in `_choose` only; each reason is found by asking
that same function again with one preference at a time, so the explanation can never
disagree with what the sender does.
"""

import copy
import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from digests import rendering, selection, sending
from digests.models import Delivery, Edition, Kind
from digests.services import edition_preview
from digests.services import reader as reader_services
from papers.models import Paper
from subscriptions.models import Subscriber

RECEIVING = {Subscriber.Status.CONFIRMED, Subscriber.Status.PAUSED}


@dataclass
class Verdict:
    entry: rendering.PaperEntry
    rank: int  # position in the edition
    place: int | None  # position in this reader's digest, None when left out
    reasons: list[str] = field(default_factory=list)

    @property
    def included(self) -> bool:
        return self.place is not None


@dataclass
class ReaderPreview:
    subscriber: Subscriber
    edition: Edition
    local_time: dt.datetime  # when it would go out, in the reader's time zone
    receiving: bool
    note: str
    verdicts: list[Verdict]
    skip_reason: str
    subject: str = ""
    text: str = ""

    @property
    def chosen(self) -> list[Verdict]:
        return sorted((v for v in self.verdicts if v.included), key=lambda v: v.place)


def next_send(subscriber: Subscriber, *, now: dt.datetime) -> tuple[dt.date, str, dt.datetime]:
    """(local date, kind, local time) of the reader's next digest not already delivered."""
    zone = selection._zone(subscriber.timezone)
    local = now.astimezone(zone)
    kind = subscriber.frequency if subscriber.frequency in Kind.values else Kind.DAILY
    at = local.replace(hour=subscriber.delivery_hour, minute=0, second=0, microsecond=0)
    if at <= local:
        at += dt.timedelta(days=1)
    done = set(
        Delivery.objects.filter(
            subscriber=subscriber, edition__kind=kind, edition__date__gte=at.date()
        )
        .exclude(status=Delivery.Status.PENDING)
        .values_list("edition__date", flat=True)
    )
    for _ in range(400):
        paused = subscriber.paused_until and at.date() <= subscriber.paused_until
        wrong_day = kind == Kind.WEEKLY and at.weekday() != subscriber.weekday
        if not (paused or wrong_day or at.date() in done):
            break
        at += dt.timedelta(days=1)
    return at.date(), kind, at


def _candidates(edition: Edition, entries) -> list[selection.Candidate]:
    if edition.pk:
        return selection.edition_candidates(edition)
    # Not composed yet: the same candidates the send would build (topics, code, features).
    papers = Paper.objects.in_bulk([e.id for e in entries])
    return selection.candidates_of([(papers[e.id], e.reason) for e in entries if e.id in papers])


def _choose(
    subscriber, candidates, topic_ids, seen, muted=frozenset(), profile=None
) -> selection.Choice:
    # The one call into the sender's choice (see the module docstring).
    reader = selection.reader_for(
        subscriber, topic_ids=topic_ids, seen=seen, muted=muted, profile=profile
    )
    return selection.choose(reader=reader, candidates=candidates)


def _filters(subscriber: Subscriber, topic_ids: frozenset, topic_names: str) -> list:
    """(reason, subscriber with only that preference, topic ids) for each preference set."""
    bare = copy.copy(subscriber)
    bare.only_with_code, bare.keywords_include, bare.keywords_exclude = False, [], []
    checks = []
    if topic_ids:
        checks.append((f"Not in the reader's topics ({topic_names})", bare, topic_ids))
    if subscriber.only_with_code:
        only = copy.copy(bare)
        only.only_with_code = True
        checks.append(("No code, and the reader wants papers with code only", only, frozenset()))
    if subscriber.keywords_include:
        only = copy.copy(bare)
        only.keywords_include = subscriber.keywords_include
        words = ", ".join(subscriber.keywords_include)
        checks.append((f"Mentions none of the reader's keywords ({words})", only, frozenset()))
    if subscriber.keywords_exclude:
        only = copy.copy(bare)
        only.keywords_exclude = subscriber.keywords_exclude
        words = ", ".join(subscriber.keywords_exclude)
        checks.append((f"Mentions a word the reader excluded ({words})", only, frozenset()))
    return checks


def reader_preview(*, subscriber: Subscriber, now: dt.datetime | None = None) -> ReaderPreview:
    """What `subscriber`'s next digest would contain, and why each paper is in or out."""
    now = now or timezone.now()
    day, kind, local_time = next_send(subscriber, now=now)
    edition, entries = edition_preview(day=day, kind=kind)
    by_id = {e.id: e for e in entries}
    candidates = [c for c in _candidates(edition, entries) if c.paper_id in by_id]
    topic_ids = selection.topics_of([subscriber.pk])[subscriber.pk]
    topic_names = ", ".join(subscriber.topics.order_by("name").values_list("name", flat=True))
    seen = selection.already_sent(
        edition=edition if edition.pk else None,
        subscriber_ids=[subscriber.pk],
        paper_ids=[c.paper_id for c in candidates],
    ).get(subscriber.pk, set())
    # The reader's relevance model and muted topics, read as the send reads them.
    profile = reader_services.reader_profiles([subscriber.pk]).get(subscriber.pk)
    muted = reader_services.muted_topics([subscriber.pk]).get(subscriber.pk, frozenset())
    choice = _choose(subscriber, candidates, topic_ids, seen, muted, profile)
    places = {pk: n for n, pk in enumerate(choice.paper_ids, start=1)}
    personal = {p.paper_id: p.personal_reason for p in choice.papers if p.personal_reason}
    checks = _filters(subscriber, topic_ids, topic_names)
    verdicts = []
    for rank, candidate in enumerate(candidates, start=1):
        verdict = Verdict(
            entry=by_id[candidate.paper_id], rank=rank, place=places.get(candidate.paper_id)
        )
        if verdict.included:
            verdict.reasons.append(
                "Passes every preference and was never sent to this reader"
                if checks
                else "The reader has no filters, and it was never sent to them"
            )
            if candidate.paper_id in personal:
                verdict.reasons.append(f"Placed by relevance: {personal[candidate.paper_id]}")
        elif muted and candidate.topic_ids & muted:
            verdict.reasons.append("In a topic the reader muted")
        else:
            for reason, only, only_topics in checks:
                if not _choose(only, [candidate], only_topics, set()).paper_ids:
                    verdict.reasons.append(reason)
            passes = bool(_choose(subscriber, [candidate], topic_ids, set()).paper_ids)
            if passes and candidate.paper_id in seen:
                verdict.reasons.append("Already sent to this reader in an earlier digest")
            elif passes:
                order = " in their personal order" if profile and not profile.is_cold() else ""
                verdict.reasons.append(
                    f"Beyond the reader's {subscriber.papers_per_email} papers per e-mail{order}"
                )
        verdicts.append(verdict)

    receiving = subscriber.status in RECEIVING
    note = ""
    if not receiving:
        note = (
            f"This address is {subscriber.get_status_display().lower()}: "
            "it gets no digest until that changes. The papers below are what it would get."
        )
    elif choice.skip_reason:
        note = f"No digest would be sent: {Delivery.SkipReason(choice.skip_reason).label.lower()}."
    preview = ReaderPreview(
        subscriber=subscriber,
        edition=edition,
        local_time=local_time,
        receiving=receiving,
        note=note,
        verdicts=verdicts,
        skip_reason=choice.skip_reason,
    )
    if preview.chosen:
        rendered = rendering.render_digest(
            edition, [v.entry for v in preview.chosen], html=False, links=sending.sample_links()
        )
        preview.subject = rendered.subject
        preview.text = rendered.text
    return preview
