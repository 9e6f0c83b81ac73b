#!/usr/bin/env python
"""Time a full trending recompute on PostgreSQL at 1,000,000 papers and 5,000,000 snapshots.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/paperboy_bench \
        .venv/bin/python bench/trending_recompute.py [--papers N] [--snapshots N] [--refill]

The database is created, migrated and filled on the first run (a few minutes; reused
afterwards unless --refill or the sizes change). Beside the recompute it times a baseline
in the same run: one plain aggregate pass over every snapshot (the least any method that
reads the star history must do), so the figure can be judged on any machine.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _database import create_database

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

HISTORY_DAYS = 60  # snapshots spread over the last 60 days, hourly-ish per repository
CODE_SHARE = 0.4  # share of papers with a repository (Papers with Code: about a third)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--snapshots", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--refill", action="store_true")
    parser.add_argument(
        "--fillfactor",
        type=int,
        help="rewrite papers_paper at this fillfactor first (100: the table as before "
        "migration 0010, to compare with the default 75)",
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (it is created if missing).")
    create_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    papers, snapshots = _sizes(connection)
    if args.refill or papers != args.papers or snapshots < args.snapshots:
        _fill(connection, args.papers, args.snapshots)
        papers, snapshots = _sizes(connection)
    with connection.cursor() as cursor:
        if args.fillfactor:
            cursor.execute(f"ALTER TABLE papers_paper SET (fillfactor = {args.fillfactor})")
            cursor.execute("VACUUM FULL papers_paper")
        cursor.execute(
            "SELECT reloptions, pg_size_pretty(pg_relation_size('papers_paper')) FROM pg_class "
            "WHERE relname = 'papers_paper'"
        )
        options, size = cursor.fetchone()
        print(f"papers_paper options, size: {options}, {size}", flush=True)
        cursor.execute("VACUUM ANALYZE papers_starsnapshot")
        cursor.execute("VACUUM ANALYZE papers_paper")
        cursor.execute("VACUUM ANALYZE papers_paperrepository")

    from papers.trending import trending_recompute

    baseline, recompute = [], []
    for run in range(1, args.runs + 1):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), sum(s) FROM (SELECT repository_id, max(stars) - min(stars) AS s"
                " FROM papers_starsnapshot GROUP BY repository_id) t"
            )
            cursor.fetchone()
        baseline.append(time.perf_counter() - started)
        started = time.perf_counter()
        counts = trending_recompute()
        recompute.append(time.perf_counter() - started)
        print(
            f"run {run}: baseline {baseline[-1]:.1f} s, recompute {recompute[-1]:.1f} s, "
            f"scored { ({str(k): v for k, v in counts.items()}) }",
            flush=True,
        )

    base, full = statistics.median(baseline), statistics.median(recompute)
    print()
    print(f"papers {papers:,}, star snapshots {snapshots:,}, CPUs {os.cpu_count()}")
    print(f"baseline (one GROUP BY pass over all snapshots): median {base:.1f} s")
    print(f"full trending recompute (3 windows, all papers):  median {full:.1f} s")
    print(f"ratio recompute / baseline: {full / base:.1f}x")
    print(f"target: under 60 s -> {'met' if full < 60 else 'NOT met'}")


def _sizes(connection):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM papers_paper), (SELECT count(*) FROM papers_starsnapshot)"
        )
        return cursor.fetchone()


def _step(label, cursor, sql, params=None):
    started = time.perf_counter()
    print(f"  {label} ...", end="", flush=True)
    cursor.execute(sql, params)
    print(f" {time.perf_counter() - started:.1f} s", flush=True)


def _fill(connection, papers, snapshots):
    repos = max(1, int(papers * CODE_SHARE * 0.8))  # some repositories serve several papers
    per_repo = max(1, -(-snapshots // repos))  # at least `snapshots` in all
    print(f"filling: {papers:,} papers, {repos:,} repositories, {repos * per_repo:,} snapshots")
    with connection.cursor() as cursor:
        _step(
            "emptying",
            cursor,
            "TRUNCATE papers_trend, papers_starsnapshot, papers_paperrepository,"
            " papers_repository, papers_paper_topics, papers_paper RESTART IDENTITY CASCADE",
        )
        # The search trigger is the Site's concern; without it the load takes a minute, not ten.
        cursor.execute(
            "ALTER TABLE papers_paper DISABLE TRIGGER papers_paper_search_vector_trigger"
        )
        try:
            _step(
                "papers",
                cursor,
                """
                INSERT INTO papers_paper (arxiv_id, doi, slug, title, title_key, abstract, authors,
                    published_on, updated_on, categories, abstract_url, pdf_url, status, sources,
                    boost, pinned, boost_until, stars, has_code, created_at, updated_at)
                SELECT 'b' || g, '', 'paper-' || g, 'Benchmark paper ' || g,
                       'benchmark paper ' || g, 'An abstract.', '["A. Author"]'::jsonb,
                       (now() - (random() * 1500) * interval '1 day')::date, NULL,
                       '["cs.LG"]'::jsonb, '', '',
                       CASE WHEN g %% 50 = 0 THEN 'hidden' ELSE 'published' END, '["bench"]'::jsonb,
                       CASE WHEN g %% 10000 = 0 THEN 5 ELSE 0 END, g %% 100000 = 0, NULL, 0, false,
                       now(), now()
                FROM generate_series(1, %s) g
                """,
                [papers],
            )
        finally:
            cursor.execute(
                "ALTER TABLE papers_paper ENABLE TRIGGER papers_paper_search_vector_trigger"
            )
        _step(
            "repositories",
            cursor,
            """
            INSERT INTO papers_repository
                (url, owner, name, framework, stars, stars_checked_at, etag)
            SELECT 'https://github.com/owner' || g || '/repo' || g, 'owner' || g, 'repo' || g,
                   'pytorch', 0, now(), ''
            FROM generate_series(1, %s) g
            """,
            [repos],
        )
        _step(
            "code links",
            cursor,
            """
            INSERT INTO papers_paperrepository (paper_id, repository_id, is_official)
            SELECT p, 1 + (p::bigint * 7919) %% %s, true
            FROM generate_series(1, %s) p WHERE p %% 5 < 2
            """,
            [repos, papers],
        )
        # Star histories: per repository, snapshots evenly spread over the history (offset
        # per repository, so the latest ones fall anywhere in the last interval) with a
        # growth rate per repository from 0.1 to 940 stars per snapshot: a long tail.
        _step(
            "star snapshots",
            cursor,
            """
            INSERT INTO papers_starsnapshot (repository_id, taken_at, stars)
            SELECT r, now() - (%s - k - (r %% 89) / 89.0) * (%s * interval '1 day') / %s,
                   (k * power(1 + (r %% 97), 2) / 10)::int
            FROM generate_series(1, %s) r, generate_series(0, %s - 1) k
            """,
            [per_repo, HISTORY_DAYS, per_repo, repos, per_repo],
        )
        _step(
            "current counts",
            cursor,
            """
            UPDATE papers_repository r SET stars = s.stars FROM (
                SELECT DISTINCT ON (repository_id) repository_id, stars FROM papers_starsnapshot
                ORDER BY repository_id, taken_at DESC) s
            WHERE s.repository_id = r.id
            """,
        )
    from papers.services import papers_refresh_code_stats

    with connection.cursor() as cursor:  # fresh statistics, or the planner nests seq scans
        cursor.execute("ANALYZE papers_paper")
        cursor.execute("ANALYZE papers_paperrepository")
        cursor.execute("ANALYZE papers_repository")
    started = time.perf_counter()
    print("  papers' stars and has_code ...", end="", flush=True)
    papers_refresh_code_stats()
    print(f" {time.perf_counter() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
