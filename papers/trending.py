"""The trending score: the formula, its constants, and the set-based recompute.

For each window W (today, this week, this month) and each published paper p:

    score(p, W) = velocity + freshness + editorial

    velocity  = max over p's repositories r of
                  sum of the star gains d of r observed in W, each weighted 0.5 ** (age_h(d) / H_W)
                  divided by the window length in hours
                (stars per hour, as Papers with Code ranked, with recent gains weighing more:
                a gain observed H_W hours ago counts half)
    freshness = FRESHNESS_WEIGHT * 0.5 ** (age_h(p) / F_W)
                (a brand-new paper counts as much as FRESHNESS_WEIGHT stars an hour; age from
                its publication date, or from when it was added if it has none)
    editorial = boost + (PIN_SCORE if pinned), while boost_until is empty or in the future

A star gain is the difference between two consecutive snapshots of a repository, counted
at the time of the later one (so the first snapshot in a window is compared with the last
one before it). A paper with several repositories takes its best one, so a paper is never
ranked up for a pile of forks. The "why trending" line shows the raw gain:
"+412 stars in 24 h", "Pinned by the editors", "Boosted by the editors", "New today".

A paper gets a score in a window when it gained stars there, has an editorial boost or pin,
or is younger than the window's horizon (so a quiet day still lists the newest papers). A
paper dated after `now` is not published yet at that time and gets no score.
Everything is one INSERT ... SELECT per recompute: no Python loop over papers.

Each recompute also keeps the day's ranking: the top SNAPSHOT_SIZE rows of every window
are copied into TrendSnapshot under the date of `now` (UTC), replacing that day's earlier
copy. The last recompute of a day is what the daily, weekly and monthly pages show for it,
so past days stay as they were whatever the scores do later.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from papers.cache import bump_trending_version
from papers.models import Window

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WindowRule:
    hours: int  # length of the trailing window
    half_life_hours: float  # H_W: a star gain this old counts half
    freshness_half_life_hours: float  # F_W: a paper this old gets half the freshness
    horizon_hours: int  # papers younger than this are listed even without stars
    label: str  # in "+412 stars in <label>"
    new_label: str  # in "New <new_label>"


WINDOWS: dict[str, WindowRule] = {
    Window.TODAY: WindowRule(24, 12, 24, 7 * 24, "24 h", "today"),
    Window.WEEK: WindowRule(7 * 24, 3 * 24, 3 * 24, 30 * 24, "7 days", "this week"),
    Window.MONTH: WindowRule(30 * 24, 10 * 24, 10 * 24, 90 * 24, "30 days", "this month"),
}
FRESHNESS_WEIGHT = 1.0
PIN_SCORE = 1_000_000.0
SNAPSHOT_SIZE = 100  # rows per window kept for each day's page
WORK_MEM = "256MB"


def _dialect():
    """SQL fragments that differ between PostgreSQL and SQLite (hours between timestamps)."""
    if connection.vendor == "postgresql":
        return {
            "snapshot_age": (
                "CAST(EXTRACT(EPOCH FROM (%(now)s - taken_at)) / 3600.0 AS DOUBLE PRECISION)"
            ),
            "paper_age": (
                "GREATEST(0, CAST(EXTRACT(EPOCH FROM (%(now)s - COALESCE("
                "CAST(p.published_on AS timestamp) AT TIME ZONE 'UTC', p.created_at)))"
                " / 3600.0 AS DOUBLE PRECISION))"
            ),
            "least": "LEAST",
            "today": "CAST(%(now)s AS DATE)",
        }
    return {
        "snapshot_age": "(julianday(%(now)s) - julianday(taken_at)) * 24.0",
        "paper_age": (
            "MAX(0, (julianday(%(now)s) - julianday(COALESCE(p.published_on, p.created_at)))"
            " * 24.0)"
        ),
        "least": "MIN",
        "today": "date(%(now)s)",
    }


def _windows_values() -> str:
    # Our own constants, not input: formatted into the statement so both databases see
    # typed literals in the VALUES list.
    rows = []
    for name, rule in WINDOWS.items():
        rows.append(
            f"('{name}', CAST({rule.hours} AS DOUBLE PRECISION), "
            f"CAST({rule.half_life_hours} AS DOUBLE PRECISION), "
            f"CAST({rule.freshness_half_life_hours} AS DOUBLE PRECISION), "
            f"CAST({rule.horizon_hours} AS DOUBLE PRECISION), '{rule.label}', '{rule.new_label}')"
        )
    return ",\n        ".join(rows)


RECOMPUTE_SQL = """
WITH
windows (wname, hours, half_life, fresh_half_life, horizon, label, new_label) AS (
    VALUES
        {windows}
),
anchors AS (
    -- the last snapshot before the longest window, so its first gain has a baseline
    SELECT repository_id, MAX(taken_at) AS taken_at
    FROM papers_starsnapshot WHERE taken_at <= %(start)s
    GROUP BY repository_id
),
snaps AS (
    SELECT repository_id, taken_at, stars FROM papers_starsnapshot
    WHERE taken_at > %(start)s AND taken_at <= %(now)s
    UNION ALL
    SELECT s.repository_id, s.taken_at, s.stars
    FROM papers_starsnapshot s
    JOIN anchors a ON a.repository_id = s.repository_id AND a.taken_at = s.taken_at
),
deltas AS (
    SELECT repository_id, {snapshot_age} AS age,
           stars - LAG(stars) OVER (PARTITION BY repository_id ORDER BY taken_at) AS delta
    FROM snaps
),
repo_gain AS (
    SELECT d.repository_id, w.wname,
           SUM(d.delta) AS gained,
           SUM(d.delta * POWER(0.5, d.age / w.half_life)) / w.hours AS velocity
    FROM deltas d JOIN windows w ON d.age < w.hours
    WHERE d.delta IS NOT NULL AND d.delta <> 0
    GROUP BY d.repository_id, w.wname, w.hours
),
paper_gain AS (
    SELECT pr.paper_id, g.wname, MAX(g.gained) AS gained, MAX(g.velocity) AS velocity
    FROM repo_gain g JOIN papers_paperrepository pr ON pr.repository_id = g.repository_id
    GROUP BY pr.paper_id, g.wname
),
scored AS (
    SELECT p.id AS paper_id, w.wname, w.hours, w.label, w.new_label,
           COALESCE(g.gained, 0) AS gained,
           COALESCE(g.velocity, 0) AS velocity,
           {paper_age} AS paper_age, w.fresh_half_life,
           CASE WHEN p.published_on IS NULL THEN 0 ELSE 1 END AS dated,
           CASE WHEN p.boost_until IS NULL OR p.boost_until > %(now)s THEN 1 ELSE 0 END AS on_air,
           p.boost, CASE WHEN p.pinned THEN 1 ELSE 0 END AS pinned
    FROM papers_paper p
    CROSS JOIN windows w
    LEFT JOIN paper_gain g ON g.paper_id = p.id AND g.wname = w.wname
    WHERE p.status = 'published'
      AND (p.published_on IS NULL OR p.published_on <= {today})
      AND (g.paper_id IS NOT NULL OR p.pinned OR p.boost <> 0 OR {paper_age} < w.horizon)
),
explained AS (
    SELECT s.*,
           CAST(FLOOR(paper_age / 24) AS INTEGER) AS days,
           '+' || CAST(gained AS TEXT)
               || CASE WHEN gained = 1 THEN ' star in ' ELSE ' stars in ' END || label AS stars_text
    FROM scored s
)
INSERT INTO papers_trend (paper_id, "window", score, stars_gained, reason, computed_at)
SELECT paper_id, wname,
       velocity
       -- capped exponent: 0.5 ** 1000 is already nothing, and PostgreSQL raises on underflow
       + {freshness_weight} * POWER(0.5, {least}(paper_age / fresh_half_life, 1000.0))
       + on_air * (boost + pinned * {pin_score}),
       gained,
       CASE
         WHEN on_air = 1 AND pinned = 1 THEN 'Pinned by the editors'
              || CASE WHEN gained > 0 THEN ' · ' || stars_text ELSE '' END
         WHEN gained > 0 THEN stars_text
              || CASE WHEN on_air = 1 AND boost > 0 THEN ' · boosted by the editors' ELSE '' END
         WHEN on_air = 1 AND boost > 0 THEN 'Boosted by the editors'
         WHEN paper_age < hours THEN
              CASE WHEN dated = 1 THEN 'New ' ELSE 'Added ' END || new_label
         ELSE CASE WHEN dated = 1 THEN 'Published ' ELSE 'Added ' END
              || CAST(days AS TEXT) || CASE WHEN days = 1 THEN ' day ago' ELSE ' days ago' END
       END,
       %(now)s
