"""Star history charts on the paper pages, with the trending window's gain highlighted."""

import datetime as dt
import re

import pytest
import time_machine

from papers.models import StarSnapshot, Window
from papers.star_history import star_history_charts
from tests.factories import PaperRepositoryFactory, TrendFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def paper():
    link = PaperRepositoryFactory(
        paper__slug="fast-sam", repository__owner="lab", repository__name="fast-sam"
    )
    history = [(72, 1000), (30, 1050), (25, 1100), (12, 1300), (0, 1512)]
    for hours_ago, stars in history:
        StarSnapshot.objects.create(
            repository=link.repository, taken_at=NOW - dt.timedelta(hours=hours_ago), stars=stars
        )
    return link.paper


def test_it_labels_the_gain_of_the_window_the_paper_trends_in(paper):
    TrendFactory(paper=paper, window=Window.TODAY, stars_gained=412)

    [chart] = star_history_charts(paper=paper)

    assert chart.gain_label == "+412 stars in 24 h"  # 1512 now against 1100 25 h ago
    assert chart.highlight["label"] == "+412 stars in 24 h"
    assert [row[1] for row in chart.rows] == [["1,000"], ["1,050"], ["1,100"], ["1,300"], ["1,512"]]
    assert "went from 1,000 to 1,512 GitHub stars" in chart.summary


def test_it_uses_the_week_when_the_paper_trends_only_there(paper):
    TrendFactory(paper=paper, window=Window.WEEK, stars_gained=512)

    [chart] = star_history_charts(paper=paper)

    assert chart.gain_label == "+512 stars in 7 days"


def test_it_shows_the_chart_on_the_public_paper_page(client, paper):
    TrendFactory(paper=paper, window=Window.TODAY, stars_gained=412)

    body = client.get("/papers/fast-sam/").content.decode()

    assert "<strong>+412 stars in 24 h</strong>" in body
    figure = re.search(r'<figure class="chart".*?</figure>', body, re.S).group(0)
    assert 'role="img"' in figure and "<title" in figure and "<desc" in figure
    assert "style=" not in figure and "<script" not in figure
    assert "Data table: stars of lab/fast-sam" in figure


def test_it_shows_the_chart_on_the_admin_change_page(client, paper):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    body = client.get(f"/admin/papers/paper/{paper.pk}/change/").content.decode()

    assert "Stars of lab/fast-sam" in body and "+412 stars in 24 h" in body


def test_it_draws_nothing_without_two_snapshots(client):
    link = PaperRepositoryFactory(paper__slug="lonely")
    StarSnapshot.objects.create(repository=link.repository, taken_at=NOW, stars=5)

    assert star_history_charts(paper=link.paper) == []
    assert "Star history" not in client.get("/papers/lonely/").content.decode()
