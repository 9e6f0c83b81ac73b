"""Reads behind the public pages: each returns everything a page lists in a fixed number
of queries, whatever the number of papers (cards prefetch their topics and repositories)."""

import datetime
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import OperationalError, connection, transaction
from django.db.models import Count, F, Prefetch, Q, QuerySet
from psycopg.errors import QueryCanceled

from papers.models import Paper, PaperRepository, Topic, Window
from papers.search import query_terms

PER_PAGE = 20
SEARCH_TIME_LIMIT_MS = 1500
# Title words a paper page searches with for related papers.
RELATED_TITLE_WORDS = 8


def with_card_data(papers: QuerySet) -> QuerySet:
    """What a paper card shows beyond the paper row: topics, and code links (official
    first, then by stars) with their repositories. Two extra queries for any number."""
    code_links = PaperRepository.objects.select_related("repository").order_by(
        "-is_official", "-repository__stars", "repository__url"
    )
    return papers.defer("search_vector").prefetch_related(
        Prefetch("topics", queryset=Topic.objects.order_by("name")),
        Prefetch("code_links", queryset=code_links),
    )


def trending_papers(*, window: str = Window.TODAY, topic: Topic | None = None, limit: int = 30):
    papers = Paper.objects.trending(window)
    if topic is not None:
        papers = papers.filter(topics=topic)
    return with_card_data(papers)[:limit]


def latest_papers(*, limit: int = 10):
    return with_card_data(Paper.objects.latest())[:limit]


@dataclass
class Listing:
    papers: list[Paper]
    page: int
    has_next: bool


def latest_page(*, page: int = 1, per_page: int = PER_PAGE) -> Listing:
    """One page of the newest papers; one row beyond the page tells whether there is a
    next one, so no page ever counts the whole table."""
    offset = (page - 1) * per_page
    papers = list(with_card_data(Paper.objects.latest())[offset : offset + per_page + 1])
    return Listing(papers=papers[:per_page], page=page, has_next=len(papers) > per_page)


def topics_with_counts() -> QuerySet:
    published = Q(papers__status=Paper.Status.PUBLISHED)
    return Topic.objects.annotate(paper_count=Count("papers", filter=published)).order_by("name")


def related_papers(paper: Paper, *, limit: int = 5) -> list[Paper]:
    """Papers sharing the most topics with `paper`, topped up with papers whose text best
    matches any of its title's words (full-text search): at most three queries."""
    related: list[Paper] = []
    topic_ids = [topic.pk for topic in paper.topics.all()]
    others = Paper.objects.published().exclude(pk=paper.pk).defer("search_vector")
    if topic_ids:
        related = list(
            others.filter(topics__in=topic_ids)
            .annotate(shared=Count("topics"))
            .order_by("-shared", "-stars", F("published_on").desc(nulls_last=True), "-pk")[:limit]
        )
    words = [w for w in query_terms(paper.title) if len(w) > 3][:RELATED_TITLE_WORDS]
    if len(related) < limit and words:
        seen = [p.pk for p in related]
        similar = others.exclude(pk__in=seen).search(" or ".join(words))
        related += list(similar[: limit - len(related)])
    return related


@dataclass
class SearchResults(Listing):
    query: str
    # True when nothing matched the words and these are titles resembling the query.
    fuzzy: bool = False


def paper_search(
    *,
    query: str,
    topic: Topic | None = None,
    has_code: bool = False,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> SearchResults:
    """One page of search results, ranked, with headlines and card data.

    Pagination fetches one row more than a page instead of counting all matches, so a
    common word costs the same as a rare one. When page 1 of the full-text search is
    empty, titles resembling the query (trigram fallback) are shown instead.
    """
    papers = Paper.objects.published()
    if topic is not None:
        papers = papers.filter(topics=topic)
    if has_code:
        papers = papers.with_code()
    if date_from:
        papers = papers.filter(published_on__gte=date_from)
    if date_to:
        papers = papers.filter(published_on__lte=date_to)

    offset = (page - 1) * per_page
    with _time_limit():
        found = list(_page(papers.search(query), query, offset, per_page))
        fuzzy = False
        if not found and page == 1:
            found = list(_page(papers.similar_titles(query), query, 0, per_page))
            fuzzy = bool(found)
    return SearchResults(
        query=query,
        papers=found[:per_page],
        page=page,
        has_next=len(found) > per_page,
        fuzzy=fuzzy,
    )


class SearchTooSlow(Exception):
    """The search hit SEARCH_TIME_LIMIT_MS (PostgreSQL): the page says to narrow it."""


@contextmanager
def _time_limit():
    # A few query shapes (a phrase of very common words) are slow on PostgreSQL whatever
    # the plan; a time limit keeps one visitor's search from holding a connection for
    # seconds, and the page explains instead of failing.
    if connection.vendor != "postgresql":
        yield
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {int(SEARCH_TIME_LIMIT_MS)}")
            yield
    except OperationalError as exc:
        if isinstance(exc.__cause__, QueryCanceled):
            raise SearchTooSlow from exc
        raise


def _page(papers: QuerySet, query: str, offset: int, per_page: int) -> QuerySet:
    return with_card_data(papers.with_headlines(query))[offset : offset + per_page + 1]
