"""How long does retraining every reader's model take? Extrapolates to 1,000,000 readers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/paperboy_bench_relevance \
        .venv/bin/python bench/relevance_train.py [--readers 20000] [--papers 20000]

Seeds (once) papers with topical text and readers with 12 signals each (More or Less),
then times `reader_models_train` over all of them, beside a baseline measured in the same
run and process: the code before retraining was made fast (`_train_before` below, a copy
of it: examples read and vectorised per chunk, the model maths written plainly, written
with bulk_create). It checks that both give the same models.
"""

import argparse
import heapq
import math
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

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from digests import relevance  # noqa: E402
from digests.models import ReaderModel, ReaderSignal, TopicMute  # noqa: E402
from digests.services import reader  # noqa: E402
from papers.models import LibraryItem, Paper, Topic  # noqa: E402
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


# --- The code before (main at 9cd6967), kept here as the baseline ---------------------------


def _profile_train_before(examples, *, keep=relevance.READER_TERMS):
    def mean(vectors):
        total = {}
        for vector in vectors:
            for t, v in vector.items():
                total[t] = total.get(t, 0.0) + v
        n = len(vectors) or 1
        return {t: v / n for t, v in total.items()}

    positives = [e.vector for e in examples if e.kind in relevance.POSITIVE]
    topics = [e.vector for e in examples if e.kind == "topic"]
    negatives = [e.vector for e in examples if e.kind in relevance.NEGATIVE]
    if not (positives or negatives):
        return relevance.ReaderProfile(signals=0)
    weights = {}
    for vector, factor in ((mean(positives), 1.0), (mean(topics), 0.5)):
        for t, v in vector.items():
            weights[t] = weights.get(t, 0.0) + factor * v
    for t, v in mean(negatives).items():
        weights[t] = weights.get(t, 0.0) - 0.75 * v
    top = heapq.nlargest(keep, weights.items(), key=lambda item: abs(item[1]))
    norm = math.sqrt(sum(v * v for _, v in top)) or 1.0
    newest = [e for e in reversed(examples) if e.kind in relevance.POSITIVE][: relevance.ANCHORS]
    anchors = [
        {
            "kind": e.kind,
            "title": e.title[:200],
            "terms": dict(
                heapq.nlargest(relevance.ANCHOR_TERMS, e.vector.items(), key=lambda i: i[1])
            ),
        }
        for e in newest
    ]
    return relevance.ReaderProfile(
        weights={t: round(v / norm, 5) for t, v in top if v},
        anchors=anchors,
        signals=len(positives) + len(negatives),
    )


def _examples_before(subscribers):
    from collections import defaultdict

    ids = [s.pk for s in subscribers]
    by_user = {s.user_id: s.pk for s in subscribers if s.user_id}
    rows = defaultdict(list)
    for user_id, created, origin, paper_id, title in LibraryItem.objects.filter(
        user_id__in=list(by_user)
    ).values_list("user_id", "created_at", "origin", "paper_id", "title"):
        rows[by_user[user_id]].append((created, origin, paper_id, title))
    for sub_id, updated, kind, paper_id in ReaderSignal.objects.filter(
        subscriber_id__in=ids
    ).values_list("subscriber_id", "updated_at", "kind", "paper_id"):
        rows[sub_id].append((updated, kind, paper_id, ""))
    topic_text = {
        t.pk: f"{t.name}\n{t.description}" for t in Topic.objects.only("name", "description")
    }
    chosen = defaultdict(list)
    for sub_id, topic_id in Subscriber.topics.through.objects.filter(
        subscriber_id__in=ids
    ).values_list("subscriber_id", "topic_id"):
        chosen[sub_id].append(topic_id)
    for sub_id, topic_id in TopicMute.objects.filter(subscriber_id__in=ids).values_list(
        "subscriber_id", "topic_id"
    ):
        chosen[sub_id].append(-topic_id)
    paper_ids = {paper_id for items in rows.values() for _, _, paper_id, _ in items if paper_id}
    papers = Paper.objects.filter(pk__in=paper_ids).only("title", "abstract")
    vectors = reader.paper_vectors(papers)
    titles = dict(papers.values_list("pk", "title"))
    vocabulary = reader.vocabulary_current()
    examples = {}
    for subscriber in subscribers:
        items = sorted(rows.get(subscriber.pk, []), key=lambda row: row[0])
        found = []
        for topic_id in chosen.get(subscriber.pk, []):
            text = topic_text.get(abs(topic_id), "")
            kind = "muted" if topic_id < 0 else "topic"
            found.append(relevance.Example(kind, "", relevance.vectorise(text, vocabulary)))
        for _, kind, paper_id, title in items:
            kind = "saved" if kind == LibraryItem.Origin.SAVED else kind
            if paper_id in vectors:
                found.append(relevance.Example(kind, titles[paper_id], vectors[paper_id]))
            elif title:
                found.append(relevance.Example(kind, title, relevance.vectorise(title, vocabulary)))
        examples[subscriber.pk] = found
    return examples


