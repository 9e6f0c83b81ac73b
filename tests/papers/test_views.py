import datetime
import re

import pytest
from django.conf import settings
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.views.defaults import server_error

from papers.cache import bump_trending_version, page_key
from papers.models import Paper, Window
from tests.factories import (
    PaperFactory,
    PaperRepositoryFactory,
    RepositoryFactory,
    TopicFactory,
    TrendFactory,
)

pytestmark = pytest.mark.django_db

BANNER = "Get trending papers in your email inbox once a day!"


def trending_paper(window=Window.TODAY, *, score=10.0, topics=(), repos=(), **paper_fields):
    paper = PaperFactory(**paper_fields)
    paper.topics.add(*topics)
    for i, repo in enumerate(repos):
        PaperRepositoryFactory(paper=paper, repository=repo, is_official=i == 0)
    TrendFactory(paper=paper, window=window, score=score, reason=f"+{int(score)} stars in 24 h")
    return paper


def queries_for(client, url):
    cache.clear()  # measure the uncached page: cached ones make no paper queries at all
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


class TestHome:
    def test_it_shows_todays_trending_cards_in_score_order(self, client):
        topic = TopicFactory(name="Computer Vision", slug="cv")
        repo = RepositoryFactory(owner="acme", name="seg", stars=1234, framework="PyTorch")
        trending_paper(score=5, title="Second Paper")
        trending_paper(
            score=50,
            title="First <b>Paper</b>",
            authors=["Ada Lovelace", "Alan Turing"],
            abstract="We segment everything.",
            published_on=datetime.date(2026, 11, 2),
            topics=[topic],
            repos=[repo],
        )

        response = client.get("/")

        body = response.content.decode()
        assert response.status_code == 200
        assert body.index("First &lt;b&gt;Paper&lt;/b&gt;") < body.index("Second Paper")
        assert '<a href="/authors/ada-lovelace/">Ada Lovelace</a>, ' in body
        assert '<a href="/authors/alan-turing/">Alan Turing</a>' in body
        assert '<time datetime="2026-11-02">2 Nov 2026</time>' in body
        assert "We segment everything." in body
        assert "+50 stars in 24 h" in body
        assert 'href="https://github.com/acme/seg"' in body
        stars = '<span aria-hidden="true">★</span> 1.2k<span class="visually-hidden"> stars</span>'
        assert stars in body
        assert 'href="/topics/cv/">Computer Vision</a>' in body

    def test_it_switches_window_with_tabs_marking_the_current_one(self, client):
        trending_paper(Window.TODAY, title="Hot Today")
        trending_paper(Window.MONTH, title="Hot This Month")

        today = client.get("/").content.decode()
        month = client.get("/?window=month").content.decode()

        assert "Hot Today" in today.split('id="latest-title"')[0]
        assert "Hot This Month" not in today.split('id="latest-title"')[0]
        assert "Hot This Month" in month.split('id="latest-title"')[0]
        assert 'href="?window=month" aria-current="page">This month</a>' in month
        assert 'href="?window=today" aria-current="page"' in today

    def test_it_falls_back_to_today_for_an_unknown_window(self, client):
        trending_paper(Window.TODAY, title="Hot Today")

        response = client.get("/?window=<script>")

        assert response.status_code == 200
        assert "Hot Today" in response.content.decode()
        assert "<script>" not in response.content.decode()

    def test_it_lists_latest_papers_and_leaves_out_hidden_ones(self, client):
        PaperFactory(title="Fresh Paper", published_on=datetime.date(2026, 11, 20))
        PaperFactory(title="Hidden Paper", status=Paper.Status.HIDDEN)

        body = client.get("/").content.decode()

        latest = body.split('id="latest-title"')[1]
        assert "Fresh Paper" in latest
        assert "Hidden Paper" not in body
        assert "No paper is trending today yet." in body

    def test_it_shows_the_subscribe_banner_posting_to_the_subscription_flow(self, client):
        body = client.get("/").content.decode()

        assert BANNER in body
        assert f'action="{reverse("subscriptions:subscribe")}"' in body
        assert 'name="email"' in body
        assert 'name="csrfmiddlewaretoken"' in body
        assert '<label class="visually-hidden" for="banner-email">' in body

    def test_it_has_landmarks_and_a_skip_link(self, client):
        body = client.get("/").content.decode()

        for landmark in (
            '<header class="site-header" role="banner">',
            '<main id="main"',
            '<nav class="site-nav" aria-label="Main">',
            'role="contentinfo"',
            'role="search"',
            '<nav class="tabs" aria-label="Trending period">',
        ):
            assert landmark in body
        assert '<a class="skip-link" href="#main">' in body

    def test_its_query_count_does_not_grow_with_the_number_of_papers(self, client):
        topics = [TopicFactory(), TopicFactory()]
        trending_paper(topics=topics, repos=[RepositoryFactory()])
        few = queries_for(client, "/")
        for _ in range(12):
            trending_paper(topics=topics, repos=[RepositoryFactory(), RepositoryFactory()])
            PaperFactory()

        assert queries_for(client, "/") == few

    def test_its_side_list_of_latest_papers_reads_no_card_data(self, client):
        trending_paper(topics=[TopicFactory()], repos=[RepositoryFactory()])
        PaperFactory()
        cache.clear()

        with CaptureQueriesContext(connection) as queries:
            client.get("/")

        # Topics and code links for the trending cards only; the side list shows links.
        sql = [query["sql"] for query in queries.captured_queries]
        assert sum('FROM "papers_topic"' in q for q in sql) == 1
        assert sum('FROM "papers_paperrepository"' in q for q in sql) == 1

    def test_it_serves_cached_lists_without_queries_until_trending_is_recomputed(self, client):
        paper = trending_paper(title="Old Title")
        client.get("/")

        Paper.objects.filter(pk=paper.pk).update(title="New Title")
        with CaptureQueriesContext(connection) as queries:
            cached = client.get("/").content.decode()
        bump_trending_version()
        fresh = client.get("/").content.decode()

        assert not [q for q in queries.captured_queries if "papers_" in q["sql"]]
        assert "Old Title" in cached
        assert "New Title" in fresh

    def test_it_refuses_writes(self, client):
        assert client.post("/").status_code == 405


