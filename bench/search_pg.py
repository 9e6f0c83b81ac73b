#!/usr/bin/env python
"""Search latency at scale on PostgreSQL: p50/p95 of one search page, beside a baseline.

    .venv/bin/python bench/search_pg.py                       # 1,000,000 papers
    .venv/bin/python bench/search_pg.py --papers 100000 --runs 30

Fills a dedicated database (default paperboy_bench_search, created if missing; never the
one in DATABASE_URL) with synthetic papers whose words follow a Zipf-like distribution,
so there are very common words (hundreds of thousands of matches), rare ones and
everything between. Filling 1M rows takes a few minutes the first time and is reused
afterwards. Each measured call is exactly what GET /search/ does:
papers.selectors.paper_search(), i.e. the ranked page of 20 with headlines, topics and
code links (and the trigram fallback when nothing matches). The baseline, measured in
the same run, is fetching one paper by primary key through the ORM.
"""

import argparse
import importlib
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Real words so the English stemmer behaves as on real abstracts; ranked by frequency.
COMMON = [
    "learning",
    "model",
    "models",
    "neural",
    "network",
    "networks",
    "data",
    "training",
    "language",
    "large",
    "method",
    "methods",
    "performance",
    "results",
    "task",
    "tasks",
    "deep",
    "approach",
    "propose",
    "proposed",
    "show",
    "based",
    "using",
    "image",
    "images",
    "representation",
    "representations",
    "framework",
    "transformer",
    "attention",
    "state",
    "art",
    "benchmark",
    "benchmarks",
    "generation",
    "diffusion",
    "reinforcement",
    "policy",
    "agents",
    "agent",
    "graph",
    "graphs",
    "vision",
    "text",
    "video",
    "speech",
    "robot",
    "robotic",
    "reasoning",
    "inference",
    "optimization",
    "gradient",
    "loss",
    "adversarial",
    "robust",
    "robustness",
    "efficient",
    "efficiency",
    "scalable",
    "sparse",
    "dense",
    "retrieval",
    "embedding",
    "embeddings",
    "contrastive",
    "supervised",
    "unsupervised",
    "self",
    "semi",
    "few",
    "shot",
    "zero",
    "prompt",
    "prompting",
    "instruction",
    "tuning",
    "fine",
    "pretrained",
    "pretraining",
    "evaluation",
    "dataset",
    "datasets",
    "segmentation",
    "detection",
    "classification",
    "recognition",
    "translation",
    "summarization",
    "question",
    "answering",
    "dialogue",
    "knowledge",
    "memory",
    "planning",
    "control",
    "uncertainty",
    "calibration",
    "bayesian",
    "probabilistic",
    "causal",
    "causality",
    "theory",
    "theoretical",
    "convergence",
    "bound",
    "bounds",
    "regret",
    "bandit",
    "federated",
    "privacy",
    "differential",
    "secure",
    "attack",
    "defense",
    "watermark",
    "alignment",
    "preference",
    "human",
    "feedback",
    "reward",
    "safety",
    "interpretability",
    "explanation",
    "features",
    "circuit",
    "mechanistic",
    "token",
    "tokens",
    "context",
    "window",
    "long",
    "sequence",
    "recurrent",
    "convolutional",
    "kernel",
    "operator",
    "physics",
    "molecule",
    "protein",
    "chemistry",
    "medical",
    "clinical",
    "health",
    "genomic",
    "climate",
    "weather",
    "forecasting",
    "time",
    "series",
    "anomaly",
    "audio",
    "music",
    "multimodal",
    "cross",
    "domain",
    "adaptation",
    "transfer",
    "continual",
    "meta",
    "curriculum",
    "distillation",
    "compression",
    "quantization",
    "pruning",
    "hardware",
    "accelerator",
    "latency",
    "throughput",
    "parallel",
]
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "ti",
    "vo",
    "ze",
    "ba",
    "do",
    "fi",
    "gu",
    "he",
    "ja",
    "ko",
    "li",
    "mu",
    "na",
    "pe",
    "qui",
    "ra",
    "so",
    "tu",
]
FIRST = [
    "Ada",
    "Alan",
    "Grace",
    "Claude",
    "Edsger",
    "Barbara",
    "John",
    "Donald",
    "Leslie",
    "Frances",
    "Tim",
    "Yoshua",
    "Fei",
]
LAST = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Shannon",
    "Dijkstra",
    "Liskov",
    "McCarthy",
    "Knuth",
    "Lamport",
    "Allen",
    "Lee",
]


def vocabulary(size: int = 20_000) -> list[str]:
    rng = random.Random(7)
    words = list(COMMON)
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


