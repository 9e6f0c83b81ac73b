import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from papers.models import Paper
from papers.search import MARK_END, MARK_START, clean_query
from papers.templatetags.papers_tags import headline
from tests.factories import PaperFactory, PaperRepositoryFactory, TopicFactory

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text ranking and trigrams are PostgreSQL's"
)


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

    @postgres_only
    def test_it_ranks_title_matches_above_abstract_matches(self):
        PaperFactory(title="A Survey", abstract="Diffusion appears in the abstract only.")
        PaperFactory(title="Diffusion Everywhere", abstract="Something else.")

        found = list(Paper.objects.search("diffusion"))

        assert [p.title for p in found] == ["Diffusion Everywhere", "A Survey"]
        assert found[0].rank > found[1].rank

    @postgres_only
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

    @postgres_only
    def test_it_ranks_only_the_newest_matches_of_a_very_common_word(self, monkeypatch):
        monkeypatch.setattr("papers.search.RANK_CANDIDATES", 2)
        PaperFactory(title="Graph Graph Graph", published_on=datetime.date(2020, 1, 1))
        PaperFactory(title="Newer", abstract="graph", published_on=datetime.date(2026, 1, 1))
        PaperFactory(title="Graph Newest", published_on=datetime.date(2026, 2, 1))

        assert [p.title for p in Paper.objects.search("graph")] == ["Graph Newest", "Newer"]

    @postgres_only
    def test_it_finds_misspelled_titles_by_trigram_similarity(self):
        PaperFactory(title="Segment Anything in Medical Images")
        PaperFactory(title="Completely Different Topic")

        assert not Paper.objects.search("segmnt anythng")
        assert [p.title for p in Paper.objects.similar_titles("segmnt anything")] == [
            "Segment Anything in Medical Images"
        ]

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

    def test_it_says_when_nothing_matches(self, client):
        response = client.get("/search/", {"q": "zzyzx"})

        assert "No paper matches “zzyzx”." in response.content.decode()

    @postgres_only
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
