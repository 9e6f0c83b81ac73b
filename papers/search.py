"""Paper search, mixed into PaperQuerySet: `.search(q)`, `.similar_titles(q)`, `.with_headlines(q)`.

On PostgreSQL, `search` matches the stored `search_vector` (kept current by the trigger of
migration 0002, GIN-indexed) against a websearch-syntax query and orders by rank;
`similar_titles` is the trigram fallback for misspelled titles (trigram GIN index on title).
On SQLite both degrade to case-insensitive LIKE matching, which is enough for a laptop.

Headlines mark matches with the private-use characters MARK_START / MARK_END rather than
HTML: titles and abstracts are untrusted text, so the template filter `headline` escapes
everything first and only then turns the markers into <mark> elements.
"""

import re

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    TrigramWordSimilarity,
)
from django.db import connections, models
from django.db.models import F, Q
from django.db.models.functions import Substr

MARK_START = "\ue000"
MARK_END = "\ue001"
MAX_QUERY_LENGTH = 200
# Below this word similarity a "misspelled title" is just another title.
TRIGRAM_THRESHOLD = 0.45
# How many of the newest matches a PostgreSQL search ranks (see PaperSearchMixin.search).
RANK_CANDIDATES = 200
# Length of the abstract excerpt shown under a result where ts_headline is not available.
SNIPPET_CHARS = 400


def clean_query(query: str) -> str:
    """The query as searched: markers and control characters removed, spaces collapsed,
    cut to MAX_QUERY_LENGTH characters (longer input is not an error, just truncated)."""
    query = "".join(ch if ch.isprintable() else " " for ch in query)
    query = query.replace(MARK_START, " ").replace(MARK_END, " ")
    return " ".join(query.split())[:MAX_QUERY_LENGTH].strip()


def query_terms(query: str) -> list[str]:
    """Plain words of a query, websearch operators (quotes, leading '-', 'or') dropped."""
    terms = []
    for word in re.findall(r"-?[\w']+", clean_query(query)):
        if word.startswith("-") or word.lower() == "or":
            continue
        terms.append(word.strip("'"))
    return [t for t in terms if t]


_NEGATION = re.compile(r"(^|\s)-\S")


def _websearch(query: str) -> SearchQuery:
    # Titles and abstracts are indexed with the English stemmer, author names with the
    # 'simple' configuration (names must not be stemmed): match either. Not when the query
    # excludes a word, though: "-networks" unstemmed would let 'network' through the
    # 'simple' half of the OR.
    english = SearchQuery(query, search_type="websearch", config="english")
    if _NEGATION.search(query):
        return english
    return english | SearchQuery(query, search_type="websearch", config="simple")


class PaperSearchMixin:
    def _is_postgres(self) -> bool:
        return connections[self.db].vendor == "postgresql"

    def search(self, query: str) -> models.QuerySet:
        """Papers matching `query` in title, abstract or authors, most relevant first.

        Each row carries `rank` (higher is better). On PostgreSQL the ranking covers the
        RANK_CANDIDATES newest matches: all of them for any specific query, the most
        recent for a word found in a large share of the papers. Any input is safe: empty or
        stop-word-only queries match nothing, operators are parsed leniently by
        websearch_to_tsquery, and overlong input is truncated.
        """
        query = clean_query(query)
        if not query:
            return self.none()
        if self._is_postgres():
            tsquery = _websearch(query)
            # Ranking reads every match's vector: for a word in half of a million papers
            # that is seconds. So rank the RANK_CANDIDATES newest matches, which the
            # planner finds by walking the date index (common words) or the GIN index
            # (rare ones, which are then ranked in full).
            candidates = (
                self.filter(search_vector=tsquery)
                .order_by("-published_on")
                .values("pk")[:RANK_CANDIDATES]
            )
            return (
                self.filter(pk__in=candidates)
                .annotate(rank=SearchRank(F("search_vector"), tsquery))
                .order_by("-rank", F("published_on").desc(nulls_last=True), "-pk")
            )
        terms = query_terms(query)
        if not terms:
            return self.none()
        matches = Q()
        for term in terms:
            matches &= (
                Q(title__icontains=term) | Q(abstract__icontains=term) | Q(authors__icontains=term)
            )
        title_hits = models.Case(
            models.When(title__icontains=terms[0], then=models.Value(1.0)),
            default=models.Value(0.0),
            output_field=models.FloatField(),
        )
        return (
            self.filter(matches)
            .annotate(rank=title_hits)
            .order_by("-rank", F("published_on").desc(nulls_last=True), "-pk")
        )

    def similar_titles(self, query: str) -> models.QuerySet:
        """Papers whose title resembles `query` despite misspellings (PostgreSQL trigram
        word similarity, served by the trigram index); nothing on SQLite."""
        query = clean_query(query)
        if not query or not self._is_postgres():
            return self.none()
        return (
            self.filter(title__trigram_word_similar=query)
            .annotate(rank=TrigramWordSimilarity(query, "title"))
            .filter(rank__gte=TRIGRAM_THRESHOLD)
            .order_by("-rank", "-pk")
        )

    def with_headlines(self, query: str) -> models.QuerySet:
        """Adds `title_headline` and `abstract_headline`: the title, and the abstract's most
        relevant fragments, with matches between MARK_START and MARK_END (PostgreSQL). On
        SQLite they are the plain text; the `headline` filter marks the words there."""
        query = clean_query(query)
        if query and self._is_postgres():
            tsquery = _websearch(query)
            options = {"start_sel": MARK_START, "stop_sel": MARK_END}
            return self.annotate(
                title_headline=SearchHeadline("title", tsquery, highlight_all=True, **options),
                abstract_headline=SearchHeadline(
                    "abstract",
                    tsquery,
                    max_words=40,
                    min_words=20,
                    max_fragments=2,
                    fragment_delimiter=" … ",
                    **options,
                ),
            )
        return self.annotate(
            title_headline=F("title"), abstract_headline=Substr("abstract", 1, SNIPPET_CHARS)
        )


def mark_terms(text: str, query: str) -> str:
    """`text` with the query's words marked (MARK_START/MARK_END) where a word of the text
    starts with one of them: the portable counterpart of ts_headline."""
    terms = sorted({t.lower() for t in query_terms(query) if len(t) > 1}, key=len, reverse=True)
    if not terms or MARK_START in text:
        return text
    pattern = re.compile(r"\b(" + "|".join(re.escape(t) for t in terms) + r")\w*", re.IGNORECASE)
    return pattern.sub(lambda m: f"{MARK_START}{m.group(0)}{MARK_END}", text)
