"""Paper search, mixed into PaperQuerySet: `.search(q)`, `.similar_titles(q)`, `.with_headlines(q)`.

Three index paths, one behaviour (websearch syntax: `"a phrase"`, `-word`, `or`):

- PostgreSQL with RUM (migration 0007 creates it where the server has the extension):
  `search_vector @@ query ORDER BY search_vector <=> query` ranks over all matches straight
  from the index, which stores word positions, so phrases need no row-by-row recheck.
- PostgreSQL without RUM (a managed server that lacks it): the GIN index of migration 0002,
  ranking the RANK_CANDIDATES newest matches (ts_rank reads every vector it ranks).
- SQLite: the FTS5 table of migration 0008, ranked by bm25.

`search_index_path()` says which one is active (`/healthz` shows it). `similar_titles` is
the fallback for misspellings (trigram word similarity on PostgreSQL, close words of the
FTS5 vocabulary on SQLite), and `did_you_mean` turns its results into a corrected query.

Headlines mark matches with the private-use characters MARK_START / MARK_END rather than
HTML: titles and abstracts are untrusted text, so the template filter `headline` escapes
everything first and only then turns the markers into <mark> elements.
"""

import difflib
import re

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    TrigramWordSimilarity,
)
from django.db import connections, models
from django.db.models import F, Func, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Substr

MARK_START = "\ue000"
MARK_END = "\ue001"
ELLIPSIS = "…"
MAX_QUERY_LENGTH = 200
# Below this word similarity a "misspelled title" is just another title.
TRIGRAM_THRESHOLD = 0.45
# How many of the newest matches the GIN path ranks (see PaperSearchMixin.search).
RANK_CANDIDATES = 200
# Length of the abstract excerpt shown under a result where no headline is available.
SNIPPET_CHARS = 400
# Words of the FTS5 snippet (SQLite) shown under a result.
SNIPPET_TOKENS = 40
# Names of the index objects the migrations create; their presence selects the path.
RUM_INDEX = "paper_search_vector_rum"
FTS_TABLE = "papers_paper_fts"
# How close a word must be to count as the intended spelling of a query word.
SUGGESTION_CUTOFF = 0.75


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


# A websearch token: an optional '-', then a quoted phrase (closing quote optional, as in
# websearch_to_tsquery) or a run of non-space characters.
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)(\S+)')


def fts5_query(query: str) -> str:
    """`query` (websearch syntax) as an FTS5 MATCH expression, or "" when nothing in it
    can match. Every word goes inside double quotes, so nothing the visitor types is
    FTS5 syntax: `a "b c" -d or e` becomes `("a" AND "b c" NOT "d") OR ("e")`."""
    groups: list[tuple[list[str], list[str]]] = [([], [])]
    for minus_phrase, phrase, minus_word, word in _TOKEN.findall(clean_query(query)):
        text = phrase if word == "" else word
        if word and not minus_word and word.lower() == "or":
            groups.append(([], []))
            continue
        tokens = re.findall(r"\w+", text)
        if not tokens:
            continue
        quoted = '"' + " ".join(tokens) + '"'
        groups[-1][1 if (minus_phrase or minus_word) else 0].append(quoted)
    # FTS5's NOT needs something on its left: a group of exclusions alone matches nothing.
    parts = [
        "(" + " AND ".join(must) + "".join(f" NOT {w}" for w in must_not) + ")"
        for must, must_not in groups
        if must
    ]
    return " OR ".join(parts)


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


class RumDistance(Func):
    """`search_vector <=> query`: RUM's distance (1 / rank; smaller is better), which the
    RUM index returns matches ordered by."""

    template = "(%(expressions)s)"
    arg_joiner = " <=> "
    output_field = models.FloatField()


