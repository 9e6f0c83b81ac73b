#!/usr/bin/env python
"""Time `import_subscribers` on PostgreSQL with a 1,000,000-row Mailchimp-style export.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/paperboy_bench_import \
        .venv/bin/python bench/import_subscribers.py [--rows N] [--baseline-rows N]

The database is created and migrated if missing; its subscribers are DELETED before each
phase, so the name must contain "bench". The file has 1% duplicates (half within the
file, half already on the list) and 0.5% bad rows, as real exports do. Beside the import
it measures, in the same run, the one-row-at-a-time import this replaced (one existence
query and one transaction per row) on --baseline-rows rows, extrapolated to --rows; and
it samples the process's resident memory as the import goes, to show it stays flat.
"""

import argparse
import csv
import io
import itertools
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _database import create_database

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

DUPLICATE_SHARE = 0.01
BAD_SHARE = 0.005


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=5_000)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) or "bench" not in url.rsplit("/")[-1]:
        sys.exit("Set DATABASE_URL to a PostgreSQL database whose name contains 'bench'.")
    create_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "members.csv"
        expected = _write_export(path, args.rows)
        baseline_path = Path(folder) / "baseline.csv"
        _write_export(baseline_path, args.baseline_rows)
        print(
            f"{args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB): {expected['new']:,} new, "
            f"{expected['duplicates']:,} duplicates, {expected['bad']:,} bad",
            flush=True,
        )

        _reset(known=0)
        started = time.perf_counter()
        one_by_one = _baseline_import(baseline_path)
        baseline_seconds = time.perf_counter() - started
        per_row = baseline_seconds / args.baseline_rows
        print(
            f"baseline, one row at a time: {args.baseline_rows:,} rows in "
            f"{baseline_seconds:.1f} s = {per_row * 1000:.2f} ms/row -> "
            f"{per_row * args.rows / 60:.1f} min for {args.rows:,} (extrapolated); "
            f"{one_by_one} imported",
            flush=True,
        )

        _reset(known=expected["known"])
        sampler = _RssSampler()
        out = _Counting()
        started = time.perf_counter()
        with sampler:
            call_command("import_subscribers", str(path), "--confirmed", stdout=out, stderr=out)
        seconds = time.perf_counter() - started
        summary = out.last
        print(
            f"import_subscribers: {args.rows:,} rows in {seconds:.1f} s "
            f"({args.rows / seconds:,.0f} rows/s, {seconds / args.rows * 1e6:.0f} us/row); "
            f"{per_row * args.rows / seconds:.0f}x the baseline",
            flush=True,
        )
        print(f"report: {summary.strip()}")
        print(f"lines printed for skipped rows: {out.skips:,}")
        print("resident memory (MB) at 10/25/50/75/100% of the run: " + sampler.quantiles())
        _check(expected)


class _Counting(io.StringIO):
    """Swallows the command's output, counting the skipped-row lines and keeping the last."""

    def __init__(self):
        super().__init__()
        self.skips = 0
        self.last = ""

    def write(self, text):
        if text.startswith("line "):
            self.skips += 1
        elif text.startswith("Imported"):
            self.last = text
        return len(text)


class _RssSampler:
    def __init__(self):
        self.samples = []
        self._stop = threading.Event()

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.wait(0.25):
            self.samples.append(_rss_mb())

    def quantiles(self):
        if not self.samples:
            return "n/a"
        n = len(self.samples)
        picks = [self.samples[min(n - 1, int(n * q))] for q in (0.1, 0.25, 0.5, 0.75, 1.0)]
        return " / ".join(f"{mb:.0f}" for mb in picks)


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _write_export(path: Path, rows: int) -> dict:
    """A Mailchimp 'Email Address' export; returns what a correct import must report."""
    duplicates = int(rows * DUPLICATE_SHARE)
    bad = int(rows * BAD_SHARE)
    known = duplicates // 2  # on the list before the import, spelled in another case
    within = duplicates - known  # repeat an earlier row of the file, at its end
    new = rows - bad - known - within
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Email Address", "First Name", "Last Name", "MEMBER_RATING"])
        emails = itertools.chain(
            (f"not an address {n}" for n in range(bad)),
            (f"Known{n}@Example.org" for n in range(known)),
            (f"reader{n}@example.org" for n in range(new)),
            (f"reader{n}@example.org" for n in range(within)),
        )
        for email in emails:
            writer.writerow([email, "Ada", "Lovelace", 2])
    return {"bad": bad, "known": known, "duplicates": known + within, "new": new}


def _reset(*, known: int):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE subscriptions_consentrecord, subscriptions_subscriber_topics, "
            "subscriptions_subscriber RESTART IDENTITY CASCADE"
        )
    from subscriptions.models import Subscriber

    Subscriber.objects.bulk_create(
        [Subscriber(email=f"known{n}@example.org", status="confirmed") for n in range(known)],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE subscriptions_subscriber")


def _baseline_import(path: Path) -> int:
    """The import this benchmark replaced (main before issue 10), row by row."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email
    from django.db import transaction
    from django.utils import timezone

    from subscriptions.models import ConsentRecord, Subscriber

    imported, seen = 0, set()
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            email = row[0].strip().lower()
            try:
                validate_email(email)
            except ValidationError:
                continue
            if email in seen or Subscriber.objects.by_email(email).exists():
                continue
            seen.add(email)
            with transaction.atomic():
                subscriber = Subscriber.objects.create(
                    email=email,
                    status=Subscriber.Status.CONFIRMED,
                    confirmed_at=timezone.now(),
                    confirm_nonce="",
                )
                ConsentRecord.objects.create(
                    subscriber=subscriber, kind=ConsentRecord.Kind.IMPORT, source="baseline"
                )
            imported += 1
    return imported


def _check(expected: dict):
    from subscriptions.models import ConsentRecord, Subscriber

    subscribers = Subscriber.objects.count()
    consents = ConsentRecord.objects.count()
    want = expected["new"] + expected["known"]
    print(
        f"check: {subscribers:,} subscribers (want {want:,}), {consents:,} consent records "
        f"(want {expected['new']:,})"
    )
    if subscribers != want or consents != expected["new"]:
        sys.exit("the import's result is wrong")


if __name__ == "__main__":
    main()
