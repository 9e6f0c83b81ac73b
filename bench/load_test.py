#!/usr/bin/env python
"""Requests per second of the public pages under gunicorn, beside a trivial view.

    .venv/bin/python bench/load_test.py                 # 10 s per URL
    .venv/bin/python bench/load_test.py --seconds 20 --clients 8 --workers 4

Starts gunicorn on loopback (settings bench.site_settings: the real settings plus a
trivial view, /bench/trivial, behind the same middleware, and one that also makes one
cache read, the floor for any cached page) against its own PostgreSQL database and Redis
DB (created and filled with sample papers if empty), then hits each URL with --clients
processes for --seconds and prints requests per second, p50/p95 latency and the ratio to
the trivial view measured in the same run. Pages are measured with their cache warm
(the steady state between two trending recomputes) and cold (cache cleared before every
request, i.e. the cost of a miss).

--code DIR measures another checkout (an older commit in a git worktree) with this script:
gunicorn runs from DIR and imports DIR's code; cases for pages DIR does not have (daily and
author pages before issue 12) are skipped. Give each code base its own --database-url, as
their migrations differ.
"""

import argparse
import http.client
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _code_root() -> Path:
    """The code base to measure: --code DIR, else this checkout. Read before anything is
    imported from it, so the seed and the server run the same code."""
    if "--code" in sys.argv:
        return Path(sys.argv[sys.argv.index("--code") + 1]).resolve()
    return ROOT


CODE = _code_root()
sys.path.insert(0, str(CODE))
# Celery's Django fix-up puts the working directory first on sys.path at django.setup().
os.chdir(CODE)

from bench.search_pg import ensure_database, vocabulary  # noqa: E402


def seed(papers: int) -> dict:
    """Sample data like a live site's: trending rows in every window, topics, code."""
    import datetime

    from django.core.management import call_command
    from django.db import connection
    from django.urls import reverse
    from django.utils import timezone

    from papers import models
    from papers.models import Paper, PaperRepository, Repository, Topic, Trend, Window

    call_command("migrate", verbosity=0)
    if not Paper.objects.exists():
        rng = random.Random(1)
        words = vocabulary()[:2000]
        topics = Topic.objects.bulk_create(
            Topic(slug=f"topic-{i}", name=f"{words[i].title()} Studies") for i in range(12)
        )
        created = Paper.objects.bulk_create(
            Paper(
                slug=f"paper-{i}",
                title=" ".join(rng.choice(words) for _ in range(8)).capitalize() + f" {i}",
                title_key=f"paper {i}",
                abstract=" ".join(rng.choice(words) for _ in range(150)),
                authors=[f"Author {rng.randint(1, 500)}" for _ in range(4)],
                published_on=datetime.date(2026, 11, 1) - datetime.timedelta(days=i % 60),
                arxiv_id=f"2411.{i:05d}",
                has_code=True,
                stars=rng.randint(0, 5000),
            )
            for i in range(papers)
        )
        repos = Repository.objects.bulk_create(
            Repository(
                url=f"https://github.com/o{i}/r{i}",
                owner=f"o{i}",
                name=f"r{i}",
                stars=p.stars,
                framework="PyTorch",
            )
            for i, p in enumerate(created)
        )
        PaperRepository.objects.bulk_create(
            PaperRepository(paper=p, repository=r, is_official=True)
            for p, r in zip(created, repos, strict=True)
        )
        through = Paper.topics.through
        through.objects.bulk_create(
            through(paper_id=p.pk, topic_id=topics[i % len(topics)].pk)
            for i, p in enumerate(created)
        )
        now = timezone.now()
        Trend.objects.bulk_create(
            Trend(
                paper=p,
                window=w,
                score=rng.random() * 100,
                stars_gained=rng.randint(1, 400),
                reason=f"+{rng.randint(1, 400)} stars in 24 h",
                computed_at=now,
            )
            for p in created
            for w in Window.values
        )
    if hasattr(models, "TrendSnapshot"):  # daily and author pages (issue 12)
        _seed_site_pages()
    with connection.cursor() as cursor:
        # Fresh statistics, as autovacuum would have them on a live site: the search plan
        # depends on them (see papers/search.py).
        cursor.execute("ANALYZE")
    paper = Paper.objects.order_by("pk").first()
    sample = {
        "paper": paper.get_absolute_url(),
        "word": paper.title.split()[0],
        "topic": Topic.objects.order_by("pk").first().get_absolute_url(),
    }
    if hasattr(models, "TrendSnapshot"):
        day = models.TrendSnapshot.objects.order_by("-day").values_list("day", flat=True)[0]
        sample["day"] = f"/papers/date/{day.isoformat()}/"
        slug = models.author_slug(paper.authors[0])
        sample["author"] = reverse("papers:author", kwargs={"slug": slug})
    return sample


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            fetch(port, "/bench/trivial")
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start; run it by hand to see why")


