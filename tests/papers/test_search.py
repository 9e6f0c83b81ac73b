import datetime
import importlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from papers.models import Paper
from papers.search import (
    ELLIPSIS,
    MARK_END,
    MARK_START,
    RUM_INDEX,
    clean_query,
    did_you_mean,
    finish_snippet,
    fts5_query,
    search_index_path,
)
from papers.services import repository_record_stars
from papers.templatetags.papers_tags import headline
from tests.factories import PaperFactory, PaperRepositoryFactory, TopicFactory

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="ranking weights and trigrams are PostgreSQL's"
)
INDEX_PATHS = ["rum", "gin"] if connection.vendor == "postgresql" else ["fts5"]


@pytest.fixture(autouse=True, params=INDEX_PATHS)
def index_path(request, db):
    """Every test here runs on each index path the database can have. The GIN path is the
    schema of a server without RUM: inside the test's transaction (rolled back after it)
    the RUM index is dropped and migration 0002's GIN index put back."""
    if request.param == "gin":
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {RUM_INDEX}")
            cursor.execute(
                "CREATE INDEX IF NOT EXISTS paper_search_vector_gin ON papers_paper "
                "USING gin (search_vector)"
            )
    if search_index_path() != request.param:
        pytest.skip(f"this database has no {request.param} index (is the RUM package installed?)")
    return request.param


def titles(response):
    return [paper.title for paper in response.context["results"].papers]


class TestSearchQuerySet:
    def test_it_matches_title_abstract_and_authors(self):
        by_title = PaperFactory(title="Sparse Attention Kernels")
        by_abstract = PaperFactory(abstract="We design sparse kernels for GPUs.")
        by_author = PaperFactory(authors=["Barbara Liskov"])
        PaperFactory(title="Unrelated", abstract="Nothing here.", authors=["Someone Else"])

        assert set(Paper.objects.search("sparse")) == {by_title, by_abstract}
        assert list(Paper.objects.search("Liskov")) == [by_author]

    def test_it_ranks_title_matches_above_abstract_matches(self):
        PaperFactory(title="A Survey", abstract="Diffusion appears in the abstract only.")
        PaperFactory(title="Diffusion Everywhere", abstract="Something else.")

        found = list(Paper.objects.search("diffusion"))

        assert [p.title for p in found] == ["Diffusion Everywhere", "A Survey"]
        assert found[0].rank > found[1].rank

    def test_it_stems_words_and_understands_websearch_syntax(self):
        PaperFactory(title="Training Neural Networks Quickly")
        PaperFactory(title="Neural Fields Without Training")

        assert [p.title for p in Paper.objects.search("network train")] == [
            "Training Neural Networks Quickly"
        ]
        assert [p.title for p in Paper.objects.search('neural -"networks"')] == [
            "Neural Fields Without Training"
        ]
        assert Paper.objects.search('"fields without"').count() == 1
        assert Paper.objects.search("quickly or fields").count() == 2

    def test_it_ranks_every_match_so_an_older_best_match_is_found(self, index_path):
        best = PaperFactory(title="Graph Graph Graph", published_on=datetime.date(2019, 1, 1))
        newer = [
            Paper(
                title=f"Newer Paper {n}",
                title_key=f"newer paper {n}",
                slug=f"newer-{n}",
                arxiv_id=f"2501.{n:05d}",
                abstract="One graph among many other words in a long abstract.",
                published_on=datetime.date(2026, 1, 1) + datetime.timedelta(days=n % 300),
                status=Paper.Status.PUBLISHED,
            )
            for n in range(250)
        ]
        Paper.objects.bulk_create(newer)

        found = list(Paper.objects.search("graph")[:5])

        if index_path == "gin":
            # Without RUM only the 200 newest matches are ranked (docs/site.md).
            assert best not in found
        else:
            assert found[0] == best
            assert found[0].rank > found[1].rank

    @postgres_only
    def test_it_ranks_only_the_newest_matches_of_a_very_common_word_without_rum(
        self, monkeypatch, index_path
    ):
        monkeypatch.setattr("papers.search.RANK_CANDIDATES", 2)
        PaperFactory(title="Graph Graph Graph", published_on=datetime.date(2020, 1, 1))
        PaperFactory(title="Newer", abstract="graph", published_on=datetime.date(2026, 1, 1))
        PaperFactory(title="Graph Newest", published_on=datetime.date(2026, 2, 1))

        found = [p.title for p in Paper.objects.search("graph")]

        if index_path == "gin":
            assert found == ["Graph Newest", "Newer"]
        else:
            assert found == ["Graph Graph Graph", "Graph Newest", "Newer"]

    def test_it_finds_misspelled_titles(self):
        PaperFactory(title="Segment Anything in Medical Images")
        PaperFactory(title="Completely Different Topic")

        assert not Paper.objects.search("segmnt anythng")
        assert [p.title for p in Paper.objects.similar_titles("segmnt anything")] == [
            "Segment Anything in Medical Images"
        ]

    def test_it_excludes_words_and_matches_phrases_and_alternatives(self):
        PaperFactory(title="Sparse Attention for Long Documents")
        PaperFactory(title="Attention Is Sparse", abstract="Long context.")
        PaperFactory(title="Dense Retrieval", abstract="Sparse documents.")

        def found(query):
            return sorted(p.title for p in Paper.objects.search(query))

        assert found('"sparse attention"') == ["Sparse Attention for Long Documents"]
        assert found("sparse -attention") == ["Dense Retrieval"]
        assert found('sparse -"long documents"') == ["Attention Is Sparse", "Dense Retrieval"]
        assert found("retrieval or context") == ["Attention Is Sparse", "Dense Retrieval"]
        assert found("-sparse") == []

    def test_it_counts_matches_up_to_a_limit(self):
        for n in range(4):
            PaperFactory(title=f"Kernel Methods {n}")
        PaperFactory(title="Other")

        assert Paper.objects.search_count("kernel", limit=10) == 4
        assert Paper.objects.search_count("kernel", limit=2) == 3  # "more than 2"
        assert Paper.objects.search_count("-kernel", limit=10) == 0

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="RUM is PostgreSQL's")
    def test_it_reads_ranked_phrase_matches_from_the_rum_index_without_recheck(self, index_path):
        if index_path != "rum":
            pytest.skip("RUM only")
        PaperFactory(title="Sparse Attention")
        queryset = Paper.objects.search('"sparse attention" -dense')[:20]
        with connection.cursor() as cursor:
            # A handful of rows would be scanned and sorted; at scale the index order wins.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            plan = queryset.explain()

        assert f"Index Scan using {RUM_INDEX}" in plan
        assert "Order By: (search_vector <=>" in plan
        assert "Recheck" not in plan

    @pytest.mark.parametrize(
        "query",
        ["", "   ", "the of and", "!!! & | ( ) : * <->", "\x00abc", "a" * 10_000, "'; DROP TABLE"],
    )
    def test_it_never_fails_on_odd_input(self, query):
        PaperFactory(title="Anything At All")

        # None of these words is in the title: each query runs and simply finds nothing.
        assert list(Paper.objects.search(query)) == []
        assert list(Paper.objects.similar_titles(query)) == []
        assert Paper.objects.filter(title="Anything At All").exists()

    def test_it_cleans_queries(self):
        assert clean_query("  two\n\twords\x00 ") == "two words"
        assert len(clean_query("x" * 1000)) == 200
        assert clean_query(f"a{MARK_START}b{MARK_END}") == "a b"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="RUM is PostgreSQL's")
