"""RSS 2.0 and Atom feeds of today's trending papers, overall and per topic, for readers
who prefer a feed to the e-mail. Whole responses are cached on the trending version."""

import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.text import Truncator

from papers import selectors
from papers.cache import cache_on_trending_version
from papers.maths import maths_html, maths_text
from papers.models import Topic, Window

FEED_ITEMS = 30


class TrendingFeed(Feed):
    description_template = None

    def get_object(self, request, slug=None):
        return get_object_or_404(Topic, slug=slug) if slug else None

    def title(self, topic):
        where = f" in {topic.name}" if topic else ""
        return f"{settings.SITE_NAME}: trending papers{where} today"

    def link(self, topic):
        return settings.SITE_URL + (topic.get_absolute_url() if topic else "/")

    def description(self, topic):
        return "Research papers gaining the most attention today, with their code."

    def items(self, topic):
        return selectors.trending_papers(window=Window.TODAY, topic=topic, limit=FEED_ITEMS)

    def item_title(self, paper):
        # Feed titles are plain text in every reader: maths in its readable text form.
        return maths_text(paper.title)

    def item_link(self, paper):
        return settings.SITE_URL + paper.get_absolute_url()

    def item_guid(self, paper):
        return self.item_link(paper)

    def item_description(self, paper):
        """HTML (readers render descriptions as HTML): the reason, then the abstract with
        its maths as MathML, which feed readers draw without any script."""
        abstract = maths_html(Truncator(paper.abstract).words(80))
        if paper.trend_reason:
            return f"{escape(paper.trend_reason)}. {abstract}"
        return str(abstract)

    def item_author_name(self, paper):
        return ", ".join(paper.authors[:10]) or None

    def item_pubdate(self, paper):
        if paper.published_on is None:
            return None
        return datetime.datetime.combine(paper.published_on, datetime.time(), tzinfo=datetime.UTC)

    def item_categories(self, paper):
        return [topic.name for topic in paper.topics.all()]


class TrendingAtomFeed(TrendingFeed):
    feed_type = Atom1Feed
    subtitle = TrendingFeed.description


trending_rss = cache_on_trending_version()(TrendingFeed())
trending_atom = cache_on_trending_version()(TrendingAtomFeed())
