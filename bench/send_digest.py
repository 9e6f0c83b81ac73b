"""Send benchmark: one edition to N confirmed subscribers through Anymail's Postmark
backend, against a fake Postmark API on loopback (bench/fake_esp.py).

Prints messages per second, database queries per 1,000 messages and memory (peak, and
the resident size as the send progresses), beside a bare loop that only renders the
digest template once per recipient, measured in the same run.

    .venv/bin/python bench/send_digest.py                       # 100,000 subscribers
    .venv/bin/python bench/send_digest.py --subscribers 20000 --mode single --workers 2

It uses its own PostgreSQL database (BENCH_DATABASE_URL, default paperboy_bench_digests),
which it creates, migrates and empties: never point it at a database you care about.
"""

import argparse
import contextlib
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PORT = int(os.environ.get("BENCH_ESP_PORT", "8925"))  # another port beside a running benchmark
DATABASE = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/paperboy_bench_digests"
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument(
        "--mode",
        choices=["bulk", "single", "batch"],
        default="bulk",
        help="bulk: Postmark Bulk API (the default); single: one API call each; "
        "batch: the Bulk API refused, so /email/batch with bodies merged here",
    )
    parser.add_argument("--workers", type=int, default=1, help="sending processes")
    parser.add_argument(
        "--baseline",
        type=int,
        default=2000,
        help="recipients rendered by the render-per-recipient baseline",
    )
    parser.add_argument("--keep", action="store_true", help="reuse the subscribers of a last run")
    parser.add_argument(
        "--personal",
        action="store_true",
        help="every reader has their own relevance model (random weights), so their own "
        "order and reasons: no two readers share a digest",
    )
    parser.add_argument(
        "--esp-delay", type=float, default=0.0, help="seconds the fake ESP takes per call"
    )
    return parser.parse_args()


def configure(args) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = DATABASE
    os.environ["EMAIL_BACKEND"] = "anymail.backends.postmark.EmailBackend"
    os.environ["ANYMAIL_POSTMARK_SERVER_TOKEN"] = "bench-token"
    os.environ["ANYMAIL_POSTMARK_API_URL"] = f"http://127.0.0.1:{PORT}/"
    os.environ.pop("ANYMAIL_POSTMARK_USE_BULK_API", None)
    # Batching is the default with Postmark: only one-by-one has to be asked for.
    os.environ["DIGEST_BATCH_SEND"] = "0" if args.mode == "single" else "1"
    if args.mode == "bulk":
        os.environ["ANYMAIL_POSTMARK_USE_BULK_API"] = "1"  # what main needed; harmless here
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    _create_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.core.cache import cache

    cache.delete("digests:postmark-bulk-refused")  # each run starts as a fresh account


def _create_database() -> None:
    import psycopg

    name = DATABASE.rsplit("/", 1)[1]
    admin = DATABASE.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


# --- Data ------------------------------------------------------------------------------------

WORDS = [
    "diffusion",
    "transformer",
    "robot",
    "protein",
    "graph",
    "speech",
    "vision",
    "agent",
    "retrieval",
    "quantization",
    "3d",
    "medical",
    "reinforcement",
    "survey",
]
ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Lima",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
]


