"""Star histories for the paper pages: each repository's snapshots as a chart, with the
gain of the window the paper trends in highlighted ("+412 stars in 24 h").

The gain is counted as papers.trending counts it: the last snapshot now against the last
one at or before the window's start.
"""

import datetime as dt

from django.db.models import Max, Q
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


def _snapshots(*, repo_ids: list[int], start, now) -> dict[int, list]:
    """{repository id: [(taken_at, stars), ...]} since `start`, each led by its last
    snapshot before `start` (the baseline of its first gain): two queries in all, however
    many repositories."""
    if not repo_ids:
        return {}
    anchors = (
        StarSnapshot.objects.filter(repository_id__in=repo_ids, taken_at__lte=start)
        .values("repository_id")
        .annotate(last=Max("taken_at"))
        .order_by()
    )
    wanted = Q(repository_id__in=repo_ids, taken_at__gt=start, taken_at__lte=now)
    for anchor in anchors:
        wanted |= Q(repository_id=anchor["repository_id"], taken_at=anchor["last"])
    history: dict[int, list] = {}
    rows = StarSnapshot.objects.filter(wanted).order_by("repository_id", "taken_at")
    for repo_id, taken, stars in rows.values_list("repository_id", "taken_at", "stars"):
        history.setdefault(repo_id, []).append((taken, stars))
    return history


def code_links(paper):
    """The paper's code links with their repositories, official first, then by stars: the
    order of the paper page's Code section and of its star charts."""
    return (
        PaperRepository.objects.filter(paper=paper)
        .select_related("repository")
        .order_by("-is_official", "-repository__stars", "pk")
    )


def star_history_charts(*, paper, links=None, now: dt.datetime | None = None) -> list[charts.Chart]:
    """Charts for the first repositories of `links` (code_links(paper) when not given; the
    paper page passes the queryset its Code section lists, so both share one query)."""
    now = now or timezone.now()
    window = _window_for(paper)
    rule = WINDOWS[window]
    start = now - SPAN[window]
    window_start = now - dt.timedelta(hours=rule.hours)
    if links is None:
        links = code_links(paper)[:REPOSITORIES_SHOWN]
    repos = [link.repository for link in list(links)[:REPOSITORIES_SHOWN]]
    history = _snapshots(repo_ids=[r.pk for r in repos], start=start, now=now)
    result = []
    for repo in repos:
        points = history.get(repo.pk, [])
        if len(points) < 2:
            continue
        # The gain is read before thinning, so no dropped point can change it.
        before = [stars for taken, stars in points if taken <= window_start]
        baseline = before[-1] if before else points[0][1]
        gain = points[-1][1] - baseline
        points = _thin(points, MAX_POINTS)
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
