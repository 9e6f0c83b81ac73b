"""Star histories for the paper pages: each repository's snapshots as a chart, with the
gain of the window the paper trends in highlighted ("+412 stars in 24 h").

The gain is counted as papers.trending counts it: the last snapshot now against the last
one at or before the window's start.
"""

import datetime as dt

from django.utils import timezone

from lib import charts
from papers.models import PaperRepository, StarSnapshot, Trend, Window
from papers.trending import WINDOWS

# How much history each window's chart shows, and how many points it keeps at most.
SPAN = {
    Window.TODAY: dt.timedelta(days=7),
    Window.WEEK: dt.timedelta(days=30),
    Window.MONTH: dt.timedelta(days=60),
}
MAX_POINTS = 120
REPOSITORIES_SHOWN = 3


def _window_for(paper) -> str:
    """The shortest window the paper gains stars in (where it trends), else 24 h."""
    gains = dict(
        Trend.objects.filter(paper=paper, stars_gained__gt=0).values_list("window", "stars_gained")
    )
    for window in (Window.TODAY, Window.WEEK, Window.MONTH):
        if window in gains:
            return window
    return Window.TODAY


def _thin(points: list, limit: int) -> list:
    """At most `limit` points, always keeping the last (the current count)."""
    if len(points) <= limit:
        return points
    step = len(points) / limit
    kept = [points[int(i * step)] for i in range(limit - 1)]
    return [*kept, points[-1]]


def star_history_charts(*, paper, now: dt.datetime | None = None) -> list[charts.Chart]:
    now = now or timezone.now()
    window = _window_for(paper)
    rule = WINDOWS[window]
    start = now - SPAN[window]
    window_start = now - dt.timedelta(hours=rule.hours)
    links = (
        PaperRepository.objects.filter(paper=paper)
        .select_related("repository")
        .order_by("-is_official", "-repository__stars", "pk")[:REPOSITORIES_SHOWN]
    )
    result = []
    for link in links:
        repo = link.repository
        snaps = StarSnapshot.objects.filter(repository=repo, taken_at__lte=now)
        anchor = snaps.filter(taken_at__lte=start).order_by("-taken_at").first()
        points = list(
            snaps.filter(taken_at__gt=start).order_by("taken_at").values_list("taken_at", "stars")
        )
        if anchor:
            points.insert(0, (anchor.taken_at, anchor.stars))
        if len(points) < 2:
            continue
        points = _thin(points, MAX_POINTS)
        before = [stars for taken, stars in points if taken <= window_start]
        baseline = before[-1] if before else points[0][1]
        gain = points[-1][1] - baseline
        first_in = next(
            (i for i, (taken, _) in enumerate(points) if taken > window_start), len(points) - 1
        )
        label = f"{'+' if gain >= 0 else ''}{gain:,} stars in {rule.label}"
        chart = charts.line_chart(
            id=f"stars-{repo.pk}",
            title=f"Stars of {repo.owner}/{repo.name}",
            summary=(
                f"{repo.owner}/{repo.name} went from {points[0][1]:,} to {points[-1][1]:,} GitHub "
                f"stars since {points[0][0]:%d %b}; {label}."
            ),
            labels=[f"{timezone.localtime(taken):%d %b %H:%M}" for taken, _ in points],
            lines=[("Stars", [stars for _, stars in points])],
            highlight=(max(first_in - 1, 0), len(points) - 1, label),
            minimum=None,
            x_name="Time",
        )
        result.append(chart)
    return result
