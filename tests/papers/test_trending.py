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

    # (+2 since the day's snapshot: one DELETE and one INSERT ... SELECT.)
    with django_assert_max_num_queries(10):
        counts = trending_recompute()

    assert counts["today"] == 25


def test_it_scores_a_decades_old_pinned_paper_without_underflow():
    # 0.5 ** (age / half-life) underflows a double for very old papers; PostgreSQL raises.
    paper = PaperFactory(published_on=date(1990, 1, 1), pinned=True)

    trending_recompute()

    assert _trend(paper, "today").score == pytest.approx(PIN_SCORE)


# --- The per-day snapshot (daily, weekly and monthly pages) ---------------------------------


def _snapshot(day, window="today"):
    from papers.models import TrendSnapshot

    rows = TrendSnapshot.objects.filter(day=day, window=window).order_by("rank")
    return [(row.rank, row.paper_id, row.reason) for row in rows]


def test_it_keeps_each_days_ranking_as_it_stood():
    a = PaperFactory(published_on=date(2024, 11, 15))
    b = PaperFactory(published_on=date(2024, 11, 20))  # not out yet yesterday
    _repo_for(a, {50: 0, 26: 100})
    yesterday = NOW - timedelta(days=1)

    trending_recompute(now=yesterday)
    _repo_for(b, {30: 0, 1: 900})  # b takes off after yesterday's last recompute
    trending_recompute()

    assert [paper for _, paper, _ in _snapshot(date(2024, 11, 19))] == [a.pk]
    assert [paper for _, paper, _ in _snapshot(date(2024, 11, 20))] == [b.pk, a.pk]
    assert _snapshot(date(2024, 11, 20))[0] == (1, b.pk, "+900 stars in 24 h")


def test_it_replaces_only_the_same_days_snapshot():
    paper = PaperFactory(published_on=date(2024, 11, 19))
    trending_recompute(now=NOW - timedelta(days=1))
    trending_recompute(now=NOW - timedelta(hours=2))
    paper.pinned = True
    paper.save()

    trending_recompute()

    assert _snapshot(date(2024, 11, 20)) == [(1, paper.pk, "Pinned by the editors")]
    assert _snapshot(date(2024, 11, 19)) == [(1, paper.pk, "New today")]


def test_it_ranks_the_snapshot_as_the_live_list_does(monkeypatch):
    monkeypatch.setattr("papers.trending.SNAPSHOT_SIZE", 5)
    for n in range(8):
        paper = PaperFactory(published_on=date(2024, 11, 1) + timedelta(days=n % 3))
        _repo_for(paper, {30: 0, 1: 10 * (n % 4)})

    trending_recompute()

    live = list(Paper.objects.trending("week").values_list("pk", flat=True)[:5])
    assert [paper for _, paper, _ in _snapshot(date(2024, 11, 20), "week")] == live
    assert [rank for rank, _, _ in _snapshot(date(2024, 11, 20), "week")] == [1, 2, 3, 4, 5]


def test_it_leaves_out_papers_published_after_now():
    PaperFactory(published_on=date(2024, 11, 21))

    counts = trending_recompute()

    assert counts == {"today": 0, "week": 0, "month": 0}


# --- The first run: `make run` loads the sample ------------------------------------------


def test_the_sample_shows_three_different_tab_orders_and_four_kinds_of_reason():
    import re

    from django.core.management import call_command

    call_command("load_sample_papers", stdout=None)

    orders, kinds = {}, set()
    for window in ("today", "week", "month"):
        rows = list(Paper.objects.trending(window)[:30])
        orders[window] = [paper.pk for paper in rows]
        kinds |= {re.sub(r"[\d,]+", "N", p.trend_reason).split(" in ")[0] for p in rows}
    assert len({tuple(order) for order in orders.values()}) == 3
    # Star gains, "New today", "Published N days ago", pinned and boosted by the editors.
    assert len(kinds) >= 4, kinds
    today_kinds = {
        re.sub(r"\d+", "N", p.trend_reason) for p in Paper.objects.trending("today")[:30]
    }
    assert len(today_kinds) >= 4, today_kinds
    assert not Paper.objects.filter(published_on__isnull=True).exists()
    from papers.models import TrendSnapshot

    assert TrendSnapshot.objects.values("day").distinct().count() >= 30, "past days to page"
