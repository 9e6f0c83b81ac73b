import datetime as dt
import re
from xml.etree import ElementTree

import pytest

from digests.models import Edition, Kind
from digests.services import edition_get_or_compose
from tests.factories import PaperFactory, TrendFactory

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def test_the_archive_feed_lists_each_editions_papers_as_html(client):
    TrendFactory(paper=PaperFactory(title="Bigger <b>is</b> better", slug="bigger"), score=9)
    TrendFactory(paper=PaperFactory(title="Smaller & faster", slug="smaller"), score=8)
    edition_get_or_compose(day=dt.date(2026, 11, 27), kind=Kind.DAILY)
    Edition.objects.update(status=Edition.Status.SENT)

    feed = ElementTree.fromstring(client.get("/digests/feed/").content)

    summary = feed.find(f"{ATOM}entry/{ATOM}summary")
    assert summary.get("type") == "html"
    html = summary.text
    assert html.startswith("<ol><li>") and html.endswith("</li></ol>")
    # In the edition's order, which the trending recompute at composing decides.
    items = re.findall(r'<li><a href="([^"]+)">(.*?)</a>', html)
    assert sorted(items) == [
        ("http://127.0.0.1:8000/papers/bigger/", "Bigger &lt;b&gt;is&lt;/b&gt; better"),
        ("http://127.0.0.1:8000/papers/smaller/", "Smaller &amp; faster"),
    ]
