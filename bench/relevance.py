"""Does the per-reader model help? Simulated readers give honest feedback for 14 days.

    .venv/bin/python bench/relevance.py [--papers 20000] [--readers 400] [--seed 7]

A synthetic corpus with topical vocabulary: 40 fine topics (each with its own words) in
8 site topics, papers of one or two fine topics whose titles and abstracts mix topic words
with general ones, and a trending score independent of topic. Each simulated day brings
the day's papers; an edition keeps the 100 most trending. Every reader has 1-3 hidden
fine interests and chooses the site topics that contain them. Each day a reader is shown
10 papers and marks each More like this (if it matches a hidden interest) or Less like
this (if not), each with probability 0.6, as busy people do.

It reports precision@10 and nDCG@10 on days 0, 3, 7 and 14 for three orders in the same
run: trending alone, trending plus the topic filters, and Paperboy's model (the topic
filters plus digests.relevance, the code the send uses). Target on day 7: precision@10 at
least 2x trending alone and 1.3x the topic filters.
"""

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digests import relevance  # pure module: no Django setup needed

FINE_TOPICS = 40
SITE_TOPICS = 8
DAYS = 15  # days 0..14
CANDIDATES = 100
SHOWN = 10
REPORT_DAYS = (0, 3, 7, 14)


def _word(rng: random.Random) -> str:
    syllables = ["ka", "lo", "mi", "ra", "tu", "ve", "zen", "pol", "dri", "qua", "sor", "nex"]
    return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))


def corpus(rng: random.Random, papers: int):
    general = list({_word(rng) for _ in range(900)})[:600]
    topic_words = [[_word(rng) + "x" for _ in range(30)] for _ in range(FINE_TOPICS)]
    rows = []
    for pk in range(papers):
        fine = {rng.randrange(FINE_TOPICS)}
        if rng.random() < 0.25:
            fine.add(rng.randrange(FINE_TOPICS))
        vocab = [w for t in fine for w in topic_words[t]]

        def text(n, share, vocab=vocab):
            return " ".join(
                rng.choice(vocab) if rng.random() < share else rng.choice(general) for _ in range(n)
            )

        rows.append(
            {
                "id": pk,
                "day": pk * DAYS // papers,
                "fine": frozenset(fine),
                "site": frozenset(t % SITE_TOPICS for t in fine),
                "text": text(rng.randint(6, 10), 0.5) + "\n" + text(rng.randint(80, 120), 0.3),
                "trend": rng.lognormvariate(0, 1),
            }
        )
    return rows


def ndcg(relevant_flags: list[bool], ideal_count: int) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, rel in enumerate(relevant_flags) if rel)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(SHOWN, ideal_count)))
    return dcg / ideal if ideal else 0.0


def run(args) -> dict:
    rng = random.Random(args.seed)
    started = time.perf_counter()
    papers = corpus(rng, args.papers)
    vocabulary = relevance.vocabulary_build(p["text"] for p in papers)
    vectors = {p["id"]: relevance.vectorise(p["text"], vocabulary) for p in papers}
    print(
        f"corpus: {len(papers):,} papers, vocabulary {len(vocabulary.idf):,} terms, "
        f"{time.perf_counter() - started:.1f} s"
    )
    readers = []
    for _ in range(args.readers):
        interests = frozenset(rng.sample(range(FINE_TOPICS), rng.randint(1, 3)))
        readers.append(
            {
                "interests": interests,
                "site_topics": frozenset(t % SITE_TOPICS for t in interests),
                "examples": [],
                "seen": set(),
            }
        )
    results = {m: {d: ([], []) for d in REPORT_DAYS} for m in ("trending", "filters", "model")}
    train_seconds = 0.0
    trainings = 0
    for day in range(DAYS):
        today = sorted((p for p in papers if p["day"] == day), key=lambda p: -p["trend"])
        candidates = today[:CANDIDATES]
        for reader in readers:
            relevant = [bool(p["fine"] & reader["interests"]) for p in candidates]
            filtered = [p for p in candidates if p["site"] & reader["site_topics"]]
            t0 = time.process_time()  # CPU time: a busy machine does not inflate it
            profile = relevance.profile_train(reader["examples"])
            train_seconds += time.process_time() - t0
            trainings += 1
            ranked = relevance.rank([(p["id"], vectors[p["id"]]) for p in filtered], profile)
            by_id = {p["id"]: p for p in filtered}
            orders = {
                "trending": candidates[:SHOWN],
                "filters": filtered[:SHOWN],
                "model": [by_id[r.paper_id] for r in ranked[:SHOWN]],
            }
            ideal = sum(relevant)
            if day in REPORT_DAYS:
                for method, shown in orders.items():
                    flags = [bool(p["fine"] & reader["interests"]) for p in shown]
                    results[method][day][0].append(sum(flags) / SHOWN)
                    results[method][day][1].append(ndcg(flags, ideal))
            for paper in orders["model"]:  # honest feedback on what the digest showed
                if rng.random() < 0.6:
                    liked = bool(paper["fine"] & reader["interests"])
                    reader["examples"].append(
                        relevance.Example(
                            "more" if liked else "less", str(paper["id"]), vectors[paper["id"]]
                        )
                    )
    print(
        f"model training: {trainings:,} trainings, {1e6 * train_seconds / trainings:.0f} µs "
        f"CPU each (up to {DAYS * SHOWN} examples per reader)"
    )
    print()
    print(f"{'day':>4} | {'precision@10':^32} | {'nDCG@10':^32}")
    print(
        f"{'':>4} | {'trending':>10} {'filters':>10} {'model':>10} | "
        f"{'trending':>10} {'filters':>10} {'model':>10}"
    )
    summary = {}
    for day in REPORT_DAYS:
        p = {m: statistics.mean(results[m][day][0]) for m in results}
        n = {m: statistics.mean(results[m][day][1]) for m in results}
        summary[day] = (p, n)
        print(
            f"{day:>4} | {p['trending']:>10.3f} {p['filters']:>10.3f} {p['model']:>10.3f} | "
            f"{n['trending']:>10.3f} {n['filters']:>10.3f} {n['model']:>10.3f}"
        )
    p7 = summary[7][0]
    print()
    print(
        f"day 7: model/trending = {p7['model'] / p7['trending']:.2f}x (target 2x), "
        f"model/filters = {p7['model'] / p7['filters']:.2f}x (target 1.3x)"
    )
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=20000)
    parser.add_argument("--readers", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
