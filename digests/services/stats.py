"""Counters the dashboard reads, moved as events happen: unsubscribes traced to an
edition, clicks and More/Less feedback per paper and day."""

import datetime as dt
from urllib.parse import urlsplit

from django.db.models import F
from django.utils import timezone

from digests.models import Delivery, Edition
from lib.counters import counter_add
from papers.models import Paper, PaperDay, PaperRepository

# An unsubscribe later than this after the last digest is not blamed on that digest.
TRACE_DAYS = 14


def edition_count_unsubscribe(*, subscriber_id: int, now: dt.datetime | None = None) -> int | None:
    """Count an unsubscribe on the last edition sent to the reader within TRACE_DAYS
    (the one their unsubscribe link most likely came from); returns its id, if any."""
    now = now or timezone.now()
    last = (
        Delivery.objects.filter(
            subscriber_id=subscriber_id,
            status=Delivery.Status.SENT,
            sent_at__gte=now - dt.timedelta(days=TRACE_DAYS),
        )
        .order_by("-sent_at")
        .values_list("edition_id", flat=True)
        .first()
    )
    if last is not None:
        Edition.objects.filter(pk=last).update(unsubscribed_count=F("unsubscribed_count") + 1)
    return last


def paper_for_link(*, url: str, paper_ids: list[int]) -> int | None:
    """Which of the digest's papers a clicked link belongs to: its page on this site, its
    arXiv pages or one of its repositories. None for the digest's other links."""
    if not url or not paper_ids:
        return None
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    link = f"{parts.netloc.lower()}{path}"
    papers = Paper.objects.filter(pk__in=paper_ids).values_list(
        "pk", "slug", "arxiv_id", "abstract_url", "pdf_url"
    )
    for pk, slug, arxiv_id, *urls in papers:
        if path.endswith(f"/papers/{slug}") or (arxiv_id and arxiv_id in path):
            return pk
        if any(u and url.startswith(u) for u in urls):
            return pk
    repos = PaperRepository.objects.filter(paper_id__in=paper_ids).values_list(
        "paper_id", "repository__url"
    )
    for pk, repo_url in repos:
        repo = urlsplit(repo_url)
        base = f"{repo.netloc.lower()}{repo.path.rstrip('/')}"
        if link == base or link.startswith(base + "/"):
            return pk
    return None


def paper_count_click(*, delivery: Delivery, url: str, when: dt.datetime | None = None) -> None:
    """Count a digest click on the paper it leads to (top papers by clicks)."""
    paper_id = paper_for_link(url=url, paper_ids=list(delivery.paper_ids or []))
    if paper_id is not None:
        day = timezone.localdate(when or timezone.now())
        counter_add(PaperDay, keys={"paper_id": paper_id, "day": day}, clicks=1)


def paper_count_feedback(
    *, paper_id: int, edition_id: int | None, more: bool, when: dt.datetime | None = None
) -> None:
    """Count one More (or Less) signal on the paper's day and on the edition. For the
    one-click feedback of issue 11 to call; the dashboard shows these once they exist."""
    day = timezone.localdate(when or timezone.now())
    signal = "more" if more else "less"
    counter_add(PaperDay, keys={"paper_id": paper_id, "day": day}, **{signal: 1})
    if edition_id:
        field = f"{signal}_count"
        Edition.objects.filter(pk=edition_id).update(**{field: F(field) + 1})
