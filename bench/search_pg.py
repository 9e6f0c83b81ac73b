#!/usr/bin/env python
"""Search latency at scale on PostgreSQL, on both index paths in the same run.

    .venv/bin/python bench/search_pg.py                       # 1,000,000 papers
    .venv/bin/python bench/search_pg.py --papers 100000 --runs 30
    .venv/bin/python bench/search_pg.py --rebuild-indexes     # time both index builds again

Fills a dedicated database (default paperboy_bench_search, created if missing; never the
one in DATABASE_URL) with synthetic papers whose words follow a Zipf-like distribution,
so there are very common words (hundreds of thousands of matches), rare ones and
everything between. Filling 1M rows takes a while the first time and is reused
afterwards. The table keeps both a RUM and a GIN index on search_vector; each path is
measured inside a transaction that drops the other index (rolled back afterwards), so
`papers.search` takes exactly the path a server with only that index takes.

Each measured call is exactly what GET /search/ does: papers.selectors.paper_search(),
i.e. the ranked page of 20 with headlines, topics, code links and the result count (and
the trigram fallback when nothing matches). The baseline, measured in the same run, is
fetching one paper by primary key through the ORM. It also reports each index's size and
build time, and the write cost per paper on each path beside a table with no full-text
index: an INSERT, a text UPDATE, and the stars/has_code UPDATE an import or a GitHub
refresh makes, with the share of those updates that were HOT (no index written). The
write costs are measured twice in the same run: on the table as filled (fillfactor 75,
migration 0010) and on the same table packed full, as it was before that migration
(rewritten at fillfactor 100 in a transaction that is rolled back).
"""

import argparse
import os
import random
import statistics
import sys
import time
from contextlib import contextmanager, nullcontext
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


INDEXES = {
    "rum": "CREATE INDEX IF NOT EXISTS paper_search_vector_rum ON papers_paper "
    "USING rum (search_vector rum_tsvector_ops)",
    "gin": "CREATE INDEX IF NOT EXISTS paper_search_vector_gin ON papers_paper "
    "USING gin (search_vector)",
    "title trigram": "CREATE INDEX IF NOT EXISTS paper_title_trgm ON papers_paper "
    "USING gin (title gin_trgm_ops)",
}
INDEX_NAMES = {
    "rum": "paper_search_vector_rum",
    "gin": "paper_search_vector_gin",
    "title trigram": "paper_title_trgm",
}


def ensure_indexes(*, rebuild: bool = False, only=INDEXES) -> dict[str, float | None]:
    """Builds whichever search index is missing (all of them with `rebuild`), timed:
    {index: seconds, or None when it was already there}."""
    from django.db import connection

    timings = {}
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS rum")
        for name, sql in INDEXES.items():
            if name not in only:
                continue
            if rebuild:
                cursor.execute(f"DROP INDEX IF EXISTS {INDEX_NAMES[name]}")
            cursor.execute("SELECT to_regclass(%s)", [INDEX_NAMES[name]])
            if cursor.fetchone()[0] is not None:
                timings[name] = None
                continue
            print(f"  building the {name} index...", flush=True)
            started = time.perf_counter()
            cursor.execute(sql)
            timings[name] = time.perf_counter() - started
        cursor.execute("ANALYZE papers_paper")
    return timings


def index_sizes() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        sizes = {}
        for name, index in {**INDEX_NAMES, "table (heap)": "papers_paper"}.items():
            cursor.execute("SELECT pg_relation_size(%s)", [index])
            sizes[name] = cursor.fetchone()[0]
        return sizes


def fill(count: int) -> dict[str, float | None]:
    from django.core.management import call_command
    from django.db import connection

    from papers.models import Paper

    timings = {}
    if "papers_paper" in connection.introspection.table_names():
        # Before migrating: so the RUM build that migration 0007 would do is timed here.
        timings = ensure_indexes(only=["rum"])
    call_command("migrate", verbosity=0)
    have = Paper.objects.count()
    if have >= count:
        print(f"database already holds {have:,} papers")
        built = ensure_indexes()
        return {name: timings.get(name) or built[name] for name in built}
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
        # Building the indexes once at the end is several times faster than keeping
        # them current row by row.
        for index in INDEX_NAMES.values():
            cursor.execute(f"DROP INDEX IF EXISTS {index}")
        batch = 50_000
        started = time.perf_counter()
        for start in range(have + 1, count + 1, batch):
            stop = min(start + batch - 1, count)
            cursor.execute(FILL_SQL, {**params, "start": start, "stop": stop})
            done = stop / count
            elapsed = time.perf_counter() - started
            eta = elapsed / (stop - have) * (count - stop)
            print(f"  filled {stop:,}/{count:,} ({done:.0%}), ~{eta:.0f}s left", flush=True)
    return ensure_indexes()


