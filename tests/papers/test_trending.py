"""The trending formula on hand-computed cases (constants in papers/trending.py)."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from papers.cache import trending_version
from papers.models import Paper, StarSnapshot, Trend
from papers.trending import PIN_SCORE, trending_recompute
from tests.factories import PaperFactory, PaperRepositoryFactory, RepositoryFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2024, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _repo_for(paper, history):
    """A repository of `paper` with snapshots {hours ago: stars}."""
    repo = RepositoryFactory(stars=max(history.values()))
    PaperRepositoryFactory(paper=paper, repository=repo)
    for hours, stars in history.items():
        StarSnapshot.objects.create(
            repository=repo, taken_at=NOW - timedelta(hours=hours), stars=stars
        )
    return repo


def _trend(paper, window):
    return Trend.objects.get(paper=paper, window=window)


def test_it_scores_decayed_stars_per_hour_plus_freshness():
    paper = PaperFactory(published_on=date(2024, 11, 18))  # 60 h before NOW
    _repo_for(paper, {30: 100, 12: 300, 0: 500})

    trending_recompute()

    today = _trend(paper, "today")
    # Gains: +200 observed 12 h ago (half-life 12 h: weight 0.5), +200 now (weight 1),
    # over 24 h: (100 + 200) / 24 = 12.5 stars an hour; freshness 0.5 ** (60 / 24).
    assert today.score == pytest.approx(12.5 + 0.5**2.5)
    assert today.stars_gained == 400
    assert today.reason == "+400 stars in 24 h"
    week = _trend(paper, "week")
    assert week.score == pytest.approx((200 * 0.5 ** (12 / 72) + 200) / 168 + 0.5 ** (60 / 72))
    assert week.reason == "+400 stars in 7 days"
    month = _trend(paper, "month")
    assert month.score == pytest.approx((200 * 0.5 ** (12 / 240) + 200) / 720 + 0.5 ** (60 / 240))


def test_it_compares_a_windows_first_snapshot_with_the_last_one_before_it():
    paper = PaperFactory(published_on=date(2023, 1, 1))
    _repo_for(paper, {24 * 40: 50, 1: 80})  # 40 days ago, then an hour ago

    trending_recompute()

    assert _trend(paper, "today").stars_gained == 30
    assert _trend(paper, "today").score == pytest.approx(30 * 0.5 ** (1 / 12) / 24, rel=1e-6)
    assert _trend(paper, "month").stars_gained == 30


def test_it_counts_only_gains_inside_each_window():
    paper = PaperFactory(published_on=date(2023, 1, 1))
    _repo_for(paper, {24 * 10: 0, 24 * 3: 70, 2: 71})

    trending_recompute()

    assert _trend(paper, "today").stars_gained == 1
    assert _trend(paper, "today").reason == "+1 star in 24 h"
    assert _trend(paper, "week").stars_gained == 71
    assert _trend(paper, "month").stars_gained == 71


def test_it_takes_a_papers_best_repository_not_the_sum_of_its_forks():
    paper = PaperFactory(published_on=date(2023, 1, 1))
    _repo_for(paper, {20: 0, 0: 48})
    _repo_for(paper, {20: 0, 0: 24})

    trending_recompute()

    assert _trend(paper, "today").stars_gained == 48


def test_it_puts_pinned_papers_on_top_until_the_pin_ends():
    hot = PaperFactory(published_on=date(2024, 11, 19))
    _repo_for(hot, {20: 0, 0: 1000})
    pinned = PaperFactory(published_on=date(2023, 1, 1), pinned=True)
    expired = PaperFactory(published_on=date(2024, 11, 19), pinned=True, boost_until=NOW)

    trending_recompute()

    assert list(Paper.objects.trending("today")) == [pinned, hot, expired]
    top = Paper.objects.trending("today").first()
    assert top.trend_reason == "Pinned by the editors"
    assert top.trend_score == pytest.approx(
        PIN_SCORE + 0.5 ** ((NOW - datetime(2023, 1, 1, tzinfo=UTC)).total_seconds() / 3600 / 24)
    )
    assert _trend(expired, "today").reason == "Published 1 day ago"  # 36 h old, pin over


def test_it_adds_the_boost_while_it_lasts_and_says_so():
    paper = PaperFactory(
        published_on=date(2023, 1, 1), boost=5, boost_until=NOW + timedelta(days=1)
    )
    _repo_for(paper, {10: 0, 0: 12})
    boosted_only = PaperFactory(published_on=date(2023, 1, 1), boost=2)

    trending_recompute()

    trend = _trend(paper, "today")
    assert trend.reason == "+12 stars in 24 h · boosted by the editors"
    # The +12 is observed at the latest snapshot (now): weight 1.
    assert trend.score == pytest.approx(
        12 / 24 + 5 + 0.5 ** ((NOW - datetime(2023, 1, 1, tzinfo=UTC)).total_seconds() / 3600 / 24)
    )
    assert _trend(boosted_only, "today").reason == "Boosted by the editors"


def test_it_lists_new_papers_on_a_quiet_day_and_leaves_out_old_quiet_ones():
    new = PaperFactory(published_on=date(2024, 11, 20))
    recent = PaperFactory(published_on=date(2024, 11, 16))
    old = PaperFactory(published_on=date(2024, 1, 1))
    undated = PaperFactory(published_on=None)  # created NOW: freshness from when it was added

    trending_recompute()

    assert list(Paper.objects.trending("today")) == [undated, new, recent]
    assert _trend(new, "today").reason == "New today"
    assert _trend(undated, "today").reason == "Added today"
    assert _trend(recent, "today").reason == "Published 4 days ago"
    assert _trend(recent, "week").reason == "New this week"
    assert not Trend.objects.filter(paper=old).exists()


def test_it_scores_only_published_papers():
    for status in (Paper.Status.DRAFT, Paper.Status.HIDDEN):
        paper = PaperFactory(published_on=date(2024, 11, 20), status=status)
        _repo_for(paper, {5: 0, 0: 100})

    trending_recompute()

    assert not Trend.objects.exists()


def test_it_replaces_old_scores_and_invalidates_cached_pages():
    paper = PaperFactory(published_on=date(2024, 11, 20))
    trending_recompute()
    version = trending_version()
    Paper.objects.filter(pk=paper.pk).update(status=Paper.Status.HIDDEN)

    counts = trending_recompute()

    assert counts == {"today": 0, "week": 0, "month": 0}
    assert not Trend.objects.exists()
    assert trending_version() == version + 1


def test_it_recomputes_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    # Set-based: the work is one INSERT ... SELECT whatever the number of papers.
    for n in range(25):
        paper = PaperFactory(published_on=date(2024, 11, 19))
        _repo_for(paper, {10: n, 0: 2 * n + 1})

    with django_assert_max_num_queries(8):
        counts = trending_recompute()

    assert counts["today"] == 25


def test_it_scores_a_decades_old_pinned_paper_without_underflow():
    # 0.5 ** (age / half-life) underflows a double for very old papers; PostgreSQL raises.
    paper = PaperFactory(published_on=date(1990, 1, 1), pinned=True)

    trending_recompute()

    assert _trend(paper, "today").score == pytest.approx(PIN_SCORE)