FROM explained
"""


# The day's top rows of each window, in the order Paper.objects.trending() lists them. Only
# rows scoring at least the window's SNAPSHOT_SIZE-th best score are ranked (found through
# the (window, -score) index), ties at the cut included, so the ranking is exact without
# sorting every scored paper.
SNAPSHOT_SQL = """
WITH
candidates AS (
{candidates}
),
ranked AS (
    SELECT t."window" AS wname, t.paper_id, t.score, t.stars_gained, t.reason,
           ROW_NUMBER() OVER (
               PARTITION BY t."window"
               ORDER BY t.score DESC, p.published_on DESC, t.paper_id DESC
           ) AS rank
    FROM candidates t JOIN papers_paper p ON p.id = t.paper_id
)
INSERT INTO papers_trendsnapshot (day, "window", rank, paper_id, score, stars_gained, reason)
SELECT %(day)s, wname, rank, paper_id, score, stars_gained, reason
FROM ranked
WHERE rank <= {size}
"""
# One per window: its rows down to the SNAPSHOT_SIZE-th best score (an uncorrelated
# subquery, evaluated once), read through the (window, -score) index.
SNAPSHOT_CANDIDATES = """
    SELECT "window", paper_id, score, stars_gained, reason FROM papers_trend
    WHERE "window" = '{name}' AND score >= COALESCE((
        SELECT score FROM papers_trend WHERE "window" = '{name}'
        ORDER BY score DESC LIMIT 1 OFFSET {offset}), -1e300)"""


def snapshot_sql() -> str:
    # Window names are our own constants, not input.
    candidates = "\n    UNION ALL\n".join(
        SNAPSHOT_CANDIDATES.format(name=name, offset=int(SNAPSHOT_SIZE) - 1) for name in WINDOWS
    )
    return SNAPSHOT_SQL.format(candidates=candidates, size=int(SNAPSHOT_SIZE))


def recompute_sql() -> str:
    return RECOMPUTE_SQL.format(
        windows=_windows_values(),
        freshness_weight=repr(FRESHNESS_WEIGHT),
        pin_score=repr(PIN_SCORE),
        **_dialect(),
    )


def trending_recompute(*, now: datetime | None = None) -> dict[str, int]:
    """Replace every stored Trend by a fresh computation, and the snapshot of `now`'s day
    by its top rows; returns rows per window.

    Readers see the old scores until the new ones are committed (one transaction), then
    every page cached from the old scores is invalidated.
    """
    now = now or timezone.now()
    day = now.astimezone(UTC).date()
    start = now - timedelta(hours=max(rule.hours for rule in WINDOWS.values()))
    ops = connection.ops
    params = {
        "now": ops.adapt_datetimefield_value(now),
        "start": ops.adapt_datetimefield_value(start),
    }
    day_param = {"day": ops.adapt_datefield_value(day)}
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The window function and the groupings sort millions of snapshot rows: give
            # this one transaction the memory to do it without spilling to disk.
            cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
            # One big statement planned once: compiling it costs more than it saves.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute("DELETE FROM papers_trend")
        cursor.execute(recompute_sql(), params)
        cursor.execute('SELECT "window", COUNT(*) FROM papers_trend GROUP BY "window"')
        scored = dict(cursor.fetchall())
        cursor.execute("DELETE FROM papers_trendsnapshot WHERE day = %(day)s", day_param)
        cursor.execute(snapshot_sql(), day_param)
    counts = {name: scored.get(name, 0) for name in WINDOWS}
    bump_trending_version()
    logger.info("trending recomputed: %s", counts)
    return counts