@contextmanager
def index_path(path: str):
    """Inside: the database as a server with only the `path` index has it (the other
    full-text index dropped in a transaction that is rolled back afterwards)."""
    from django.db import connection, transaction

    from papers.search import search_index_path

    other = INDEX_NAMES["gin" if path == "rum" else "rum"]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX {other}")
        assert search_index_path() == path, search_index_path()
        yield
        transaction.set_rollback(True)


@contextmanager
def no_search_index():
    from django.db import connection, transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            for path in ("rum", "gin"):
                cursor.execute(f"DROP INDEX {INDEX_NAMES[path]}")
        yield
        transaction.set_rollback(True)


def _hot_updates() -> tuple[int, int]:
    """(rows updated, of which HOT) in papers_paper by this transaction so far: the
    transaction's own counters, which pg_stat_user_tables only shows after it ends."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_updated(%s::regclass),"
            " pg_stat_get_xact_tuples_hot_updated(%s::regclass)",
            ["papers_paper", "papers_paper"],
        )
        return cursor.fetchone()


def _wal_bytes() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')")
        return int(cursor.fetchone()[0])


def write_costs(words: list[str], papers: int = 200) -> dict[str, float]:
    """Milliseconds per paper: INSERT through the ORM (the trigger computes the vector),
    an UPDATE of the abstract, and the stars/has_code UPDATE an import or a GitHub
    refresh makes (papers_refresh_code_stats), of papers spread over the table and of
    consecutive papers (most rows of each page at once); with the kB of WAL an INSERT
    writes and the share of stars/has_code updates that were HOT. Run inside a
    transaction rolled back by the caller."""
    from django.db.models import F

    from papers.models import Paper

    rng = random.Random(11)

    def text(length: int) -> str:
        return " ".join(words[int(rng.random() ** 2.2 * len(words))] for _ in range(length))

    costs = {}
    wal = _wal_bytes()
    started = time.perf_counter()
    created = [
        Paper.objects.create(
            title=text(8).title() + f" {rng.random()}",
            slug=f"write-cost-{n}-{rng.random()}",
            abstract=text(70),
            authors=["Ada Lovelace", "Alan Turing"],
            status=Paper.Status.PUBLISHED,
        )
        for n in range(papers)
    ]
    costs["insert"] = (time.perf_counter() - started) * 1000 / papers
    costs["insert WAL kB"] = (_wal_bytes() - wal) / 1024 / papers
    started = time.perf_counter()
    for paper in created:
        paper.abstract = text(70)
        paper.save(update_fields=["abstract"])
    costs["update abstract"] = (time.perf_counter() - started) * 1000 / papers
    spread = list(Paper.objects.order_by("?").values_list("pk", flat=True)[: papers * 5])
    middle = Paper.objects.order_by("pk")[Paper.objects.count() // 2].pk
    for name, ids in (("", spread), (", consecutive", range(middle, middle + papers * 5))):
        updated, hot = _hot_updates()
        started = time.perf_counter()
        count = Paper.objects.filter(pk__in=ids).update(stars=F("stars") + 1, has_code=True)
        costs[f"update stars/has_code{name}"] = (time.perf_counter() - started) * 1000 / count
        after_updated, after_hot = _hot_updates()
        costs[f"HOT share{name}"] = (after_hot - hot) / max(after_updated - updated, 1)
    return costs


@contextmanager
def packed_pages():
    """Inside: papers_paper as before migration 0010, every page packed full (fillfactor
    100 and the table rewritten, in a transaction that is rolled back afterwards)."""
    from django.db import connection, transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE papers_paper SET (fillfactor = 100)")
            cursor.execute("CLUSTER papers_paper USING papers_paper_pkey")
        yield
        transaction.set_rollback(True)


def fillfactor() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'papers_paper'")
        options = dict(option.split("=") for option in cursor.fetchone()[0] or [])
        return int(options.get("fillfactor", 100))


def all_write_costs(words: list[str]) -> dict[str, dict[str, float]]:
    """write_costs on each path and without a full-text index, on the table as it is and
    packed full (the layout before migration 0010): {"<layout>, <path>": costs}."""
    writes = {}
    layouts = [(f"fillfactor {fillfactor()}", nullcontext)]
    if fillfactor() != 100:
        layouts.append(("fillfactor 100 (before)", packed_pages))
    for layout, context in layouts:
        print(f"measuring write costs, {layout}...", flush=True)
        with context():
            print(f"  table (heap) {index_sizes()['table (heap)'] / 2**20:.0f} MB", flush=True)
            for path in ("rum", "gin"):
                with index_path(path):
                    writes[f"{layout}, {path.upper()} path"] = write_costs(words)
            with no_search_index():
                writes[f"{layout}, no full-text index"] = write_costs(words)
    return writes


def attempt(fn):
    """fn()'s result, or "time limit" when the search gave up (SearchTooSlow)."""
    from papers.selectors import SearchTooSlow

    try:
        return fn()
    except SearchTooSlow:
        return "time limit"