def _train_before(chunk: int) -> int:
    readers = Subscriber.objects.exclude(status__in=["unsubscribed", "complained"])
    now = timezone.now()
    written, last = 0, 0
    while True:
        batch = list(readers.filter(pk__gt=last).order_by("pk").only("pk", "user_id")[:chunk])
        if not batch:
            return written
        last = batch[-1].pk
        examples = _examples_before(batch)
        models, cold = [], []
        for subscriber in batch:
            profile = _profile_train_before(examples[subscriber.pk])
            if profile.is_cold():
                cold.append(subscriber.pk)
                continue
            models.append(
                ReaderModel(
                    subscriber_id=subscriber.pk,
                    profile=profile.as_json(),
                    signals=profile.signals,
                    trained_at=now,
                    stale=False,
                )
            )
        with transaction.atomic():
            ReaderModel.objects.filter(subscriber_id__in=cold).delete()
            ReaderModel.objects.bulk_create(
                models,
                update_conflicts=True,
                unique_fields=["subscriber"],
                update_fields=["profile", "signals", "trained_at", "stale"],
            )
        written += len(models)


def _timed(train) -> tuple[int, float, float]:
    ReaderModel.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE digests_readermodel")
    reader._paper_vector.cache_clear()
    started, cpu = time.perf_counter(), time.process_time()
    written = train()
    return written, time.perf_counter() - started, time.process_time() - cpu


def _sample(n: int = 300) -> dict[int, dict]:
    return dict(ReaderModel.objects.order_by("?").values_list("subscriber_id", "profile")[:n])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=20000)
    parser.add_argument("--papers", type=int, default=20000)
    parser.add_argument("--no-before", action="store_true", help="skip the baseline")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    seed(args.papers, args.readers, random.Random(3))
    n = Subscriber.objects.count()
    chunk = settings.RELEVANCE_TRAIN_CHUNK
    print(f"readers: {n:,}, papers: {Paper.objects.count():,}, chunk: {chunk}", flush=True)

    rows = []
    if not args.no_before:
        written, elapsed, cpu = _timed(lambda: _train_before(chunk))
        before = _sample()
        rows.append(("before (main at 9cd6967)", written, elapsed, cpu))
    written, elapsed, cpu = _timed(reader.reader_models_train)
    rows.append(("now: reader_models_train", written, elapsed, cpu))
    for name, written, elapsed, cpu in rows:
        print(
            f"{name:26} {written:>9,} models  {elapsed:7.1f} s  ({cpu:6.1f} s CPU in this "
            f"process)  {1e3 * elapsed / n:5.2f} ms/reader  1,000,000 readers: "
            f"{elapsed / n * 1e6 / 60:5.1f} min (target 15)"
        )
    if not args.no_before:
        now = dict(
            ReaderModel.objects.filter(subscriber_id__in=list(before)).values_list(
                "subscriber_id", "profile"
            )
        )
        same = sum(now.get(pk) == profile for pk, profile in before.items())
        print(f"same model before and now: {same} of {len(before)} sampled readers")
        print(f"speed-up: {rows[0][2] / rows[1][2]:.1f}x")


if __name__ == "__main__":
    main()