class TestRumMigration:
    def test_it_keeps_the_gin_path_without_the_extension_and_moves_to_rum_with_it(
        self, index_path, monkeypatch
    ):
        if index_path != "gin":
            pytest.skip("starts from a server without the RUM index")
        from django.apps import apps

        migration = importlib.import_module("papers.migrations.0007_search_rum_index")
        original = migration._rum_created

        monkeypatch.setattr(migration, "_rum_created", lambda schema_editor: False)
        with connection.schema_editor() as editor:
            migration.forward(apps, editor)
        assert search_index_path() == "gin"

        monkeypatch.setattr(migration, "_rum_created", original)
        with connection.schema_editor() as editor:
            migration.forward(apps, editor)
        assert search_index_path() == "rum"
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('paper_search_vector_gin')")
            assert cursor.fetchone()[0] is None, "the GIN index it replaces is dropped"


@postgres_only
class TestSearchIndexWrites:
    def test_it_leaves_room_on_each_page_for_updated_rows(self):
        migration = importlib.import_module("papers.migrations.0010_paper_fillfactor")
        with connection.cursor() as cursor:
            cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'papers_paper'")
            options = cursor.fetchone()[0] or []

        assert f"fillfactor={migration.FILLFACTOR}" in options
        assert migration.FILLFACTOR < 100

    def test_it_refreshes_stars_without_writing_the_search_index(self):
        with connection.cursor() as cursor:
            # A new, empty heap inside the test's transaction: the pages hold this test's
            # rows only (rows rolled back by earlier tests could leave room, or take it).
            cursor.execute("TRUNCATE papers_paper CASCADE")
        # Rows of the same size, under 2 kB: a page takes a few and then is full.
        abstract = " ".join(f"word{n:03d}" for n in range(60))
        papers = [PaperFactory(title=f"Paper {n:03d}", abstract=abstract) for n in range(20)]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM papers_paper WHERE (ctid::text::point)[0] = 0 ORDER BY id DESC"
            )
            on_first_page = [row[0] for row in cursor.fetchall()]
        # The first page, which later rows found too full to take them.
        assert len(on_first_page) < len(papers)
        paper = Paper.objects.get(pk=on_first_page[0])
        link = PaperRepositoryFactory(paper=paper, repository__stars=10)

        def updates():
            with connection.cursor() as cursor:
                # This transaction's counters (pg_stat_user_tables shows them only later).
                cursor.execute(
                    "SELECT pg_stat_get_xact_tuples_updated('papers_paper'::regclass),"
                    " pg_stat_get_xact_tuples_hot_updated('papers_paper'::regclass)"
                )
                return cursor.fetchone()

        before = updates()
        repository_record_stars(repository=link.repository, stars=500, taken_at=timezone.now())
        after = updates()

        paper.refresh_from_db()
        assert (paper.stars, paper.has_code) == (500, True)
        # One row updated, and HOT: no new entry in the search index (nor any other).
        assert (after[0] - before[0], after[1] - before[1]) == (1, 1)


