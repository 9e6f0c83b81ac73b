"""Dashboard benchmark: the admin index at 1,000,000 subscribers, 1,000,000 papers and 365
editions of history, against a plain admin page measured in the same run.

    .venv/bin/python bench/dashboard.py [--subscribers N] [--papers N] [--runs N] [--keep]

Seeds its own PostgreSQL database (BENCH_DATABASE_URL, default paperboy_bench_dashboard)
with SQL generate_series, including a million deliveries of the latest edition (which the
dashboard must never count) and a year of per-paper days (the clicks of each edition's
100 candidate papers), then times GET /admin/ and GET /admin/papers/topic/ for a
signed-in superuser, interleaved, through Django's test client (no network in between).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/paperboy_bench_dashboard"
)

SEED_SQL = [
    # Triggers off while loading (the search-vector trigger would triple the paper load).
    "SET session_replication_role = replica",
    """INSERT INTO subscriptions_subscriber (email, status, frequency, weekday, keywords_include,
        keywords_exclude, only_with_code, papers_per_email, delivery_hour, timezone,
        email_format, confirm_nonce, created_at, updated_at)
       SELECT 'reader' || i || '@example.org',
              (ARRAY['confirmed','confirmed','confirmed','confirmed','confirmed','confirmed',
                     'pending','unsubscribed','bounced','complained'])[1 + i %% 10],
              'daily', 0, '[]', '[]', false, 10, 7, 'UTC', 'html', '',
              now() - (i %% 365) * interval '1 day', now()
       FROM generate_series(1, %(subscribers)s) AS i""",
    """INSERT INTO papers_paper (slug, title, title_key, abstract, authors, categories,
        abstract_url, pdf_url, status, sources, boost, pinned, stars, has_code, doi,
        created_at, updated_at, published_on)
       SELECT 'paper-' || i, 'Paper number ' || i, 'paper number ' || i, 'Abstract.', '[]',
              '[]', '', '', CASE WHEN i %% 100 = 0 THEN 'draft' ELSE 'published' END, '[]',
              0, false, 0, false, '', now() - (i %% 365) * interval '1 day', now(),
              current_date - (i %% 365)
       FROM generate_series(1, %(papers)s) AS i""",
    """INSERT INTO digests_edition (date, kind, status, subject, error, created_at, sent_at,
        sent_count, skipped_count, failed_count, delivered_count, bounced_count,
        complained_count, opened_count, clicked_count, skipped_no_match, skipped_all_seen,
        skipped_inactive, more_count, less_count, unsubscribed_count)
       SELECT current_date - d, 'daily', 'sent', 'Digest', '', now(), now(),
              600000, 20000, 10, 590000, 1200, 60, 250000, 60000, 15000, 4000, 1000, 0, 0, 90
       FROM generate_series(0, 364) AS d""",
    """INSERT INTO digests_delivery (edition_id, subscriber_id, status, skip_reason, paper_ids,
        esp_message_id, error, attempts, created_at, open_count, click_count)
       SELECT (SELECT id FROM digests_edition WHERE date = current_date AND kind = 'daily'),
              s.id, CASE WHEN s.id %% 1000 = 0 THEN 'pending' ELSE 'sent' END, '', '[1,2,3]',
              '', '', 1, now(), 0, 0
       FROM subscriptions_subscriber s""",
    """INSERT INTO subscriptions_subscriberday (day, signups, confirmations, unsubscribes,
        bounces, complaints, pending, confirmed, paused, unsubscribed, bounced, complained,
        counted_at)
       SELECT current_date - d, 900, 600, 80, 12, 1, 100000, 600000 - d * 300, 0, 100000,
              100000, 100000, now()
       FROM generate_series(0, 364) AS d""",
    """INSERT INTO subscriptions_signupsourceday (day, source, signups)
       SELECT current_date - d, src, 100 + d %% 50
       FROM generate_series(0, 364) AS d, unnest(ARRAY['/', '/subscribe/', '/papers/x/',
            '/topics/cv/', 'import: list.csv']) AS src""",
    """INSERT INTO papers_paperday (paper_id, day, clicks, more, less)
       SELECT d * 100 + p, current_date - d, 1 + (p * 7) %% 400, p %% 5, p %% 3
       FROM generate_series(1, 100) AS p, generate_series(0, 364) AS d""",
    """INSERT INTO papers_fetchday (day, source, runs, created, updated, skipped)
       SELECT current_date - d, src, 4, 150, 40, 2
       FROM generate_series(0, 364) AS d, unnest(ARRAY['arxiv', 'hf']) AS src""",
    "SET session_replication_role = DEFAULT",
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="reuse the data of a last run")
    return parser.parse_args()


def _database(*, fresh: bool) -> None:
    import psycopg

    name = DATABASE.rsplit("/", 1)[1]
    admin = DATABASE.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def seed(args) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in SEED_SQL:
            started = time.perf_counter()
            cursor.execute(sql, {"subscribers": args.subscribers, "papers": args.papers})
            label = " ".join(sql.split()[:3])
            print(f"  {label[:60]}: {time.perf_counter() - started:.1f} s", flush=True)
        # As autovacuum would have by the time anyone looks: statistics and visibility map.
        cursor.execute("VACUUM ANALYZE")


def timed(client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (path, response.status_code)
    return elapsed * 1000


def main() -> None:
    args = parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = DATABASE
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    _database(fresh=not args.keep)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    from subscriptions.models import Subscriber

    if not Subscriber.objects.exists():
        print(f"Seeding {args.subscribers:,} subscribers and {args.papers:,} papers ...")
        seed(args)
    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    pages = {
        "dashboard (/admin/)": "/admin/",
        "dashboard, 365 days (/admin/?days=365)": "/admin/?days=365",
        "plain admin page (/admin/papers/topic/)": "/admin/papers/topic/",
    }
    for path in pages.values():  # warm caches, templates and connections
        timed(client, path)
    samples = {name: [] for name in pages}
    for _ in range(args.runs):
        for name, path in pages.items():
            samples[name].append(timed(client, path))
    from django.db import connection

    counting = {
        "count subscribers by status": (
            "SELECT status, count(*) FROM subscriptions_subscriber GROUP BY status"
        ),
        "count the latest edition's deliveries by status": (
            "SELECT status, count(*) FROM digests_delivery WHERE edition_id = "
            "(SELECT max(id) FROM digests_edition) GROUP BY status"
        ),
    }
    print(f"\n{args.runs} requests each, interleaved, in one process:")
    for name, values in samples.items():
        values.sort()
        p95 = values[max(0, int(len(values) * 0.95) - 1)]
        print(f"  {name:42} median {statistics.median(values):6.1f} ms   p95 {p95:6.1f} ms")
    print("What counting per request would cost instead (median of 5, SQL only):")
    with connection.cursor() as cursor:
        for name, sql in counting.items():
            times = []
            for _ in range(5):
                started = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                times.append((time.perf_counter() - started) * 1000)
            print(f"  {name:48} {statistics.median(times):6.1f} ms")


if __name__ == "__main__":
    main()
