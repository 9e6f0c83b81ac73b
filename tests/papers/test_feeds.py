import datetime
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from papers.cache import bump_trending_version
from papers.models import Paper, Window
from tests.factories import PaperFactory, TopicFactory, TrendFactory

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def trending(title, *, score, topics=(), window=Window.TODAY):
    paper = PaperFactory(title=title, published_on=datetime.date(2026, 11, 3))
    paper.topics.add(*topics)
    TrendFactory(paper=paper, window=window, score=score, reason="+40 stars in 24 h")
    return paper


class TestTrendingFeeds:
    def test_it_lists_todays_trending_papers_in_rss(self, client, settings):
        settings.SITE_URL = "https://papers.example.org"
        trending("Lower <Paper>", score=1)
        trending("Top Paper", score=9, topics=[TopicFactory(name="Vision")])
        trending("Only This Week", score=99, window=Window.WEEK)

        response = client.get("/feed/")

        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/rss+xml")
        channel = ET.fromstring(response.content).find("channel")
        items = channel.findall("item")
        assert [i.findtext("title") for i in items] == ["Top Paper", "Lower <Paper>"]
        top = items[0]
        assert top.findtext("link").startswith("https://papers.example.org/papers/")
        assert top.findtext("description").startswith("+40 stars in 24 h. ")
        assert top.findtext("category") == "Vision"
        assert "03 Nov 2026" in top.findtext("pubDate")
        assert channel.findtext("link") == "https://papers.example.org/"

    def test_it_offers_atom_too(self, client):
        trending("Top Paper", score=9)

        response = client.get("/feed/atom/")

        assert response["Content-Type"].startswith("application/atom+xml")
        feed = ET.fromstring(response.content)
        assert [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")] == ["Top Paper"]
        assert feed.find(f"{ATOM}entry/{ATOM}author/{ATOM}name").text == "Ada Lovelace, Alan Turing"

    def test_it_has_a_feed_per_topic(self, client):
        speech = TopicFactory(name="Speech", slug="speech")
        trending("Speech Paper", score=1, topics=[speech])
        trending("Other Paper", score=2, topics=[TopicFactory()])

        rss = ET.fromstring(client.get("/topics/speech/feed/").content)
        atom = ET.fromstring(client.get("/topics/speech/feed/atom/").content)

        assert [i.findtext("title") for i in rss.iter("item")] == ["Speech Paper"]
        assert "Speech" in rss.find("channel").findtext("title")
        assert len(atom.findall(f"{ATOM}entry")) == 1
        assert client.get("/topics/nope/feed/").status_code == 404

    def test_it_is_cached_until_trending_is_recomputed(self, client):
        paper = trending("Before", score=1)
        client.get("/feed/")
        Paper.objects.filter(pk=paper.pk).update(title="After")

        with CaptureQueriesContext(connection) as queries:
            cached = client.get("/feed/")
        bump_trending_version()
        fresh = client.get("/feed/")

        assert len(queries) == 0
        assert b"Before" in cached.content and cached["Content-Type"].startswith("application/rss")
        assert b"After" in fresh.content

    def test_its_query_count_does_not_grow_with_the_number_of_items(self, client):
        from django.core.cache import cache

        trending("One", score=1, topics=[TopicFactory()])
        with CaptureQueriesContext(connection) as few:
            client.get("/feed/")
        for n in range(10):
            trending(f"More {n}", score=n, topics=[TopicFactory(), TopicFactory()])
        cache.clear()
        with CaptureQueriesContext(connection) as many:
            client.get("/feed/")

        assert len(many) == len(few)


class TestMathsInFeeds:
    def test_it_gives_maths_as_mathml_in_descriptions_and_text_in_titles(self, client):
        paper = trending(r"Sorting in $\mathcal{O}(n)$ <fast>", score=5)
        Paper.objects.filter(pk=paper.pk).update(
            abstract=r"We bound $x^2$ by <b>$\text{<script>x</script>}$</b>."
        )

        items = ET.fromstring(client.get("/feed/").content).find("channel").findall("item")
        atom = ET.fromstring(client.get("/feed/atom/").content)

        assert items[0].findtext("title") == "Sorting in O(n) <fast>"
        description = items[0].findtext("description")  # HTML, as feed readers read it
        assert '<math display="inline" xmlns="http://www.w3.org/1998/Math/MathML">' in description
        assert "<msup><mi>x</mi><mn>2</mn></msup>" in description
        assert "&lt;b&gt;" in description and "<script" not in description
        assert "$" not in description
        summary = atom.find(f"{ATOM}entry").findtext(f"{ATOM}summary")
        assert "<math" in summary