class TestPageCache:
    def test_it_serves_a_page_stored_as_text_by_an_earlier_release(self, client):
        from papers.cache import CSRF_PLACEHOLDER, TRENDING_VERSION_KEY

        cache.set(TRENDING_VERSION_KEY, 7, timeout=None)
        html = f'<p>Stored</p><input name="csrfmiddlewaretoken" value="{CSRF_PLACEHOLDER}">'
        cache.set(page_key("html", "testserver", "/"), (7, html))

        body = client.get("/").content.decode()

        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        assert body.startswith("<p>Stored</p>")
        assert token and token.group(1) != CSRF_PLACEHOLDER

    def test_it_gives_each_visitor_their_own_csrf_token_from_the_cached_page(self):
        from django.test import Client

        trending_paper(title="Cached Paper")
        first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
        first.get("/")

        with CaptureQueriesContext(connection) as queries:
            page = second.get("/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
        posted = second.post(
            reverse("subscriptions:subscribe"),
            {"email": "reader@example.org", "csrfmiddlewaretoken": token.group(1)},
        )

        assert len(queries) == 0
        assert "Cached Paper" in page.content.decode()
        assert "\ue002" not in page.content.decode()
        assert "Cookie" in page["Vary"]
        assert posted.status_code != 403

    def test_it_neither_stores_nor_serves_pages_for_visitors_with_a_session(self, client):
        client.cookies[settings.SESSION_COOKIE_NAME] = "some-session"

        client.get("/")

        assert cache.get(page_key("html", "testserver", "/")) is None

    @pytest.mark.parametrize(
        "url",
        [
            "/?utm_source=x",
            "/?window=yesterday",
            "/?window=week&window=month",
            "/latest/?page=501",
            "/feed/?x=1",
        ],
    )
    def test_it_does_not_store_pages_for_made_up_query_strings(self, client, url):
        response = client.get(url)

        assert response.status_code == 200
        assert cache.get(page_key("html", "testserver", url)) is None
        assert cache.get(page_key("response", "testserver", url)) is None

    def test_it_stores_pages_for_known_query_strings(self, client):
        for url in ("/", "/?window=week", "/latest/?page=3", "/topics/"):
            client.get(url)
            assert cache.get(page_key("html", "testserver", url)) is not None, url

    def test_it_renders_pending_messages_instead_of_the_stored_page(self, client, rf):
        client.get("/")
        storage = CookieStorage(rf.get("/"))
        client.cookies["messages"] = storage._encode([Message(constants.INFO, "Check your inbox")])

        body = client.get("/").content.decode()

        assert cache.get(page_key("html", "testserver", "/")) is not None
        assert "Check your inbox" in body


class TestLatest:
    def test_it_pages_through_papers_newest_first(self, client, settings):
        for day in range(1, 24):
            PaperFactory(title=f"Paper of day {day}", published_on=datetime.date(2026, 10, day))

        first = client.get("/latest/").content.decode()
        second = client.get("/latest/?page=2").content.decode()

        assert first.index("Paper of day 23") < first.index("Paper of day 5")
        assert 'rel="next" href="?page=2"' in first
        assert "Paper of day 3<" in second
        assert 'rel="prev" href="?page=1"' in second
        assert 'rel="next"' not in second

    @pytest.mark.parametrize("page", ["abc", "-3", "0", "99999999999999999999", "1e5"])
    def test_it_treats_a_bad_page_number_as_a_normal_request(self, client, page):
        PaperFactory(title="Only Paper")

        response = client.get("/latest/", {"page": page})

        assert response.status_code == 200

    def test_its_query_count_does_not_grow_with_the_number_of_papers(self, client):
        PaperFactory()
        few = queries_for(client, "/latest/")
        for _ in range(10):
            paper = PaperFactory()
            paper.topics.add(TopicFactory())
            PaperRepositoryFactory(paper=paper)

        assert queries_for(client, "/latest/") == few


class TestPaperPage:
    def test_it_shows_everything_about_the_paper(self, client):
        topic = TopicFactory(name="Robotics", slug="robotics")
        paper = PaperFactory(
            title="Grasping <Things>",
            slug="grasping-things",
            arxiv_id="2411.01234",
            authors=["Grace Hopper", "Claude Shannon", "Edsger Dijkstra"],
            abstract="Full abstract.\nSecond line of it.",
            published_on=datetime.date(2026, 11, 1),
            updated_on=datetime.date(2026, 11, 9),
        )
        paper.topics.add(topic)
        community = RepositoryFactory(owner="fan", name="grasp", stars=900)
        official = RepositoryFactory(owner="lab", name="grasp", stars=40, framework="JAX")
        PaperRepositoryFactory(paper=paper, repository=community, is_official=False)
        PaperRepositoryFactory(paper=paper, repository=official, is_official=True)

        response = client.get("/papers/grasping-things/")

        body = response.content.decode()
        assert response.status_code == 200
        assert "<h1" in body and "Grasping &lt;Things&gt;" in body
        assert (
            '<a href="/authors/grace-hopper/">Grace Hopper</a>, '
            '<a href="/authors/claude-shannon/">Claude Shannon</a>, '
            '<a href="/authors/edsger-dijkstra/">Edsger Dijkstra</a>'
        ) in body
        assert "Full abstract.\nSecond line of it." in body
        assert "1 November 2026" in body and "9 November 2026" in body
        assert 'href="https://arxiv.org/abs/2411.01234"' in body
        assert 'href="https://arxiv.org/pdf/2411.01234"' in body
        assert body.index("lab/grasp") < body.index("fan/grasp"), "official repository first"
        assert "Official" in body and "JAX" in body and "</span> 900<" in body
        assert 'href="/topics/robotics/">Robotics</a>' in body

    def test_it_lists_related_papers_sharing_topics_most_first(self, client):
        a, b = TopicFactory(), TopicFactory()
        paper = PaperFactory(slug="subject", title="Subject")
        paper.topics.add(a, b)
        PaperFactory(title="Shares One").topics.add(a)
        PaperFactory(title="Shares Both").topics.add(a, b)
        PaperFactory(title="Shares Nothing", abstract="Nothing in common.")
        PaperFactory(title="Hidden Sibling", status=Paper.Status.HIDDEN).topics.add(a, b)

        body = client.get("/papers/subject/").content.decode()

        related = body.split('id="related-title"')[1]
        assert related.index("Shares Both") < related.index("Shares One")
        assert "Shares Nothing" not in related
        assert "Hidden Sibling" not in related

    @pytest.mark.skipif(
        connection.vendor != "postgresql", reason="text similarity uses PostgreSQL full-text search"
    )
    def test_it_fills_related_papers_with_similar_text(self, client):
        PaperFactory(slug="subject", title="Diffusion Models for Protein Design")
        PaperFactory(title="Protein Ligands", abstract="Docking.")
        PaperFactory(title="Diffusion Models for Protein Folding")
        PaperFactory(title="Speech Recognition", abstract="Audio.")

        body = client.get("/papers/subject/").content.decode()

        related = body.split('id="related-title"')[1]
        assert related.index("Protein Folding") < related.index("Protein Ligands")
        assert "Speech Recognition" not in related

    def test_it_answers_404_in_the_site_style_for_unknown_or_hidden_papers(self, client):
        PaperFactory(slug="hidden", status=Paper.Status.HIDDEN)

        for url in ("/papers/nope/", "/papers/hidden/"):
            response = client.get(url)
            assert response.status_code == 404
            assert "Page not found" in response.content.decode()
            assert BANNER in response.content.decode()

    def test_it_reads_its_code_links_and_topics_once(self, client):
        topic = TopicFactory()
        paper = PaperFactory(slug="subject")
        paper.topics.add(topic)
        PaperRepositoryFactory(paper=paper)
        PaperFactory().topics.add(topic)
        cache.clear()

        with CaptureQueriesContext(connection) as queries:
            client.get("/papers/subject/")

        # The Code section and the star history share one read; the Topics section and
        # the related papers another.
        sql = [query["sql"] for query in queries.captured_queries]
        assert sum(q.startswith('SELECT "papers_topic"') for q in sql) == 1
        assert sum('FROM "papers_paperrepository"' in q for q in sql) == 1

    def test_its_query_count_does_not_grow_with_repositories_topics_or_related(self, client):
        topic = TopicFactory()
        paper = PaperFactory(slug="subject")
        paper.topics.add(topic)
        PaperRepositoryFactory(paper=paper)
        PaperFactory().topics.add(topic)
        few = queries_for(client, "/papers/subject/")
        for _ in range(8):
            paper.topics.add(TopicFactory())
            PaperRepositoryFactory(paper=paper)
            PaperFactory().topics.add(topic)

        # With few topic siblings the similar-title query tops the list up; with enough it
        # is skipped, so the bound holds either way.
        assert queries_for(client, "/papers/subject/") <= few


class TestTopics:
    def test_it_lists_topics_with_published_paper_counts(self, client):
        topic = TopicFactory(name="Speech", slug="speech")
        PaperFactory().topics.add(topic)
        PaperFactory().topics.add(topic)
        PaperFactory(status=Paper.Status.HIDDEN).topics.add(topic)

        body = client.get("/topics/").content.decode()

        assert 'href="/topics/speech/">Speech</a>' in body
        assert "2 papers" in body

    def test_it_shows_a_topics_trending_papers_only(self, client):
        topic = TopicFactory(name="Speech", slug="speech")
        trending_paper(title="Speech Paper", topics=[topic])
        trending_paper(title="Vision Paper", topics=[TopicFactory()])

        body = client.get("/topics/speech/").content.decode()

        assert "<h1>Speech</h1>" in body
        assert "Speech Paper" in body
        assert "Vision Paper" not in body
        assert 'href="/topics/speech/feed/"' in body

    def test_it_answers_404_for_an_unknown_topic(self, client):
        assert client.get("/topics/nope/").status_code == 404

    def test_its_query_count_does_not_grow_with_the_number_of_papers(self, client):
        topic = TopicFactory(slug="speech")
        trending_paper(topics=[topic], repos=[RepositoryFactory()])
        few = queries_for(client, "/topics/speech/")
        for _ in range(10):
            trending_paper(topics=[topic, TopicFactory()], repos=[RepositoryFactory()])

        assert queries_for(client, "/topics/speech/") == few

    def test_its_topic_list_query_count_does_not_grow_with_topics(self, client):
        TopicFactory()
        few = queries_for(client, "/topics/")
        for _ in range(10):
            PaperFactory().topics.add(TopicFactory())

        assert queries_for(client, "/topics/") == few


class TestServerError:
    def test_it_renders_the_500_page_in_the_site_style(self, rf):
        response = server_error(rf.get("/"))

        body = response.content.decode()
        assert response.status_code == 500
        assert "Something went wrong" in body
        assert "/static/css/site.css" in body
        assert '<main id="main"' in body


# --- Issue 12: cards, pagination, author pages, daily pages, link previews, banner -------


def _snapshot_day(day, *, papers):
    """Store `papers` (best first) as the Today ranking at the end of `day`."""
    from papers.models import TrendSnapshot

    for rank, paper in enumerate(papers, start=1):
        for window in Window.values:
            TrendSnapshot.objects.create(
                day=day,
                window=window,
                rank=rank,
                paper=paper,
                score=100 - rank,
                reason=f"#{rank} on {day}",
            )


class TestCards:
    def test_it_numbers_ranks_across_pages(self, client):
        for n in range(35):
            trending_paper(score=100 - n, title=f"Ranked {n + 1}")

        # The trending list only, not the sidebar's latest papers.
        first = client.get("/").content.decode().split("<aside")[0]
        second = client.get("/?window=today&page=2").content.decode().split("<aside")[0]

        assert re.search(r'<span class="visually-hidden">Rank </span>1</p>\s*<div', first)
        assert "Rank </span>30</p>" in first and "Ranked 31" not in first
        assert 'href="?window=today&amp;page=2"' in first, "a next link keeping the tab"
        assert "Rank </span>31</p>" in second and "Ranked 31" in second
        assert "Ranked 30<" not in second

    def test_it_has_arxiv_pdf_and_code_buttons_with_stars(self, client):
        repo = RepositoryFactory(owner="lab", name="fast", stars=4321)
        trending_paper(arxiv_id="2411.00042", repos=[repo])

        body = client.get("/").content.decode()

        assert (
            '<a class="chip" href="https://arxiv.org/abs/2411.00042" rel="noopener">arXiv</a>'
            in body
        )
        assert (
            '<a class="chip" href="https://arxiv.org/pdf/2411.00042" rel="noopener">PDF</a>' in body
        )
        assert 'href="https://github.com/lab/fast" rel="noopener">Code <span class="stars">' in body
        assert "4.3k" in body

    def test_it_shows_no_star_count_when_stars_are_unknown(self, client):
        repo = RepositoryFactory(owner="lab", name="unchecked", stars=0, stars_checked_at=None)
        trending_paper(arxiv_id=None, pdf_url="", abstract_url="", repos=[repo])

        body = client.get("/").content.decode()

        assert 'href="https://github.com/lab/unchecked" rel="noopener">Code</a>' in body
        assert "★" not in body
        assert ">arXiv<" not in body and ">PDF<" not in body, "no buttons to nowhere"

    def test_it_shows_a_deliberate_placeholder_without_a_thumbnail(self, client):
        topic = TopicFactory(name="Robotics")
        trending_paper(topics=[topic])

        body = client.get("/").content.decode()

        assert '<div class="thumb-placeholder" aria-hidden="true">' in body
        assert '<span class="thumb-placeholder__kind">Robotics</span>' in body
        assert "<img src=" not in body.split("<main", 1)[1]

    def test_it_shows_a_thumbnail_lazily_with_size_and_alt(self, client):
        trending_paper(thumbnail="thumbnails/p-abc.jpg", thumbnail_width=480, thumbnail_height=621)

        body = client.get("/").content.decode()

        assert (
            '<img src="/media/thumbnails/p-abc.jpg" width="480" height="621" loading="lazy" '
            'decoding="async" alt="First page of the paper">'
        ) in body

    def test_it_shows_latex_as_mathml_not_dollar_signs(self, client):
        paper = trending_paper(
            title=r"Sorting in $\mathcal{O}(n \log n)$ <fast>",
            abstract=r"We bound $x^2$ and $\text{<script>alert(1)</script>}$.",
        )

        home = client.get("/").content.decode()
        detail = client.get(paper.get_absolute_url()).content.decode()

        for body in (home, detail):
            assert '<math display="inline" xmlns="http://www.w3.org/1998/Math/MathML">' in body
            assert "$\\mathcal" not in body
            assert "&lt;fast&gt;" in body
            assert "<script>alert" not in body, "MathML is rebuilt from an allow-list"
        assert "<title>Sorting in O(n log n) &lt;fast&gt; · " in detail


class TestPagination:
    def test_it_pages_a_topics_trending_list(self, client):
        topic = TopicFactory(slug="big")
        for n in range(35):
            trending_paper(score=100 - n, title=f"Topic paper {n + 1}", topics=[topic])

        first = client.get("/topics/big/").content.decode()
        second = client.get("/topics/big/?window=today&page=2").content.decode()

        assert first.count('class="paper-card ') == 30
        assert 'rel="next" href="?window=today&amp;page=2"' in first
        assert second.count('class="paper-card ') == 5
        assert 'rel="prev"' in second and 'rel="next"' not in second

    def test_it_caches_each_page_of_a_tab_separately(self, client):
        for n in range(31):
            trending_paper(score=100 - n, title=f"Cached {n + 1}")
        client.get("/?window=today&page=2")

        assert cache.get(page_key("html", "testserver", "/?window=today&page=2")) is not None


class TestAuthorPage:
    def test_it_lists_an_authors_published_papers_newest_first(self, client):
        PaperFactory(
            title="Old one", authors=["Jürgen Schmidhuber"], published_on=datetime.date(2020, 1, 1)
        )
        PaperFactory(
            title="New one",
            authors=["Jurgen Schmidhuber", "Sepp Hochreiter"],
            published_on=datetime.date(2026, 1, 1),
        )
        PaperFactory(title="Hidden one", authors=["Jürgen Schmidhuber"], status=Paper.Status.HIDDEN)
        PaperFactory(title="Someone else", authors=["Jürgen Schmidhuberson"])

        response = client.get("/authors/jurgen-schmidhuber/")

        body = response.content.decode()
        assert response.status_code == 200
        assert "<h1>Jurgen Schmidhuber</h1>" in body, "named as the newest paper spells it"
        assert body.index("New one") < body.index("Old one")
        assert "Hidden one" not in body and "Someone else" not in body

    def test_it_pages_an_authors_papers(self, client, settings):
        for n in range(25):
            PaperFactory(
                authors=["Prolific Writer"],
                published_on=datetime.date(2026, 1, 1) + datetime.timedelta(days=n),
            )

        first = client.get("/authors/prolific-writer/").content.decode()
        second = client.get("/authors/prolific-writer/?page=2").content.decode()

        assert first.count('<article class="paper-card') == 20 and 'rel="next"' in first
        assert second.count('<article class="paper-card') == 5

    def test_it_answers_404_for_an_unknown_author(self, client):
        assert client.get("/authors/nobody-at-all/").status_code == 404


class TestPeriodPages:
    def test_it_shows_a_days_stored_ranking_with_neighbour_links(self, client):
        a, b = PaperFactory(title="Day paper A"), PaperFactory(title="Day paper B")
        _snapshot_day(datetime.date(2026, 11, 20), papers=[b, a])
        _snapshot_day(datetime.date(2026, 11, 24), papers=[a])
        _snapshot_day(datetime.date(2026, 11, 28), papers=[a, b])

        response = client.get("/papers/date/2026-11-24/")

        body = response.content.decode()
        assert response.status_code == 200
        assert "Tuesday 24 November 2026" in body
        assert '<a rel="prev" href="/papers/date/2026-11-20/">' in body
        assert '<a rel="next" href="/papers/date/2026-11-28/">' in body
        assert "Day paper A" in body and "Day paper B" not in body
        assert "#1 on 2026-11-24" in body
        first = client.get("/papers/date/2026-11-20/").content.decode()
        assert first.index("Day paper B") < first.index("Day paper A")
        assert "No earlier day" in first

    def test_it_shows_weeks_and_months_from_their_last_recorded_day(self, client):
        a, b = PaperFactory(title="Week paper A"), PaperFactory(title="Week paper B")
        _snapshot_day(datetime.date(2026, 11, 23), papers=[a, b])  # Monday of W48
        _snapshot_day(datetime.date(2026, 11, 26), papers=[b, a])  # Thursday of W48
        _snapshot_day(datetime.date(2026, 12, 1), papers=[a])

        week = client.get("/papers/week/2026-W48/").content.decode()
        month = client.get("/papers/month/2026-11/").content.decode()

        assert week.index("Week paper B") < week.index("Week paper A"), "Thursday's ranking"
        assert '<a rel="next" href="/papers/week/2026-W49/">' in week
        assert month.index("Week paper B") < month.index("Week paper A")
        assert '<a rel="next" href="/papers/month/2026-12/">' in month

    @pytest.mark.parametrize(
        "url",
        [
            "/papers/date/2026-11-31/",
            "/papers/date/20261124/",
            "/papers/date/2026-11-2/",
            "/papers/date/yesterday/",
            "/papers/date/2026-11-25/",  # a real date with nothing recorded
            "/papers/week/2026-W60/",
            "/papers/week/2026-W5/",
            "/papers/month/2026-13/",
        ],
    )
    def test_it_answers_404_for_bad_or_empty_dates(self, client, url):
        _snapshot_day(datetime.date(2026, 11, 24), papers=[PaperFactory()])

        assert client.get(url).status_code == 404

    def test_it_sends_the_daily_index_to_the_newest_day(self, client):
        _snapshot_day(datetime.date(2026, 11, 24), papers=[PaperFactory()])
        _snapshot_day(datetime.date(2026, 11, 26), papers=[PaperFactory()])

        response = client.get("/papers/date/")

        assert response.status_code == 302
        assert response["Location"] == "/papers/date/2026-11-26/"

    def test_its_query_count_does_not_grow_with_the_number_of_papers(self, client):
        day = datetime.date(2026, 11, 24)
        _snapshot_day(day, papers=[PaperFactory() for _ in range(2)])
        few = queries_for(client, "/papers/date/2026-11-24/")
        from papers.models import TrendSnapshot

        TrendSnapshot.objects.all().delete()
        _snapshot_day(day, papers=[PaperFactory() for _ in range(25)])

        assert queries_for(client, "/papers/date/2026-11-24/") == few


class TestLinkPreviews:
    def _meta(self, body, prop):
        match = re.search(rf'<meta (?:property|name)="{prop}" content="([^"]*)"', body)
        return match and match.group(1)

    def test_it_gives_a_paper_page_its_title_abstract_and_thumbnail(self, client, settings):
        settings.SITE_URL = "https://papers.example.org"
        paper = PaperFactory(
            title=r"Fast $O(n)$ things",
            abstract="An abstract.",
            thumbnail="thumbnails/fast-1.jpg",
            thumbnail_width=480,
            thumbnail_height=621,
        )

        body = client.get(paper.get_absolute_url()).content.decode()

        assert self._meta(body, "og:title") == "Fast O(n) things"
        assert self._meta(body, "og:description") == "An abstract."
        assert self._meta(body, "og:type") == "article"
        assert self._meta(body, "og:url") == f"https://papers.example.org{paper.get_absolute_url()}"
        image = "https://papers.example.org/media/thumbnails/fast-1.jpg"
        assert self._meta(body, "og:image") == image
        assert self._meta(body, "twitter:image") == image
        assert self._meta(body, "twitter:card") == "summary_large_image"

    def test_it_gives_every_kind_of_page_preview_tags(self, client):
        from digests.models import Edition

        topic = TopicFactory(slug="vision")
        paper = trending_paper(
            authors=["Ada Lovelace"],
            topics=[topic],
            thumbnail="thumbnails/t-1.jpg",
            thumbnail_width=480,
            thumbnail_height=621,
        )
        _snapshot_day(datetime.date(2026, 11, 24), papers=[paper])
        edition = Edition.objects.create(
            kind="daily", date=datetime.date(2026, 11, 24), status="sent", subject="Today's ten"
        )
        urls = ["/", "/topics/vision/", "/authors/ada-lovelace/", "/papers/date/2026-11-24/"]

        for url in urls:
            body = client.get(url).content.decode()
            assert self._meta(body, "og:title"), url
            assert self._meta(body, "og:image").endswith("/media/thumbnails/t-1.jpg"), url
            assert self._meta(body, "twitter:card") == "summary_large_image", url
        body = client.get(edition.get_absolute_url()).content.decode()
        assert self._meta(body, "og:title") == "Today&#x27;s ten"
        assert self._meta(body, "og:image"), "the site's card"

    def test_it_falls_back_to_the_site_card_without_thumbnails(self, client):
        trending_paper()

        body = client.get("/").content.decode()

        assert self._meta(body, "og:image").endswith("/static/img/og-default.png")


class TestPageDetails:
    def test_it_has_a_favicon_and_only_external_scripts(self, client):
        body = client.get("/").content.decode()

        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in body
        assert '<script src="/static/js/site.js" defer></script>' in body
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), "no inline script (CSP)"
        assert 'aria-keyshortcuts="/"' in body

    def test_it_links_the_digest_archive_and_the_daily_pages(self, client):
        body = client.get("/").content.decode()

        assert 'href="/digests/"' in body and 'href="/papers/date/"' in body

    def test_it_hides_the_banner_from_signed_in_subscribers(self, client):
        from tests.factories import SubscriberFactory, UserFactory

        reader = UserFactory()
        client.force_login(reader)
        assert BANNER in client.get("/").content.decode(), "signed in, not subscribed"

        SubscriberFactory(user=reader, email=reader.email, status="confirmed")

        assert BANNER not in client.get("/").content.decode()

    def test_it_hides_the_banner_on_account_pages(self, client):
        body = client.get("/accounts/login/").content.decode()

        assert BANNER not in body

    def test_it_offers_visitors_a_dismiss_button(self, client):
        body = client.get("/").content.decode()

        assert "data-dismiss-banner" in body

    def test_it_shows_the_branded_404_with_debug_on(self, client, settings):
        settings.DEBUG = True

        response = client.get("/no-such-page/")

        body = response.content.decode()
        assert response.status_code == 404
        assert "There is no page at this address." in body
        assert "Django tried these URL patterns" not in body

    def test_it_says_the_sample_data_is_simulated(self, client):
        from papers.sample import sample_note_refresh

        paper = PaperFactory(
            title=(
                "Noise2Recon: Enabling Joint MRI Reconstruction and Denoising with "
                "Semi-Supervised and Self-Supervised Learning"
            ),
            sources=["jsonl"],
        )
        sample_note_refresh()
        assert "simulated" not in client.get("/latest/").content.decode()

        Paper.objects.filter(pk=paper.pk).update(sources=["sample"])
        sample_note_refresh()

        assert "are simulated" in client.get("/latest/?page=1").content.decode()