class TestQueryHelpers:
    def test_it_translates_websearch_syntax_to_fts5_without_letting_syntax_through(self):
        assert fts5_query('graph "neural net" -gpu or tpu') == (
            '("graph" AND "neural net" NOT "gpu") OR ("tpu")'
        )
        assert fts5_query('NEAR(a b) "x" AND * ^c') == (
            '("NEAR a" AND "b" AND "x" AND "AND" AND "c")'
        )
        assert fts5_query("-only -exclusions") == ""
        assert fts5_query('"unclosed phrase') == '("unclosed phrase")'

    def test_it_ends_snippets_at_a_word_with_an_ellipsis(self):
        text = "Alpha beta gamma delta epsilon zeta."

        assert finish_snippet("Alpha beta gam", text) == f"Alpha beta {ELLIPSIS}"
        assert finish_snippet("gamma delta", text) == f"{ELLIPSIS} gamma delta {ELLIPSIS}"
        assert finish_snippet(text, text) == text
        assert finish_snippet(f"{ELLIPSIS} zeta.", text) == f"{ELLIPSIS} zeta."

    def test_it_suggests_the_closest_spelling_of_each_unknown_word(self):
        texts = ["Segment Anything in Medical Images"]

        assert did_you_mean("segmnt anything", texts) == "segment anything"
        assert did_you_mean("segment anything", texts) is None
        assert did_you_mean("zzyzx", texts) is None


class TestHeadlineFilter:
    def test_it_escapes_text_and_marks_matches(self):
        html = headline(f"<b>x</b> {MARK_START}graph{MARK_END} nets", "graph")

        assert html == "&lt;b&gt;x&lt;/b&gt; <mark>graph</mark> nets"

    def test_it_marks_word_prefixes_when_the_database_did_not(self):
        assert headline("Graphs & networks", "graph") == "<mark>Graphs</mark> &amp; networks"

    def test_it_never_leaves_a_mark_open(self):
        assert headline(f"a {MARK_START}b", "zzz") == "a b"
        assert "<script" not in headline("<script>alert(1)</script>", "script")