def make_data(count: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from papers.models import Paper, PaperRepository, Repository, Topic, Trend
    from subscriptions.models import Subscriber

    rng = random.Random(42)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE digests_delivery, digests_editionpaper, digests_edition, "
            "subscriptions_subscriber, papers_paper, papers_topic, papers_repository CASCADE"
        )
    topics = Topic.objects.bulk_create(
        Topic(slug=f"topic-{i}", name=f"Topic {i}") for i in range(12)
    )
    papers = []
    for i in range(200):
        words = rng.sample(WORDS, 3)
        papers.append(
            Paper(
                arxiv_id=f"2411.{i:05d}",
                slug=f"paper-{i}",
                title=f"{words[0].title()} {words[1]} and {words[2]}: study number {i}",
                title_key=f"paper {i}",
                abstract=" ".join(rng.choice(WORDS) for _ in range(150)),
                authors=[f"Author {j}" for j in range(rng.randint(1, 9))],
                published_on=timezone.localdate(),
                has_code=i % 3 != 0,
                stars=rng.randint(0, 5000),
            )
        )
    papers = Paper.objects.bulk_create(papers)
    repos = Repository.objects.bulk_create(
        Repository(url=f"https://github.com/o{i}/r{i}", owner=f"o{i}", name=f"r{i}", stars=p.stars)
        for i, p in enumerate(papers)
        if p.has_code
    )
    PaperRepository.objects.bulk_create(
        PaperRepository(paper=p, repository=r, is_official=True)
        for p, r in zip([p for p in papers if p.has_code], repos, strict=True)
    )
    Paper.topics.through.objects.bulk_create(
        Paper.topics.through(paper_id=p.pk, topic_id=rng.choice(topics).pk) for p in papers
    )
    now = timezone.now()
    Trend.objects.bulk_create(
        Trend(
            paper=p,
            window=w,
            score=rng.random() * 1000,
            stars_gained=rng.randint(0, 500),
            reason=f"+{rng.randint(1, 500)} stars in 24 h",
            computed_at=now,
        )
        for p in papers
        for w in ("today", "week", "month")
    )
    made = 0
    while made < count:
        batch = []
        for i in range(made, min(count, made + 5000)):
            batch.append(
                Subscriber(
                    email=f"reader{i}@example.org",
                    status="confirmed",
                    confirmed_at=now,
                    papers_per_email=rng.choice([5, 10, 10, 10, 15, 20, 30]),
                    keywords_include=rng.sample(WORDS, 1) if rng.random() < 0.1 else [],
                    keywords_exclude=rng.sample(WORDS, 1) if rng.random() < 0.1 else [],
                    only_with_code=rng.random() < 0.15,
                    email_format="text" if rng.random() < 0.1 else "html",
                    timezone=rng.choice(ZONES),
                    delivery_hour=rng.randint(0, 23),
                )
            )
        created = Subscriber.objects.bulk_create(batch)
        Subscriber.topics.through.objects.bulk_create(
            Subscriber.topics.through(subscriber_id=s.pk, topic_id=rng.choice(topics).pk)
            for s in created
            if rng.random() < 0.2
        )
        made += len(batch)
        print(f"\r  subscribers: {made:,}/{count:,}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)


PROFILE_TERMS = 60  # of the bench vocabulary's few hundred terms (the trainer keeps 300)
ANCHORS = 3


def make_profiles() -> int:
    """A relevance model for every subscriber, written directly (the trainer is measured by
    bench/relevance_train.py): random weights over the vocabulary of the bench's papers and
    three "saved" papers as anchors, so each reader has their own order and reasons."""
    import json

    from django.db import connection
    from django.utils import timezone

    from digests.models import ReaderModel
    from digests.services import reader
    from papers.models import Paper
    from subscriptions.models import Subscriber

    rng = random.Random(7)
    vocabulary = reader.vocabulary_build()
    papers = list(Paper.objects.only("title", "abstract"))
    vectors = reader.paper_vectors(papers)
    titles = {p.pk: p.title for p in papers}
    terms = sorted(vocabulary.idf)
    now = timezone.now().isoformat()
    ReaderModel.objects.all().delete()
    # Read before the COPY starts: the connection cannot fetch while it copies.
    ids = list(Subscriber.objects.order_by("pk").values_list("pk", flat=True))
    table = ReaderModel._meta.db_table
    written = 0
    with connection.cursor() as cursor:
        sql = f"COPY {table} (subscriber_id, profile, signals, trained_at, stale) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for subscriber_id in ids:
                chosen = rng.sample(terms, min(PROFILE_TERMS, len(terms)))
                weights = [rng.gauss(0, 1) for _ in chosen]
                norm = sum(w * w for w in weights) ** 0.5 or 1.0
                weighted = zip(chosen, weights, strict=True)
                anchors = []
                for paper_id in rng.sample(list(vectors), ANCHORS):
                    top = sorted(vectors[paper_id].items(), key=lambda i: -i[1])[:20]
                    anchors.append({"kind": "saved", "title": titles[paper_id], "terms": dict(top)})
                profile = {
                    "weights": {t: round(w / norm, 5) for t, w in weighted},
                    "anchors": anchors,
                    "signals": ANCHORS,
                }
                copy.write_row((subscriber_id, json.dumps(profile), ANCHORS, now, False))
                written += 1
                if written % 50000 == 0:
                    print(f"\r  profiles: {written:,}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return written


# --- Measuring -------------------------------------------------------------------------------


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    with contextlib.suppress(OSError):  # not Linux: the peak then covers the setup too
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM on Linux


def send_chunks(edition_id: int, chunks: list, out=None) -> dict:
    """What one Celery worker does with its share of the chunk tasks."""
    from django.db import connection

    from digests.models import Edition
    from digests.services import delivery_send_chunk

    try:
        from digests.sending import digest_connection as get_connection
    except ImportError:  # main before issue 9: the default connection
        from django.core.mail import get_connection

    counter = QueryCounter()
    samples = []
    reset_peak()
    sent = skipped = 0
    with connection.execute_wrapper(counter):
        edition = Edition.objects.get(pk=edition_id)
        mail = get_connection()
        for index, ids in enumerate(chunks, start=1):
            result = delivery_send_chunk(edition=edition, subscriber_ids=ids, connection=mail)
            sent += result.sent
            skipped += sum(result.skipped.values())
            samples.append(rss_mb())
            if out is None and index % 20 == 0:
                print(f"\r  chunks: {index}/{len(chunks)}", end="", file=sys.stderr, flush=True)
    stats = {
        "queries": counter.count,
        "sent": sent,
        "skipped": skipped,
        "peak_mb": rss_mb("VmHWM"),
        "samples": samples,
    }
    if out is not None:
        out.put(stats)
    return stats


def run_send(args) -> dict:
    import multiprocessing

    from django.db import connection, connections
    from django.utils import timezone

    from digests.models import Kind
    from digests.selection import due_on_date
    from digests.services import digest_fan_out, edition_finish_if_done, edition_get_or_compose

    day = timezone.localdate()
    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        edition, _ = edition_get_or_compose(day=day, kind=Kind.DAILY)
        chunks: list[list[int]] = []
        digest_fan_out(
            edition=edition,
            subscribers=due_on_date(day=day, kind=Kind.DAILY),
            enqueue=lambda _pk, ids: chunks.append(ids),
        )
    fanned = time.perf_counter()
    if args.workers == 1:
        results = [send_chunks(edition.pk, chunks)]
    else:
        connections.close_all()  # each process opens its own
        queue = multiprocessing.get_context("fork").Queue()
        procs = [
            multiprocessing.get_context("fork").Process(
                target=send_chunks, args=(edition.pk, chunks[i :: args.workers], queue)
            )
            for i in range(args.workers)
        ]
        for proc in procs:
            proc.start()
        results = [queue.get() for _ in procs]
        for proc in procs:
            proc.join()
    finished = time.perf_counter()
    print(file=sys.stderr)
    edition_finish_if_done(edition=edition)
    with connection.cursor() as cursor:  # how personal the send was: distinct orders
        cursor.execute(
            "SELECT count(DISTINCT paper_ids::text) FROM digests_delivery "
            "WHERE edition_id = %s AND status = 'sent'",
            [edition.pk],
        )
        distinct = cursor.fetchone()[0]
    sent = sum(r["sent"] for r in results)
    queries = counter.count + sum(r["queries"] for r in results)
    samples = max((r["samples"] for r in results), key=len)
    quarter = [samples[max(0, int(len(samples) * q) - 1)] for q in (0.25, 0.5, 0.75, 1.0)]
    return {
        "sent": sent,
        "skipped": sum(r["skipped"] for r in results),
        "seconds": finished - started,
        "fan_out_seconds": fanned - started,
        "rate": sent / (finished - started),
        "queries_per_1000": 1000 * queries / max(sent, 1),
        "peak_mb": max(r["peak_mb"] for r in results),
        "rss_quarters": quarter,
        "distinct": distinct,
    }


def run_baseline(count: int) -> dict:
    """The naive way: render the template (and inline its CSS) for every recipient."""
    from digests import rendering
    from digests.models import Edition
    from lib.emails import render_parts
    from subscriptions.models import Subscriber
    from subscriptions.tokens import manage_url, unsubscribe_url

    edition = Edition.objects.latest("created_at")
    entries = list(rendering.edition_entries(edition).values())[:10]
    subscribers = list(Subscriber.objects.order_by("pk")[:count])
    started = time.perf_counter()
    for subscriber in subscribers:
        links = {
            "web_url": rendering.edition_web_url(edition),
            "unsubscribe_url": unsubscribe_url(subscriber),
            "manage_url": manage_url(subscriber),
        }
        try:
            context = rendering.context_for(edition, entries, links=links)
        except TypeError:  # main before issue 9
            context = rendering.context_for(edition, entries, web_url=links["web_url"])
            context.update(links)
        render_parts("digest", context)
    elapsed = time.perf_counter() - started
    return {"rendered": len(subscribers), "rate": len(subscribers) / elapsed}


def main() -> None:
    args = parse_args()
    refuse = ["--refuse-bulk"] if args.mode == "batch" else []
    refuse += ["--delay", str(args.esp_delay)]
    esp = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fake_esp.py"), "--port", str(PORT), *refuse]
    )
    try:
        configure(args)
        if args.keep:
            from django.db import connection

            with connection.cursor() as cursor:  # same readers, a fresh edition
                cursor.execute(
                    "TRUNCATE digests_delivery, digests_editionpaper, digests_edition CASCADE"
                )
        else:
            print(f"Creating {args.subscribers:,} subscribers ...", file=sys.stderr)
            make_data(args.subscribers)
        from django.db import connection

        if args.personal:
            from digests.models import ReaderModel

            if not (args.keep and ReaderModel.objects.exists()):
                print("Writing a relevance model per subscriber ...", file=sys.stderr)
                make_profiles()
        elif args.keep:
            with connection.cursor() as cursor:  # the trending order for everyone
                cursor.execute("TRUNCATE digests_readermodel")

        with connection.cursor() as cursor:
            # Fresh planner statistics, as autovacuum keeps them in production: without
            # them PostgreSQL takes the freshly loaded table for a few rows and sorts the
            # whole list for every chunk of the fan-out.
            cursor.execute("ANALYZE")
        time.sleep(0.5)  # the fake ESP is listening by now
        print(f"Sending ({args.mode}, {args.workers} process(es)) ...", file=sys.stderr)
        result = run_send(args)
        import json
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/") as answer:
            esp_calls = json.load(answer)["calls"]
        baseline = run_baseline(args.baseline)
    finally:
        esp.terminate()
        esp.wait()
    quarters = " / ".join(f"{mb:.0f}" for mb in result["rss_quarters"])
    print()
    order = "own relevance model per reader" if args.personal else "trending order"
    print(
        f"Send benchmark: {args.subscribers:,} subscribers ({order}), mode={args.mode}, "
        f"workers={args.workers}, fake Postmark on 127.0.0.1, "
        f"{args.esp_delay * 1000:.0f} ms per call"
    )
    print(
        f"  sent {result['sent']:,}, skipped {result['skipped']:,} "
        f"in {result['seconds']:.1f} s (fan-out {result['fan_out_seconds']:.1f} s)"
    )
    print(f"  distinct digests (orders):  {result['distinct']:,}, in {esp_calls:,} ESP calls")
    print(f"  messages per second:        {result['rate']:,.0f}")
    print(f"  queries per 1,000 messages: {result['queries_per_1000']:.1f}")
    print(f"  peak memory (RSS):          {result['peak_mb']:.0f} MB")
    print(f"  RSS at 25/50/75/100% sent:  {quarters} MB")
    print(f"Baseline, render per recipient ({baseline['rendered']:,} renders, no sending):")
    print(f"  messages per second:        {baseline['rate']:,.0f}")
    print(f"  speed-up of the real send:  {result['rate'] / baseline['rate']:.1f}x")


if __name__ == "__main__":
    main()
