"""Reads for the reader's own feed: their digests, with the same papers, order and reasons."""

from dataclasses import dataclass

from django.db.models import Q

from digests.models import Delivery, EditionPaper
from papers.models import Paper


@dataclass(frozen=True)
class FeedItem:
    paper: Paper
    trending_reason: str
    personal_reason: str


@dataclass(frozen=True)
class FeedDigest:
    delivery: Delivery
    items: list[FeedItem]


def reader_digests(*, subscriber, limit: int = 20) -> list[FeedDigest]:
    """The reader's latest digests, e-mailed or feed-only, newest first; three queries."""
    shown = Q(status=Delivery.Status.SENT) | Q(
        status=Delivery.Status.SKIPPED, skip_reason=Delivery.SkipReason.FEED_ONLY
    )
    deliveries = list(
        Delivery.objects.filter(shown, subscriber=subscriber)
        .exclude(paper_ids=[])
        .select_related("edition")
        .order_by("-edition__date", "-pk")[:limit]
    )
    paper_ids = {pk for d in deliveries for pk in d.paper_ids}
    papers = Paper.objects.in_bulk(paper_ids)
    trending = {
        (edition_id, paper_id): reason
        for edition_id, paper_id, reason in EditionPaper.objects.filter(
            edition_id__in={d.edition_id for d in deliveries}, paper_id__in=paper_ids
        ).values_list("edition_id", "paper_id", "reason")
    }
    digests = []
    for delivery in deliveries:
        reasons = list(delivery.reasons or []) + [""] * len(delivery.paper_ids)
        items = [
            FeedItem(papers[pk], trending.get((delivery.edition_id, pk), ""), reasons[i])
            for i, pk in enumerate(delivery.paper_ids)
            if pk in papers
        ]
        digests.append(FeedDigest(delivery, items))
    return digests