class _Fts5(Func):
    """One value per paper from the FTS5 table, for this paper's row and the MATCH
    expression: `(SELECT <function> FROM papers_paper_fts WHERE ... MATCH ? AND rowid = pk)`.
    Correlated through the paper's own column, so it survives Django's table aliases."""

    def __init__(self, function: str, match: str, *, output_field):
        self.function = function
        super().__init__(Value(match), F("pk"), output_field=output_field)

    def as_sql(self, compiler, connection, **extra):
        match_sql, match_params = compiler.compile(self.source_expressions[0])
        pk_sql, pk_params = compiler.compile(self.source_expressions[1])
        sql = (
            f"(SELECT {self.function} FROM {FTS_TABLE} "
            f"WHERE {FTS_TABLE} MATCH {match_sql} AND rowid = {pk_sql})"
        )
        return sql, (*match_params, *pk_params)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def search_index_path(using: str = "default") -> str:
    """ "rum", "gin" or "fts5": the index that serves `search()` on this database now. Read
    from the catalogue on each call (a fraction of a millisecond), so a migration or a
    dropped index takes effect without a restart."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return "fts5"
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [RUM_INDEX])
        return "rum" if cursor.fetchone()[0] else "gin"


class PaperSearchMixin:
    def _is_postgres(self) -> bool:
        return connections[self.db].vendor == "postgresql"

    def search(self, query: str) -> models.QuerySet:
        """Papers matching `query` in title, abstract or authors, most relevant first.

        Each row carries `rank` (higher is better). With RUM (and on SQLite) every match
        is ranked; on the GIN path the RANK_CANDIDATES newest matches are: all of them for
        any specific query, the most recent for a word found in a large share of the
        papers. Any input is safe: empty, exclusion-only or stop-word-only queries match
        nothing, operators are parsed leniently, and overlong input is truncated.
        """
        query = clean_query(query)
        if not query_terms(query):
            return self.none()
        newest_first = (F("published_on").desc(nulls_last=True), "-pk")
        if not self._is_postgres():
            match = fts5_query(query)
            return (
                self._fts5_matches(match)
                # bm25 is negative, lower is better; title 10, abstract 1, authors 5.
                .annotate(
                    rank=_Fts5(
                        f"-bm25({FTS_TABLE}, 10.0, 1.0, 5.0)",
                        match,
                        output_field=models.FloatField(),
                    )
                )
                .order_by("-rank", *newest_first)
            )
        tsquery = _websearch(query)
        if search_index_path(self.db) == "rum":
            distance = RumDistance(F("search_vector"), tsquery)
            # Ordered by the distance alone: that order the RUM index returns, so the top
            # k come straight from it. PostgreSQL cannot add tie-breaking keys on top of
            # an operator-ordered index scan (it sorts every match instead), and RUM's
            # order of equal distances is the same on every run, so pages stay stable.
            return (
                self.filter(search_vector=tsquery)
                .annotate(rank_distance=distance)
                .annotate(rank=1.0 / F("rank_distance"))
                .order_by("rank_distance")
            )
        # GIN: ranking reads every match's vector, seconds for a word in half of a
        # million papers. So rank the RANK_CANDIDATES newest matches, which the planner
        # finds by walking the date index (common words) or the GIN index (rare ones,
        # which are then ranked in full).
        candidates = (
            self.filter(search_vector=tsquery)
            .order_by("-published_on")
            .values("pk")[:RANK_CANDIDATES]
        )
        return (
            self.filter(pk__in=candidates)
            .annotate(rank=SearchRank(F("search_vector"), tsquery))
            .order_by("-rank", *newest_first)
        )

    def search_count(self, query: str, *, limit: int) -> int:
        """How many papers match `query`, counted up to `limit` + 1 (so a caller can say
        "more than `limit`"): counting every match of a common word would cost more than
        the page itself."""
        query = clean_query(query)
        if not query_terms(query):
            return 0
        if self._is_postgres():
            matches = self.filter(search_vector=_websearch(query))
        else:
            matches = self._fts5_matches(fts5_query(query))
        return matches.order_by()[: limit + 1].count()

    def _fts5_matches(self, match: str) -> models.QuerySet:
        if not match:
            return self.none()
        sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
        return self.filter(pk__in=RawSQL(sql, [match]))

    def similar_titles(self, query: str) -> models.QuerySet:
        """Papers resembling `query` despite misspellings. PostgreSQL: trigram word
        similarity of the title (trigram index). SQLite: papers matching the closest
        words of the FTS5 vocabulary."""
        query = clean_query(query)
        if not query:
            return self.none()
        if not self._is_postgres():
            return self._similar_words_fts5(query)
        return (
            self.filter(title__trigram_word_similar=query)
            .annotate(rank=TrigramWordSimilarity(query, "title"))
            .filter(rank__gte=TRIGRAM_THRESHOLD)
            .order_by("-rank", "-pk")
        )

    def _similar_words_fts5(self, query: str) -> models.QuerySet:
        with connections[self.db].cursor() as cursor:
            cursor.execute(f"SELECT term FROM {FTS_TABLE}_vocab")
            vocabulary = [row[0] for row in cursor.fetchall()]
        close = []
        for term in query_terms(query):
            # A word the index holds is spelled right: the search failed on another word.
            if len(term) < 3 or self._fts5_matches(fts5_query(term)).exists():
                continue
            close += difflib.get_close_matches(
                term.lower(), vocabulary, n=1, cutoff=SUGGESTION_CUTOFF
            )
        if not close:
            return self.none()
        return self.search(" or ".join(close))

    def with_headlines(self, query: str) -> models.QuerySet:
        """Adds `title_headline` and `abstract_headline`: the title, and the abstract's most
        relevant fragments, with matches between MARK_START and MARK_END (ts_headline on
        PostgreSQL, FTS5's highlight and snippet on SQLite). Without a match they are the
        title and the abstract's start; `finish_snippet` then ends it at a word."""
        query = clean_query(query)
        plain = {
            "title_headline": F("title"),
            "abstract_headline": Substr("abstract", 1, SNIPPET_CHARS),
        }
        if not query:
            return self.annotate(**plain)
        if not self._is_postgres():
            match = fts5_query(query)
            if not match:
                return self.annotate(**plain)
            marks = f"{_sql_string(MARK_START)}, {_sql_string(MARK_END)}"
            text = models.TextField()
            return self.annotate(
                title_headline=Coalesce(
                    _Fts5(f"highlight({FTS_TABLE}, 0, {marks})", match, output_field=text),
                    plain["title_headline"],
                    output_field=text,
                ),
                abstract_headline=Coalesce(
                    _Fts5(
                        f"snippet({FTS_TABLE}, 1, {marks}, {_sql_string(ELLIPSIS)}, "
                        f"{int(SNIPPET_TOKENS)})",
                        match,
                        output_field=text,
                    ),
                    plain["abstract_headline"],
                    output_field=text,
                ),
            )
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
                fragment_delimiter=f" {ELLIPSIS} ",
                **options,
            ),
        )


