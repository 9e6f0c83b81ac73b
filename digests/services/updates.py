"""Updates on the papers readers keep: code arrives, trending again, a new arXiv version.

A paper is *watched* while some reader has it in their library or marked it More like
this. `paper_updates_detect` compares each watched paper with the state it last saw
(WatchedPaper) and writes a PaperUpdate for what changed; the first sighting only records
the state. It runs before every hourly send (so an import followed by a send lists what
the import changed) and hourly on its own for the alert e-mails.

Each reader's updates are listed once: ReaderUpdates.listed_until is the last update id
they were shown, moved forward by a conditional UPDATE before the mail that lists them.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from digests.models import PaperUpdate, ReaderSignal, ReaderUpdates, WatchedPaper
from papers.models import LibraryItem, Paper, PaperRepository, Window
from subscriptions.models import Subscriber

logger = logging.getLogger(__name__)

TOP = 30  # "it trends again": it re-enters today's top 30


def _watched_ids() -> set[int]:
    saved = LibraryItem.objects.filter(paper__isnull=False).values_list("paper_id", flat=True)
    liked = ReaderSignal.objects.filter(kind=ReaderSignal.Kind.MORE).values_list(
        "paper_id", flat=True
    )
    return set(saved.distinct()) | set(liked.distinct())


def paper_updates_detect(*, now=None) -> int:
    """Write a PaperUpdate for each change to a watched paper; returns how many."""
    now = now or timezone.now()
    watched = _watched_ids()
    if not watched:
        return 0
    top = set(Paper.objects.trending(Window.TODAY).values_list("pk", flat=True)[:TOP])
    papers = Paper.objects.filter(pk__in=watched).only("pk", "has_code", "updated_on")
    state = WatchedPaper.objects.in_bulk(watched, field_name="paper_id")
    first_repo = {}
    for paper_id, owner, name in (
        PaperRepository.objects.filter(paper_id__in=watched)
        .order_by("-is_official", "-repository__stars")
        .values_list("paper_id", "repository__owner", "repository__name")
    ):
        first_repo.setdefault(paper_id, f"{owner}/{name}")
    updates, new_state, changed_state = [], [], []
    for paper in papers:
        in_top = paper.pk in top
        seen = state.get(paper.pk)
        if seen is None:
            new_state.append(
                WatchedPaper(
                    paper=paper,
                    had_code=paper.has_code,
                    in_top=in_top,
                    updated_on=paper.updated_on,
                    checked_at=now,
                )
            )
            continue
        if paper.has_code and not seen.had_code:
            detail = f"Code: {first_repo[paper.pk]}" if paper.pk in first_repo else "Code arrived"
            updates.append(PaperUpdate(paper=paper, kind="code", detail=detail, happened_at=now))
        if in_top and not seen.in_top:
            updates.append(
                PaperUpdate(
                    paper=paper, kind="trending", detail="In today's top 30", happened_at=now
                )
            )
        if paper.updated_on and (seen.updated_on is None or paper.updated_on > seen.updated_on):
            detail = f"Updated on arXiv {paper.updated_on:%d %b %Y}"
            updates.append(PaperUpdate(paper=paper, kind="version", detail=detail, happened_at=now))
        seen.had_code, seen.in_top, seen.updated_on = paper.has_code, in_top, paper.updated_on
        seen.checked_at = now
        changed_state.append(seen)
    with transaction.atomic():
        PaperUpdate.objects.bulk_create(updates)
        WatchedPaper.objects.bulk_create(new_state, ignore_conflicts=True)
        WatchedPaper.objects.bulk_update(
            changed_state, ["had_code", "in_top", "updated_on", "checked_at"], batch_size=500
        )
    if updates:
        logger.info("%d updates on watched papers", len(updates))
    return len(updates)


@dataclass(frozen=True)
class ReaderUpdate:
    id: int
    paper: Paper
    kind: str
    detail: str


def pending_updates(subscribers: list[Subscriber]) -> dict[int, list[ReaderUpdate]]:
    """{subscriber id: updates not yet listed to them} for a chunk; five queries."""
    ids = [s.pk for s in subscribers]
    cursor = dict(
        ReaderUpdates.objects.filter(subscriber_id__in=ids).values_list(
            "subscriber_id", "listed_until"
        )
    )
    watched = defaultdict(set)
    by_user = {s.user_id: s.pk for s in subscribers if s.user_id}
    for user_id, paper_id in LibraryItem.objects.filter(
        user_id__in=list(by_user), paper__isnull=False
    ).values_list("user_id", "paper_id"):
        watched[by_user[user_id]].add(paper_id)
    for sub_id, paper_id in ReaderSignal.objects.filter(
        subscriber_id__in=ids, kind=ReaderSignal.Kind.MORE
    ).values_list("subscriber_id", "paper_id"):
        watched[sub_id].add(paper_id)
    if not watched:
        return {}
    all_papers = set().union(*watched.values())
    floor = min((cursor.get(pk, 0) for pk in watched), default=0)
    rows = list(
        PaperUpdate.objects.filter(paper_id__in=all_papers, pk__gt=floor)
        .select_related("paper")
        .order_by("pk")[: settings.DIGEST_UPDATES_SCAN]
    )
    found: dict[int, list[ReaderUpdate]] = {}
    for sub_id, papers in watched.items():
        mine = [
            ReaderUpdate(u.pk, u.paper, u.kind, u.detail)
            for u in rows
            if u.paper_id in papers and u.pk > cursor.get(sub_id, 0)
        ]
        if mine:
            found[sub_id] = mine[-settings.DIGEST_UPDATES_SHOWN :]
    return found


def pending_for_digest(subscribers: list[Subscriber]) -> dict[int, tuple]:
    """{subscriber id: ((update id, title, detail, url), ...)} for the digest's "Updates on
    your papers" section: readers who take updates by e-mail get them there instead."""
    by_email = set(
        ReaderUpdates.objects.filter(
            subscriber_id__in=[s.pk for s in subscribers], by_email=True
        ).values_list("subscriber_id", flat=True)
    )
    wanted = [s for s in subscribers if s.pk not in by_email]
    return {
        pk: tuple(
            (u.id, u.paper.title, u.detail, settings.SITE_URL + u.paper.get_absolute_url())
            for u in found
        )
        for pk, found in pending_updates(wanted).items()
    }


