"""kill -9 check: a real Celery worker process is killed mid-chunk, then the chunks are sent
again (a rerun, or the broker redelivering the unacknowledged tasks), and every reader's
copies are counted at a fake Postmark API (bench/fake_esp.py) that takes 300 ms a call.

Prints, beside the bound it must stay within (one ESP call's readers), the readers who got
nothing, the readers who got two copies, and the deliveries left "sending".

    .venv/bin/python bench/kill_send.py                          # one-by-one, 3,000 readers
    .venv/bin/python bench/kill_send.py --mode bulk --batch-size 100

It uses its own PostgreSQL database (KILL_DATABASE_URL, default paperboy_kill_digests) and
the Redis of REDIS_URL (a queue of its own): never point it at a database you care about.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PORT = 8926
QUEUE = "digests-kill-bench"
DATABASE = os.environ.get(
    "KILL_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/paperboy_kill_digests"
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=3000)
    parser.add_argument("--mode", choices=["single", "bulk"], default="single")
    parser.add_argument("--delay", type=float, default=0.3, help="seconds per ESP call")
    parser.add_argument("--batch-size", type=int, default=100, help="bulk: readers per call")
    parser.add_argument("--kill-after-calls", type=int, default=50)
    parser.add_argument("--rerun-processes", type=int, default=3)
    return parser.parse_args()


def configure(args) -> dict:
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": DATABASE,
        "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
        "ANYMAIL_POSTMARK_SERVER_TOKEN": "bench-token",
        "ANYMAIL_POSTMARK_API_URL": f"http://127.0.0.1:{PORT}/",
        "DIGEST_BATCH_SEND": "1" if args.mode == "bulk" else "0",
        "DIGEST_BATCH_SIZE": str(args.batch_size),
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    import send_digest
    from send_digest import _create_database

    send_digest.DATABASE = DATABASE
    _create_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def esp_state() -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/", timeout=10) as response:
        return json.load(response)


def start_worker(env: dict, *, processes: int) -> subprocess.Popen:
    pool = ["--pool=solo"] if processes == 1 else ["--pool=prefork", f"--concurrency={processes}"]
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config.celery_app",
            "worker",
            *pool,
            f"--queues={QUEUE}",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        start_new_session=True,  # its own process group: kill -9 reaches every child
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def statuses() -> dict:
    from django.db.models import Count

    from digests.models import Delivery

    return dict(Delivery.objects.values_list("status").annotate(n=Count("pk")))


def main() -> None:
    args = parse_args()
    esp = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "fake_esp.py"),
            "--port",
            str(PORT),
            "--delay",
            str(args.delay),
        ]
    )
    worker = rerun = None
    try:
        env = configure(args)
        from send_digest import make_data

        print(f"Creating {args.subscribers:,} subscribers ...", file=sys.stderr)
        make_data(args.subscribers)
        from django.utils import timezone

        from config.celery_app import app
        from digests.models import Delivery, Kind
        from digests.selection import due_on_date
        from digests.services import digest_fan_out, edition_get_or_compose
        from digests.tasks import send_digest_chunk

        app.conf.task_always_eager = False
        day = timezone.localdate()
        edition, _ = edition_get_or_compose(day=day, kind=Kind.DAILY)
        chunks: list[list[int]] = []
        digest_fan_out(
            edition=edition,
            subscribers=due_on_date(day=day, kind=Kind.DAILY),
            enqueue=lambda _pk, ids: chunks.append(ids),
        )
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(QUEUE)
        for ids in chunks:
            send_digest_chunk.apply_async((edition.pk, ids), queue=QUEUE)

        worker = start_worker(env, processes=1)
        while esp_state()["calls"] < args.kill_after_calls:
            time.sleep(0.02)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        killed_at = esp_state()
        at_kill = statuses()
        print(f"killed after {killed_at['calls']} calls: {at_kill}", file=sys.stderr)

        # The rerun: the chunks again (what send_digest or a redelivery does).
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(QUEUE)
        for ids in chunks:
            send_digest_chunk.apply_async((edition.pk, ids), queue=QUEUE)
        started = time.monotonic()
        rerun = start_worker(env, processes=args.rerun_processes)
        while Delivery.objects.filter(status=Delivery.Status.PENDING).exists():
            time.sleep(0.5)
            print(f"\r  rerun: {esp_state()['received']:,} received", end="", file=sys.stderr)
        time.sleep(2)  # the last marks commit
        rerun_seconds = time.monotonic() - started
        print(file=sys.stderr)
        final = statuses()
        got = esp_state()["to"]
        expected = set(
            Delivery.objects.exclude(status=Delivery.Status.SKIPPED).values_list(
                "subscriber__email", flat=True
            )
        )
    finally:
        for proc in (worker, rerun):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(60)
        esp.terminate()
        esp.wait()
    missing = sorted(expected - {to for to, n in got.items() if n})
    duplicates = {to: n for to, n in got.items() if n > 1}
    bound = 1 if args.mode == "single" else args.batch_size
    print()
    print(
        f"kill -9 check: {args.subscribers:,} subscribers, mode={args.mode}, "
        f"{args.delay * 1000:.0f} ms per ESP call, fake Postmark on 127.0.0.1"
    )
    print(f"  worker killed after {killed_at['calls']} calls: deliveries then {at_kill}")
    print(f"  rerun with {args.rerun_processes} processes: {rerun_seconds:.0f} s; now {final}")
    print(f"  readers to mail: {len(expected):,}; copies received: {sum(got.values()):,}")
    print(f"  missing: {len(missing)} {missing[:5]}")
    print(f"  duplicated: {sum(n - 1 for n in duplicates.values())} {list(duplicates)[:5]}")
    print(f"  left 'sending': {final.get('sending', 0)}")
    total = len(missing) + sum(n - 1 for n in duplicates.values())
    verdict = "within" if total <= bound else "OVER"
    print(f"  missing + duplicated = {total}; bound (one call's readers) = {bound}: {verdict}")


if __name__ == "__main__":
    main()