def _unmarked(text: str) -> str:
    return text.replace(MARK_START, "").replace(MARK_END, "")


def finish_snippet(snippet: str, text: str) -> str:
    """`snippet` (a headline of `text`) cut at a word boundary, with an ellipsis wherever
    it leaves out part of `text`."""
    # FTS5 puts its ellipsis right against the word; space it as ts_headline's are.
    snippet = re.sub(f"^{ELLIPSIS}(?=\\S)", f"{ELLIPSIS} ", snippet.strip())
    snippet = re.sub(f"(?<=\\S){ELLIPSIS}$", f" {ELLIPSIS}", snippet)
    plain = _unmarked(snippet).strip(f" {ELLIPSIS}")
    if not plain or plain == text.strip():
        return snippet
    fragments = plain.split(f" {ELLIPSIS} ")
    start = text.find(fragments[0])
    if start > 0 and not snippet.startswith(ELLIPSIS):
        snippet = f"{ELLIPSIS} {snippet}"
    last = fragments[-1]
    at = text.find(last)
    end = at + len(last) if at >= 0 else len(text)
    if end < len(text) and not snippet.endswith(ELLIPSIS):
        if text[end].isalnum() and last[-1:].isalnum() and " " in snippet:
            snippet = snippet.rsplit(" ", 1)[0]  # the last word was cut in half
        snippet = f"{snippet.rstrip(' ,;:.')} {ELLIPSIS}"
    return snippet


def did_you_mean(query: str, texts: list[str]) -> str | None:
    """`query` with each word that the `texts` (of papers resembling it) spell differently
    replaced by their closest word, or None when no word changes."""
    vocabulary: dict[str, str] = {}
    for text in texts:
        for word in re.findall(r"\w+", _unmarked(text)):
            vocabulary.setdefault(word.lower(), word.lower())
    changed = False

    def correct(match: re.Match) -> str:
        nonlocal changed
        word = match.group(0)
        if word.lower() in vocabulary or word.lower() == "or" or len(word) < 3:
            return word
        close = difflib.get_close_matches(word.lower(), vocabulary, n=1, cutoff=SUGGESTION_CUTOFF)
        if not close:
            return word
        changed = True
        return close[0]

    suggestion = re.sub(r"\w+", correct, clean_query(query))
    return suggestion if changed else None


def mark_terms(text: str, query: str) -> str:
    """`text` with the query's words marked (MARK_START/MARK_END) where a word of the text
    starts with one of them: the portable counterpart of ts_headline."""
    terms = sorted({t.lower() for t in query_terms(query) if len(t) > 1}, key=len, reverse=True)
    if not terms or MARK_START in text:
        return text
    pattern = re.compile(r"\b(" + "|".join(re.escape(t) for t in terms) + r")\w*", re.IGNORECASE)
    return pattern.sub(lambda m: f"{MARK_START}{m.group(0)}{MARK_END}", text)