def updates_mark_listed(*, subscriber_id: int, until: int) -> bool:
    """Claim "listed up to `until`" for a reader; False if it already was (a rerun).

    A conditional UPDATE, so two workers never both list the same updates.
    """
    ReaderUpdates.objects.get_or_create(subscriber_id=subscriber_id)
    return bool(
        ReaderUpdates.objects.filter(subscriber_id=subscriber_id, listed_until__lt=until).update(
            listed_until=until
        )
    )


def reader_updates_set_by_email(*, subscriber: Subscriber, by_email: bool) -> None:
    row, _ = ReaderUpdates.objects.get_or_create(subscriber=subscriber)
    if row.by_email != by_email:
        row.by_email = by_email
        row.save(update_fields=["by_email"])


def update_alerts_send(*, now=None) -> int:
    """E-mail each reader who asked for it their new updates, once; returns mails sent."""
    from digests import emails

    paper_updates_detect(now=now)
    readers = list(
        Subscriber.objects.receiving(on=timezone.localdate(now or timezone.now())).filter(
            reader_updates__by_email=True
        )
    )
    sent = 0
    for subscriber_id, updates in pending_updates(readers).items():
        if not updates_mark_listed(subscriber_id=subscriber_id, until=updates[-1].id):
            continue  # another worker listed them first
        subscriber = next(s for s in readers if s.pk == subscriber_id)
        emails.send_updates_alert(subscriber=subscriber, updates=updates)
        sent += 1
    return sent
