"""The bundled sample, made to show what trending means on a first run.

The sample's titles, abstracts, topics and repositories are real (papers/fixtures). What
a fresh database cannot have, a history, is simulated here, deterministically (every
choice hashes the paper's title, so two loads on the same day are identical):

- a publication date within the last HISTORY_DAYS days for every paper;
- a daily star count over HISTORY_DAYS days for every repository, each following one of
  four shapes: a burst today, a hot week, a hot month some weeks ago, or steady growth.
  So Today, This week and This month rank differently;
- an editor's pin and two boosts, applied today only;
- the daily trending snapshots of the last PAST_DAYS days, so daily, weekly and monthly
  pages have a past to page through.

The footer says the data is simulated whenever sample papers are present (sources
"sample").
"""

import hashlib
from collections.abc import Callable
from datetime import datetime, time, timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from papers.models import Paper, Repository, StarSnapshot, normalise_title
from papers.services import papers_refresh_code_stats
from papers.trending import trending_recompute

SAMPLE_NOTE_KEY = "papers:sample-data-present"
# A title from the bundled sample: finding it, marked as sample, takes one index look-up.
SAMPLE_PROBE_TITLE = (
    "Noise2Recon: Enabling Joint MRI Reconstruction and Denoising with Semi-Supervised "
    "and Self-Supervised Learning"
)
HISTORY_DAYS = 60
PAST_DAYS = 35
SAMPLE_SOURCE = "sample"
# Daily star gains of each shape, by days ago (0 = the last 24 hours).
SHAPES: dict[str, Callable[[int, int], int]] = {
    "burst-today": lambda ago, h: (180 + h % 420) if ago == 0 else 2 + h % 6,
    "hot-week": lambda ago, h: (120 + h % 200) if 1 <= ago <= 6 else 1 + h % 4,
    "hot-month": lambda ago, h: (90 + h % 250) if 9 <= ago <= 24 else h % 3,
    "steady": lambda ago, h: 8 + h % 25,
}


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def sample_history_simulate(
    *,
    paper_ids: list[int],
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Give the sample papers `paper_ids` their simulated dates, star histories, editor's
    picks and past trending snapshots, then compute today's trending. Returns counts."""
    now = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    papers = list(Paper.objects.filter(pk__in=paper_ids).order_by("title_key"))
    with transaction.atomic():
        for paper in papers:
            paper.published_on = (
                now - timedelta(days=_hash(paper.title_key) % HISTORY_DAYS)
            ).date()
            paper.sources = [SAMPLE_SOURCE]
        Paper.objects.bulk_update(papers, ["published_on", "sources"])
        snapshots = _simulate_stars(paper_ids=paper_ids, now=now)

    # The past first, without today's editor's picks, each day as its last recompute left it.
    for ago in range(PAST_DAYS, 0, -1):
        day = (now - timedelta(days=ago)).date()
        trending_recompute(now=datetime.combine(day, time(23, 0), tzinfo=now.tzinfo))
        if progress:
            progress(f"trending of {day} recorded")
    picks = _pick_editors_choices(papers)
    trending_recompute(now=now)
    return {"papers": len(papers), "snapshots": snapshots, "days": PAST_DAYS + 1, "picks": picks}


def _simulate_stars(*, paper_ids: list[int], now: datetime) -> int:
    repositories = list(
        Repository.objects.filter(paper_links__paper_id__in=paper_ids).distinct().order_by("url")
    )
    shapes = list(SHAPES)
    rows = []
    for index, repository in enumerate(repositories):
        h = _hash(repository.url)
        shape = SHAPES[shapes[index % len(shapes)]]
        stars = 20 + h % 2500
        history = []
        for ago in range(HISTORY_DAYS - 1, -1, -1):
            stars += shape(ago, h >> (ago % 16))
            history.append((now - timedelta(days=ago), stars))
        rows += [StarSnapshot(repository=repository, taken_at=at, stars=n) for at, n in history]
        repository.stars, repository.stars_checked_at = stars, now
    StarSnapshot.objects.filter(repository__in=repositories).delete()
    StarSnapshot.objects.bulk_create(rows, batch_size=1000)
    Repository.objects.bulk_update(repositories, ["stars", "stars_checked_at"])
    papers_refresh_code_stats(repository_ids=[r.pk for r in repositories])
    return len(rows)


def _pick_editors_choices(papers: list[Paper]) -> int:
    """Today's picks among papers without code: one pinned, two boosted."""
    candidates = sorted(
        (p for p in papers if not p.has_code), key=lambda p: _hash("pick" + p.title_key)
    )
    if not candidates:
        return 0
    Paper.objects.filter(pk=candidates[0].pk).update(pinned=True)
    boosted = [p.pk for p in candidates[1:3]]
    Paper.objects.filter(pk__in=boosted).update(boost=0.8)
    return 1 + len(boosted)


def sample_note_refresh() -> bool:
    """Record in the cache whether the sample's simulated data is in the database, for the
    footer note (read without a query on every page). Called after loading the sample and
    by every trending recompute task, so a flushed cache is right again within the hour."""
    present = Paper.objects.filter(
        title_key=normalise_title(SAMPLE_PROBE_TITLE), sources__icontains=SAMPLE_SOURCE
    ).exists()
    cache.set(SAMPLE_NOTE_KEY, present, timeout=None)
    return present
