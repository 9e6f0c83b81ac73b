"""How long does retraining every reader's model take? Extrapolates to 1,000,000 readers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/paperboy_bench_relevance \
        .venv/bin/python bench/relevance_train.py [--readers 20000] [--papers 20000]

Seeds (once) papers with topical text and readers with 12 signals each (saved-like More,
Less, a chosen topic), then times `reader_models_train` over all of them, beside a
baseline measured in the same run: reading the same readers' examples without training
or writing (the queries alone).
"""

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from _database import create_database

_url = os.environ.get("DATABASE_URL", "")
if not _url.startswith(("postgres://", "postgresql://")):
    sys.exit("Set DATABASE_URL to a PostgreSQL database (it is created if missing).")
create_database(_url)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from digests.models import ReaderModel, ReaderSignal  # noqa: E402
from digests.services import reader  # noqa: E402
from papers.models import Paper  # noqa: E402
from subscriptions.models import Subscriber  # noqa: E402

TOPICS = 40


def seed(papers: int, readers: int, rng: random.Random) -> None:
    if Subscriber.objects.count() >= readers:
        return
    print(f"seeding {papers:,} papers and {readers:,} readers with 12 signals each ...")
    words = [[f"t{t}w{i}" for i in range(30)] for t in range(TOPICS)]
    general = [f"g{i}" for i in range(600)]
    batch = []
    for n in range(papers):
        topic = words[n % TOPICS]
        text = " ".join(rng.choice(topic if rng.random() < 0.35 else general) for _ in range(90))
        batch.append(Paper(title=f"Paper {n} {rng.choice(topic)}", slug=f"p-{n}", abstract=text))
    for paper in batch:
        paper.title_key = f"paper {paper.slug}"
    Paper.objects.bulk_create(batch, batch_size=2000)
    Subscriber.objects.bulk_create(
        (Subscriber(email=f"r{n}@bench.example", status="confirmed") for n in range(readers)),
        batch_size=5000,
    )
    paper_ids = list(Paper.objects.values_list("pk", flat=True))
    signals = []
    for sub_id in Subscriber.objects.values_list("pk", flat=True):
        for paper_id in rng.sample(paper_ids, 12):
            signals.append(
                ReaderSignal(
                    subscriber_id=sub_id, paper_id=paper_id, kind=rng.choice(["more", "less"])
                )
            )
        if len(signals) >= 50000:
            ReaderSignal.objects.bulk_create(signals, ignore_conflicts=True)
            signals = []
    ReaderSignal.objects.bulk_create(signals, ignore_conflicts=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    reader.vocabulary_build()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=20000)
    parser.add_argument("--papers", type=int, default=20000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    seed(args.papers, args.readers, random.Random(3))
    readers = list(Subscriber.objects.order_by("pk").only("pk", "user_id"))
    chunk = 500

    started = time.perf_counter()
    for start in range(0, len(readers), chunk):
        reader._examples_for(readers[start : start + chunk])
    baseline = time.perf_counter() - started

    ReaderModel.objects.all().delete()
    started, cpu = time.perf_counter(), time.process_time()
    written = reader.reader_models_train()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu

    n = len(readers)
    print(f"readers: {n:,}, models written: {written:,}")
    print(f"baseline (read examples only): {baseline:.1f} s = {1e3 * baseline / n:.2f} ms/reader")
    print(f"train and write all models:    {elapsed:.1f} s = {1e3 * elapsed / n:.2f} ms/reader")
    print(f"  of which CPU in this process: {cpu:.1f} s")
    print(f"1,000,000 readers, extrapolated: {elapsed / n * 1e6 / 60:.1f} min (target 15)")


if __name__ == "__main__":
    main()