class TestSearchPage:
    def test_it_shows_ranked_results_with_matches_highlighted(self, client):
        PaperFactory(title="Graph Transformers at Scale", abstract="Graphs are everywhere.")

        response = client.get("/search/", {"q": "graph"})

        body = response.content.decode()
        assert response.status_code == 200
        assert titles(response) == ["Graph Transformers at Scale"]
        assert "<mark>Graph</mark> Transformers at Scale" in body
        assert "<mark>Graphs</mark> are everywhere" in body
        assert 'value="graph"' in body

    def test_it_filters_by_topic_code_and_dates(self, client):
        vision = TopicFactory(slug="vision")
        in_topic = PaperFactory(title="Robust Vision A", published_on=datetime.date(2026, 5, 1))
        in_topic.topics.add(vision)
        with_code = PaperFactory(title="Robust Vision B", published_on=datetime.date(2026, 6, 1))
        with_code.topics.add(vision)
        Paper.objects.filter(pk=with_code.pk).update(has_code=True)
        PaperFactory(title="Robust Vision C", published_on=datetime.date(2025, 1, 1))

        def search(**params):
            return sorted(titles(client.get("/search/", {"q": "robust", **params})))

        assert search() == ["Robust Vision A", "Robust Vision B", "Robust Vision C"]
        assert search(topic="vision") == ["Robust Vision A", "Robust Vision B"]
        assert search(has_code="on") == ["Robust Vision B"]
        assert search(date_from="2026-01-01", date_to="2026-05-31") == ["Robust Vision A"]

    def test_it_explains_invalid_filters_instead_of_failing(self, client):
        response = client.get(
            "/search/", {"q": "x", "date_from": "2026-02-01", "date_to": "2026-01-01"}
        )
        bad_date = client.get("/search/", {"q": "x", "date_from": "yesterday-ish"})
        bad_topic = client.get("/search/", {"q": "x", "topic": "no-such-topic"})

        assert response.status_code == bad_date.status_code == bad_topic.status_code == 200
        assert "The end date is before the start date." in response.content.decode()
        assert "Enter a valid date." in bad_date.content.decode()
        assert "Select a valid choice." in bad_topic.content.decode()

    @pytest.mark.parametrize(
        "query",
        [
            "",
            " ",
            "a" * 5000,
            "\x00",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "(((",
            "-",
            '"unclosed',
            "!@#$%^&*()",
            "\u202e\ufeff",
            "ü" * 300,
        ],
    )
    def test_it_answers_empty_overlong_or_hostile_queries_with_a_normal_page(self, client, query):
        PaperFactory(title="Some Paper")

        response = client.get("/search/", {"q": query, "page": "x"})

        assert response.status_code == 200
        assert "<script>alert" not in response.content.decode()

    def test_it_paginates_without_counting(self, client):
        for n in range(23):
            PaperFactory(title=f"Quantum Paper {n}")

        first = client.get("/search/", {"q": "quantum", "has_code": ""})
        second = client.get("/search/", {"q": "quantum", "has_code": "", "page": 2})

        assert len(titles(first)) == 20
        assert len(titles(second)) == 3
        assert not set(titles(first)) & set(titles(second))
        assert 'rel="next" href="?q=quantum&amp;has_code=&amp;page=2"' in first.content.decode()
        assert 'rel="prev"' in second.content.decode()

    def test_it_shows_how_many_papers_match(self, client, monkeypatch):
        for n in range(3):
            PaperFactory(title=f"Quantum Paper {n}")

        body = client.get("/search/", {"q": "quantum"}).content.decode()
        assert "3 papers match “quantum”." in body
        monkeypatch.setattr("papers.selectors.SEARCH_COUNT_LIMIT", 2)
        assert "More than 2 papers match “quantum”." in (
            client.get("/search/", {"q": "quantum"}).content.decode()
        )

    def test_it_cuts_snippets_at_words_with_an_ellipsis(self, client):
        words = [f"word{n}" for n in range(200)]
        words[100] = "needle"
        PaperFactory(title="Haystack", abstract=" ".join(words))

        paper = client.get("/search/", {"q": "needle"}).context["results"].papers[0]

        snippet = paper.abstract_headline.replace(MARK_START, "").replace(MARK_END, "")
        assert snippet.startswith(ELLIPSIS) and snippet.endswith(ELLIPSIS)
        assert "needle" in snippet
        inner = [w for w in snippet.split() if w != ELLIPSIS]
        assert set(inner) <= set(words)

    def test_it_offers_a_corrected_query_for_a_misspelling(self, client):
        PaperFactory(title="Segment Anything in Medical Images")

        body = client.get("/search/", {"q": "segmnt anything", "has_code": ""}).content.decode()

        link = '<a href="?q=segment+anything&amp;has_code=">segment anything</a>'
        assert f"Did you mean {link}?" in body

    def test_it_says_when_nothing_matches(self, client):
        response = client.get("/search/", {"q": "zzyzx"})

        assert "No paper matches “zzyzx”." in response.content.decode()

    def test_it_falls_back_to_similar_titles_and_says_so(self, client):
        PaperFactory(title="Segment Anything in Medical Images")

        response = client.get("/search/", {"q": "segmnt anything"})

        assert titles(response) == ["Segment Anything in Medical Images"]
        assert "these titles look similar" in response.content.decode()

    @postgres_only
    def test_it_explains_a_search_that_runs_out_of_time(self, client, monkeypatch):
        from django.db.models.expressions import RawSQL

        from papers import selectors

        PaperFactory(title="Slow Paper")
        monkeypatch.setattr(selectors, "SEARCH_TIME_LIMIT_MS", 50)
        slow = Paper.objects.annotate(nap=RawSQL("pg_sleep(0.5)", []))
        monkeypatch.setattr(selectors, "_page", lambda *args: slow)

        response = client.get("/search/", {"q": "slow"})

        assert response.status_code == 200
        assert "matched too much to rank in time" in response.content.decode()
        assert Paper.objects.count() == 1, "the connection is usable afterwards"

    def test_its_query_count_does_not_grow_with_the_number_of_results(self, client):
        topic = TopicFactory()

        def count():
            with CaptureQueriesContext(connection) as queries:
                client.get("/search/", {"q": "kernel"})
            return len(queries)

        PaperRepositoryFactory(paper=PaperFactory(title="Kernel 0"))
        few = count()
        for n in range(15):
            paper = PaperFactory(title=f"Kernel {n + 1}")
            paper.topics.add(topic)
            PaperRepositoryFactory(paper=paper)

        assert count() == few
