"""Composing editions: at most one per (date, kind), with the papers of the moment."""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from digests import rendering
from digests.models import Edition, EditionPaper, Kind
from papers.models import Paper, StarSnapshot, Trend, Window

logger = logging.getLogger(__name__)

# Which trending windows fill an edition, in order: a quiet day is topped up from the week
# and the month, so there is always something to read.
WINDOWS = {
    Kind.DAILY: [Window.TODAY, Window.WEEK, Window.MONTH],
    Kind.WEEKLY: [Window.WEEK, Window.MONTH],
}


class EditionEmpty(Exception):
    """No paper has a trending score: an edition composed now would be empty, and once
    stored it would freeze that date's digest empty for everyone. Nothing was written."""


@dataclass
class Pick:
    paper: Paper
    reason: str
    score: float


def edition_pick_papers(*, kind: str, limit: int | None = None) -> list[Pick]:
    """The top of the trending ranking now, without a publication-date cut-off."""
    limit = limit or settings.DIGEST_CANDIDATES
    picks: dict[int, Pick] = {}
    for window in WINDOWS[kind]:
        for paper in Paper.objects.trending(window)[: limit * 2]:
            if paper.pk not in picks:
                picks[paper.pk] = Pick(paper, paper.trend_reason or "", paper.trend_score or 0)
            if len(picks) >= limit:
                return list(picks.values())
    return list(picks.values())


def scores_are_stale() -> bool:
    """Whether the stored trending scores predate the last change to papers.

    A change is a paper saved (imported, edited, published, pinned) or a star count
    recorded after the last recompute; no scores at all is stale too. Scores that merely
    age are left to the hourly recompute: the ranking drifts slowly, but a paper missing
    from it is missing from the digest.
    """
    computed = Trend.objects.aggregate(at=Max("computed_at"))["at"]
    if computed is None:
        return True
    changed = [
        Paper.objects.aggregate(at=Max("updated_at"))["at"],
        StarSnapshot.objects.aggregate(at=Max("taken_at"))["at"],
    ]
    return any(at is not None and at > computed for at in changed)


def scores_ensure_fresh() -> bool:
    """Recompute the trending scores first if they are stale; returns whether it did."""
    from papers.services import papers_refresh_scores

    if not scores_are_stale():
        return False
    papers_refresh_scores()
    return True


def edition_get_or_compose(*, day: dt.date, kind: str) -> tuple[Edition, bool]:
    """The edition of `day` and `kind`, composed now if it does not exist yet.

    Composing starts from fresh scores (recomputed first if papers changed since), and
    raises EditionEmpty, storing nothing, when no paper can be picked: a later run then
    composes the edition properly instead of finding an empty one.

    The edition and its papers are written in one transaction, so nobody ever sees an
    edition without its papers; a concurrent composer (second beat) hits the unique
    constraint and reads the winner's edition instead.
    """
    existing = Edition.objects.filter(date=day, kind=kind).first()
    if existing:
        return existing, False
    scores_ensure_fresh()
    picks = edition_pick_papers(kind=kind)
    if not picks:
        raise EditionEmpty(
            f"Nothing to send in the {Kind(kind).label.lower()} digest of {day}: no "
            "published paper has a trending score. Import or publish papers, then run "
            "again; no edition was stored."
        )
    try:
        with transaction.atomic():
            edition = Edition.objects.create(date=day, kind=kind, status=Edition.Status.COMPOSING)
            EditionPaper.objects.bulk_create(
                EditionPaper(
                    edition=edition, paper=p.paper, position=i, reason=p.reason[:200], score=p.score
                )
                for i, p in enumerate(picks, start=1)
            )
            top = picks[0].paper.title if picks else ""
            edition.subject = rendering.subject_for(edition, top)[:300]
            edition.save(update_fields=["subject"])
    except IntegrityError:
        return Edition.objects.get(date=day, kind=kind), False
    logger.info("composed %s with %d papers", edition, len(picks))
    return edition, True


def edition_preview(
    *, day: dt.date, kind: str, refresh_scores: bool = False
) -> tuple[Edition, list]:
    """The edition of `day` as it stands or would be composed now, nothing else written.

    `refresh_scores` recomputes stale scores first, as composing would (send_digest's dry
    run and test copy); the admin's preview leaves them to the hourly recompute rather than
    keep a page waiting on it."""
    existing = Edition.objects.filter(date=day, kind=kind).first()
    if existing:
        entries = rendering.edition_entries(existing)
        return existing, list(entries.values())
    edition = Edition(date=day, kind=kind, created_at=timezone.now())
    if refresh_scores:
        scores_ensure_fresh()
    picks = edition_pick_papers(kind=kind)
    entries = rendering.paper_entries([(p.paper, p.reason) for p in picks])
    return edition, entries