FILL_SQL = """
INSERT INTO papers_paper (
    arxiv_id, doi, slug, title, title_key, abstract, authors, published_on, categories,
    abstract_url, pdf_url, status, sources, boost, pinned, stars, has_code, created_at,
    updated_at)
SELECT
    'b' || g, '', 'bench-' || g, t.title, 'bench ' || g || ' ' || left(t.title, 200),
    t.abstract, t.authors, DATE '2026-11-01' - (g %% 900), '[]'::jsonb, '', '', 'published',
    '[]'::jsonb, 0, false, (g::bigint * 7919) %% 500, (g %% 3 = 0), now(), now()
FROM generate_series(%(start)s, %(stop)s) AS g
CROSS JOIN LATERAL (
    SELECT
        initcap(array_to_string(ARRAY(
            SELECT (%(words)s::text[])[1 + floor(power(random(), 2.2) * %(n)s)::int]
            FROM generate_series(1, 6 + (g %% 5)) AS w WHERE g > 0), ' ')) AS title,
        array_to_string(ARRAY(
            SELECT (%(words)s::text[])[1 + floor(power(random(), 2.2) * %(n)s)::int]
            FROM generate_series(1, 70) AS w WHERE g > 0), ' ') AS abstract,
        to_jsonb(ARRAY(
            SELECT (%(first)s::text[])[1 + floor(random() * %(nf)s)::int] || ' '
                || (%(last)s::text[])[1 + floor(random() * %(nl)s)::int]
            FROM generate_series(1, 3) AS a WHERE g > 0)) AS authors
) AS t
"""


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def fill(count: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from papers.models import Paper

    call_command("migrate", verbosity=0)
    have = Paper.objects.count()
    if have >= count:
        print(f"database already holds {have:,} papers")
        return
    search_migration = importlib.import_module("papers.migrations.0002_search_postgres")
    words = vocabulary()
    params = {
        "words": words,
        "n": len(words),
        "first": FIRST,
        "nf": len(FIRST),
        "last": LAST,
        "nl": len(LAST),
    }
    with connection.cursor() as cursor:
        # Building the GIN indexes once at the end is several times faster than keeping
        # them current row by row; they are recreated exactly as migration 0002 does.
        cursor.execute("DROP INDEX IF EXISTS paper_search_vector_gin")
        cursor.execute("DROP INDEX IF EXISTS paper_title_trgm")
        batch = 50_000
        started = time.perf_counter()
        for start in range(have + 1, count + 1, batch):
            stop = min(start + batch - 1, count)
            cursor.execute(FILL_SQL, {**params, "start": start, "stop": stop})
            done = stop / count
            elapsed = time.perf_counter() - started
            eta = elapsed / (stop - have) * (count - stop)
            print(f"  filled {stop:,}/{count:,} ({done:.0%}), ~{eta:.0f}s left", flush=True)
        print("  building GIN indexes...", flush=True)
        for sql in search_migration.FORWARD:
            if sql.lstrip().startswith("CREATE INDEX"):
                cursor.execute(sql)
        cursor.execute("ANALYZE papers_paper")


def attempt(fn):
    """fn()'s result, or "time limit" when the search gave up (SearchTooSlow)."""
    from papers.selectors import SearchTooSlow

    try:
        return fn()
    except SearchTooSlow:
        return "time limit"


def timed(fn, runs: int) -> list[float]:
    attempt(fn)  # warm the caches once, as a running site would be
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        attempt(fn)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50, help="timed runs per query")
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/paperboy_bench_search",
        help="PostgreSQL database to fill and search (created if missing)",
    )
    parser.add_argument(
        "--statistics",
        type=int,
        default=-1,
        help="statistics target for search_vector before measuring (-1: PostgreSQL's "
        "default, as the migrations leave it; 2000 gives the planner word frequencies "
        "fine enough to pick the right plan for rare words, see README)",
    )
    args = parser.parse_args()

    ensure_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    from papers.models import Paper
    from papers.selectors import paper_search, related_papers

    print(f"filling {args.database_url} up to {args.papers:,} papers", flush=True)
    fill(args.papers)
    with connection.cursor() as cursor:
        target = int(args.statistics)  # an int: safe to put in the statement
        cursor.execute(
            f"ALTER TABLE papers_paper ALTER COLUMN search_vector SET STATISTICS {target}"
        )
        cursor.execute("ANALYZE papers_paper")
    total = Paper.objects.count()
    any_paper = Paper.objects.order_by("pk").first()
    any_pk = any_paper.pk
    words = vocabulary()

    cases = [
        ("baseline: one paper by primary key", lambda: Paper.objects.get(pk=any_pk)),
        ("very common word", lambda: paper_search(query=words[0])),
        ("two common words", lambda: paper_search(query=f"{words[3]} {words[8]}")),
        ("mid-frequency word", lambda: paper_search(query=words[400])),
        ("rare word", lambda: paper_search(query=words[-1])),
        ("phrase + exclusion", lambda: paper_search(query=f'"{words[5]} {words[6]}" -{words[2]}')),
        ("author name", lambda: paper_search(query="Lamport")),
        (
            "common word, has code, page 5",
            lambda: paper_search(query=words[1], has_code=True, page=5),
        ),
        ("misspelled title (trigram fallback)", lambda: paper_search(query="trnsformr atention")),
        ("hostile input", lambda: paper_search(query="') OR 1=1; -- & | ! <script>" * 5)),
        ("paper page: related by similar title", lambda: related_papers(any_paper)),
    ]
    print(
        f"\n{total:,} papers, search_vector statistics target {args.statistics}, "
        f"{args.runs} runs each, times in ms"
    )
    print(f"{'case':<40} {'p50':>8} {'p95':>8} {'max':>8}  results")
    for name, fn in cases:
        samples = timed(fn, args.runs)
        result = attempt(fn)
        if isinstance(result, str):
            shown = result
        else:
            shown = len(getattr(result, "papers", result if isinstance(result, list) else [1]))
        print(
            f"{name:<40} {statistics.median(samples):8.1f} {p95(samples):8.1f}"
            f" {max(samples):8.1f}  {shown}"
        )


if __name__ == "__main__":
    main()