def timed(fn, runs: int) -> list[float]:
    started = time.perf_counter()
    attempt(fn)  # warm the caches once, as a running site would be
    if time.perf_counter() - started > 1:
        runs = 5  # a query at the time limit: five runs tell as much as fifty
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
        "--rebuild-indexes", action="store_true", help="drop and time every index build"
    )
    parser.add_argument(
        "--writes-only", action="store_true", help="measure the write costs, not the queries"
    )
    args = parser.parse_args()

    ensure_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from papers.models import Paper
    from papers.selectors import paper_search, related_papers

    print(f"filling {args.database_url} up to {args.papers:,} papers", flush=True)
    builds = fill(args.papers)
    if args.rebuild_indexes:
        builds = ensure_indexes(rebuild=True)
    sizes = index_sizes()
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
        ("phrase of 2 common words", lambda: paper_search(query=f'"{words[8]} {words[1]}"')),
        (
            "phrase of 3 common words",
            lambda: paper_search(query=f'"{words[3]} {words[4]} {words[7]}"'),
        ),
        (
            "5-word natural-language query",
            lambda: paper_search(query=f"{words[7]} {words[9]} {words[8]} {words[2]} efficiently"),
        ),
        ("author name", lambda: paper_search(query="Lamport")),
        (
            "common word, has code, page 5",
            lambda: paper_search(query=words[1], has_code=True, page=5),
        ),
        ("misspelled title (trigram fallback)", lambda: paper_search(query="trnsformr atention")),
        ("hostile input", lambda: paper_search(query="') OR 1=1; -- & | ! <script>" * 5)),
        ("paper page: related by similar title", lambda: related_papers(any_paper)),
    ]
    figures: dict[str, dict[str, tuple]] = {}
    for path in () if args.writes_only else ("rum", "gin"):
        print(f"measuring the {path} path...", flush=True)
        with index_path(path):
            for name, fn in cases:
                samples = timed(fn, args.runs)
                figures.setdefault(name, {})[path] = (samples, shown(attempt(fn)))
    writes = all_write_costs(words)

    runs = f", {args.runs} runs per query (fewer past 1 s), times in ms" if figures else ""
    print(f"\n{total:,} papers{runs}")
    if figures:
        header = f"{'p50':>8} {'p95':>8} {'results':>8}  "
        print(f"{'case':<40} RUM{header[3:]} GIN{header[3:]}")
    for name, by_path in figures.items():
        row = f"{name:<40}"
        for path in ("rum", "gin"):
            samples, results = by_path[path]
            row += f" {statistics.median(samples):8.1f} {p95(samples):8.1f} {results:>8}  "
        print(row)
    print("\nindex sizes and build times")
    for name, size in sizes.items():
        built = builds.get(name)
        when = f"built in {built:.0f} s" if built is not None else "built in an earlier run"
        print(f"  {name:<16} {size / 2**20:8.0f} MB   {when if name in builds else ''}")
    print("\nwrite cost per paper, ms (WAL of an INSERT in kB; HOT: share of HOT updates)")
    print(
        f"{'layout, path':<44} {'insert':>7} {'WAL kB':>7} {'abstract':>9}"
        f" {'stars, spread':>14} {'HOT':>5} {'stars, consecutive':>19} {'HOT':>5}"
    )
    for path, costs in writes.items():
        print(
            f"{path:<44} {costs['insert']:7.2f} {costs['insert WAL kB']:7.1f}"
            f" {costs['update abstract']:9.2f} {costs['update stars/has_code']:14.2f}"
            f" {costs['HOT share']:5.0%} {costs['update stars/has_code, consecutive']:19.2f}"
            f" {costs['HOT share, consecutive']:5.0%}"
        )


def shown(result) -> str:
    if isinstance(result, str):
        return result
    papers = getattr(result, "papers", result if isinstance(result, list) else [1])
    if hasattr(result, "fuzzy") and not result.fuzzy:  # SearchResults: page size / count
        count = f"{result.count_limit}+" if result.count_exceeds_limit else result.count
        return f"{len(papers)}/{count}"
    return str(len(papers))


if __name__ == "__main__":
    main()