def fetch(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _client(port, paths, seconds, clear_cache_url, queue):
    """One client process: requests back to back, round robin over `paths`."""
    import redis

    flusher = redis.Redis.from_url(clear_cache_url) if clear_cache_url else None
    latencies, errors, i = [], 0, 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if flusher:
            flusher.flushdb()
        path = paths[i % len(paths)]
        i += 1
        started = time.perf_counter()
        status = fetch(port, path)
        latencies.append(time.perf_counter() - started)
        errors += status != 200
    queue.put((latencies, errors))


def measure(port, paths, *, seconds, clients, clear_cache_url=None) -> dict:
    queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_client, args=(port, paths, seconds, clear_cache_url, queue))
        for _ in range(clients)
    ]
    for proc in procs:
        proc.start()
    latencies, errors = [], 0
    for _ in procs:
        got, bad = queue.get()
        latencies += got
        errors += bad
    for proc in procs:
        proc.join()
    latencies.sort()
    return {
        "rps": len(latencies) / seconds,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "errors": errors,
        "count": len(latencies),
    }


def _seed_site_pages() -> None:
    """Today's trending snapshot (the daily page) from the seeded scores, and author keys
    (author pages), as the hourly recompute and Paper.save() keep them on a live site."""
    from django.db import connection
    from django.utils import timezone

    from papers.models import Paper, TrendSnapshot, author_keys
    from papers.trending import snapshot_sql

    if not TrendSnapshot.objects.exists():
        with connection.cursor() as cursor:
            cursor.execute(snapshot_sql(), {"day": timezone.now().date()})
    stale = list(Paper.objects.filter(author_keys="").only("pk", "authors")[:10_000])
    for paper in stale:
        paper.author_keys = author_keys(paper.authors)
    Paper.objects.bulk_update(stale, ["author_keys"], batch_size=1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers")
    parser.add_argument("--papers", type=int, default=300)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/paperboy_bench_load"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--code", default=str(ROOT), help="checkout to measure (see above)")
    parser.add_argument("--only", default="", help="case names to run, separated by semicolons")
    args = parser.parse_args()

    ensure_database(args.database_url)
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "DJANGO_SETTINGS_MODULE": "bench.site_settings",
        "DJANGO_DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    import django

    django.setup()
    print(f"seeding {args.database_url} ({args.papers} papers if empty)...", flush=True)
    sample = seed(args.papers)
    # Another code base's pages may be in this Redis DB under the same keys.
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()

    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        cwd=CODE,
        env=env,
        start_new_session=True,
    )
    try:
        wait_until_up(port)
        searches = [f"/search/?q={w}" for w in (sample["word"], "model", "graph+network", "zzqx")]
        cold = {"clear_cache_url": args.redis_url}
        cases = [
            ("trivial view (baseline)", ["/bench/trivial"], {}),
            ("trivial + 1 cache read", ["/bench/trivial-cache-read"], {}),
            ("home, cache warm", ["/"], {}),
            ("home, cache cold", ["/"], cold),
            ("home week, cache cold", ["/?window=week"], cold),
            ("paper page, cache warm", [sample["paper"]], {}),
            ("paper page, cache cold", [sample["paper"]], cold),
            ("search (4 queries)", searches, {}),
            ("feed (RSS)", ["/feed/"], {}),
            ("feed (RSS), cache cold", ["/feed/"], cold),
            ("topic page, cache warm", [sample["topic"]], {}),
            ("topic page, cache cold", [sample["topic"]], cold),
            ("latest, cache cold", ["/latest/"], cold),
        ]
        if "day" in sample:
            cases += [
                ("daily page, cache warm", [sample["day"]], {}),
                ("daily page, cache cold", [sample["day"]], cold),
                ("author page, cache warm", [sample["author"]], {}),
                ("author page, cache cold", [sample["author"]], cold),
            ]
        if args.only:
            wanted = {"trivial view (baseline)", *args.only.split(";")}
            cases = [case for case in cases if case[0] in wanted]
        for _, paths, _ in cases:  # warm caches and connections
            for path in paths:
                assert fetch(port, path) == 200, path
        print(
            f"\ngunicorn {args.workers} sync workers, {args.clients} clients, "
            f"{args.seconds:g} s per case, {os.cpu_count()} CPUs shared by server and clients"
        )
        print(f"code: {CODE}, load average before: {os.getloadavg()[0]:.2f}")
        print(f"{'case':<26} {'req/s':>8} {'ratio':>6} {'p50 ms':>7} {'p95 ms':>7} {'errors':>6}")
        baseline = None
        for name, paths, extra in cases:
            result = measure(port, paths, seconds=args.seconds, clients=args.clients, **extra)
            baseline = baseline or result["rps"]
            print(
                f"{name:<26} {result['rps']:8.0f} {result['rps'] / baseline:6.2f}"
                f" {result['p50']:7.1f} {result['p95']:7.1f} {result['errors']:6d}",
                flush=True,
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
