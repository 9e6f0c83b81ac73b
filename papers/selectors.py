"""Reads behind the public pages: each returns everything a page lists in a fixed number
of queries, whatever the number of papers (cards prefetch their topics and repositories)."""

import datetime
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import OperationalError, connection, transaction
from django.db.models import Count, F, Prefetch, Q, QuerySet
from psycopg.errors import QueryCanceled

from papers.models import Paper, PaperRepository, Topic, TrendSnapshot, Window, author_slug
from papers.search import did_you_mean, finish_snippet, query_terms

PER_PAGE = 20
TRENDING_PER_PAGE = 30
SEARCH_TIME_LIMIT_MS = 1500
# Matches are counted up to this many; beyond it the page says "more than".
SEARCH_COUNT_LIMIT = 1000
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
    """The newest papers for a compact list (the home page's side column: link, title,
    date): only those columns, and none of a card's topics and code links."""
    return Paper.objects.latest().only("slug", "title", "published_on")[:limit]


@dataclass
class Listing:
    papers: list[Paper]
    page: int
    has_next: bool
    # Keyword-only so that subclasses may add fields without defaults.
    per_page: int = field(default=PER_PAGE, kw_only=True)

    @property
    def rank_offset(self) -> int:
        """Added to a card's position on the page to give its rank in the whole list."""
        return (self.page - 1) * self.per_page


def _listing(papers: QuerySet, *, page: int, per_page: int) -> Listing:
    """One page of `papers`; one row beyond the page tells whether there is a next one,
    so no page ever counts the whole list."""
    offset = (page - 1) * per_page
    rows = list(papers[offset : offset + per_page + 1])
    return Listing(
        papers=rows[:per_page], page=page, has_next=len(rows) > per_page, per_page=per_page
    )


def trending_page(
    *,
    window: str = Window.TODAY,
    topic: Topic | None = None,
    page: int = 1,
    per_page: int = TRENDING_PER_PAGE,
) -> Listing:
    """One page of the live trending list of a window (home and topic pages)."""
    papers = Paper.objects.trending(window)
    if topic is not None:
        papers = papers.filter(topics=topic)
    return _listing(with_card_data(papers), page=page, per_page=per_page)


def author_page(*, slug: str, page: int = 1, per_page: int = PER_PAGE) -> tuple[str, Listing]:
    """The author's name as their newest paper spells it, and one page of their papers,
    newest first; the name is empty when no published paper has that author."""
    listing = _listing(with_card_data(Paper.objects.by_author(slug)), page=page, per_page=per_page)
    name = ""
    if listing.papers:
        name = next((str(n) for n in listing.papers[0].authors if author_slug(n) == slug), slug)
    elif page > 1 and Paper.objects.by_author(slug).exists():
        name = slug
    return name, listing


@dataclass
class Period:
    """A day, ISO week or month of stored trending snapshots, and its neighbours."""

    window: str
    start: datetime.date
    end: datetime.date
    # The snapshot shown: the last day in [start, end] with one, or None.
    day: datetime.date | None
    previous_day: datetime.date | None
    next_day: datetime.date | None


def trend_period(*, window: str, start: datetime.date, end: datetime.date) -> Period:
    """Where [start, end] sits among the stored snapshots of `window`: three indexed
    look-ups on (window, day)."""
    days = TrendSnapshot.objects.filter(window=window).values_list("day", flat=True)
    shown = days.filter(day__gte=start, day__lte=end).order_by("-day").first()
    previous = days.filter(day__lt=start).order_by("-day").first()
    following = days.filter(day__gt=end).order_by("day").first()
    return Period(window, start, end, shown, previous, following)


def snapshot_page(
    *, window: str, day: datetime.date, page: int = 1, per_page: int = TRENDING_PER_PAGE
) -> Listing:
    """One page of the ranking of `window` as stored at the end of `day`. Each paper
    carries the same trend_* attributes as the live list, plus trend_rank."""
    papers = (
        Paper.objects.published()
        .filter(trend_snapshots__day=day, trend_snapshots__window=window)
        .annotate(
            trend_rank=F("trend_snapshots__rank"),
            trend_score=F("trend_snapshots__score"),
            trend_stars=F("trend_snapshots__stars_gained"),
            trend_reason=F("trend_snapshots__reason"),
        )
        .order_by("trend_snapshots__rank")
    )
    return _listing(with_card_data(papers), page=page, per_page=per_page)


def latest_snapshot_day(window: str = Window.TODAY) -> datetime.date | None:
    return (
        TrendSnapshot.objects.filter(window=window)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )


def latest_page(*, page: int = 1, per_page: int = PER_PAGE) -> Listing:
    """One page of the newest papers."""
    return _listing(with_card_data(Paper.objects.latest()), page=page, per_page=per_page)


def topics_with_counts() -> QuerySet:
    published = Q(papers__status=Paper.Status.PUBLISHED)
    return Topic.objects.annotate(paper_count=Count("papers", filter=published)).order_by("name")


def related_papers(paper: Paper, *, topics=None, limit: int = 5) -> list[Paper]:
    """Papers sharing the most topics with `paper`, topped up with papers whose text best
    matches any of its title's words (full-text search): at most three queries, two when
    the caller has read the paper's `topics` already."""
    related: list[Paper] = []
    topic_ids = [topic.pk for topic in (paper.topics.all() if topics is None else topics)]
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
    # Matching papers, counted up to SEARCH_COUNT_LIMIT + 1 (more means "more than").
    count: int = 0
    count_limit: int = 0
    # The query with misspelled words corrected, when the fuzzy results suggest one.
    suggestion: str | None = None

    @property
    def count_exceeds_limit(self) -> bool:
        return self.count > self.count_limit


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

    Pagination fetches one row more than a page; the count stops at SEARCH_COUNT_LIMIT,
    so a common word costs about what a rare one does. When page 1 of the full-text
    search is empty, papers resembling the query (trigram fallback) are shown instead,
    with a corrected query to suggest when their words allow one.
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
        fuzzy, suggestion = False, None
        count = papers.search_count(query, limit=SEARCH_COUNT_LIMIT) if found else 0
        if not found and page == 1:
            found = list(_page(papers.similar_titles(query), query, 0, per_page))
            fuzzy = bool(found)
            texts = [text for paper in found for text in (paper.title, paper.abstract)]
            suggestion = did_you_mean(query, texts)
    for paper in found:
        paper.abstract_headline = finish_snippet(paper.abstract_headline, paper.abstract)
    return SearchResults(
        query=query,
        papers=found[:per_page],
        page=page,
        has_next=len(found) > per_page,
        fuzzy=fuzzy,
        count=count,
        count_limit=SEARCH_COUNT_LIMIT,
        suggestion=suggestion,
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
