"""Personal relevance: a small linear model per reader over TF-IDF terms.

The approach of arxiv-sanity-lite, made cheap enough to keep for every reader:

* A paper is a sparse TF-IDF vector of its title and abstract: unigrams and bigrams,
  sublinear term frequency (1 + ln tf), the inverse document frequency of a vocabulary
  built from recent papers, L2-normalised, cut to its `PAPER_TERMS` heaviest terms.
* A reader's model is a Rocchio classifier, linear in those vectors:

      w = mean(saved, imported, More) + ½·mean(chosen topics) - ¾·mean(Less, muted)

  cut to its `READER_TERMS` heaviest terms (by absolute weight). Relevance of a paper is
  w · x, between -1 and 1. Positive examples also keep a few "anchors" (their title and
  top terms) so a digest can say *why*: "Because you saved <title>".
* The digest blends the two orders. With t = 1 - position / n (the trending order) and
  r = relevance / max |relevance| over the candidates, a paper scores (1 - a)·t + a·r,
  where a (alpha) is the reader's choice: trending first 0.25, balanced 0.5, interests first 0.8.
  A reader with no signals has no model, and their order is exactly the trending order.

Nothing here touches the database: `digests.services.reader` feeds it.
"""

import heapq
import itertools
import math
import operator
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

PAPER_TERMS = 40
READER_TERMS = 300
ANCHORS = 12
ANCHOR_TERMS = 20
# An anchor explains a paper when their vectors share at least this much (cosine).
ANCHOR_MIN_SIMILARITY = 0.12

SMALL_CORPUS = 1000

MODES = {"trending": 0.25, "balanced": 0.5, "interests": 0.8}

_WORD = re.compile(r"[a-z][a-z0-9]+(?:-[a-z0-9]+)*")
STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "across",
        "after",
        "again",
        "against",
        "all",
        "almost",
        "also",
        "although",
        "always",
        "among",
        "an",
        "and",
        "another",
        "any",
        "are",
        "around",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "done",
        "due",
        "during",
        "each",
        "either",
        "else",
        "enough",
        "etc",
        "even",
        "ever",
        "every",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "here",
        "how",
        "however",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "least",
        "less",
        "like",
        "made",
        "make",
        "many",
        "may",
        "more",
        "most",
        "much",
        "must",
        "new",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "often",
        "on",
        "once",
        "one",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "own",
        "paper",
        "papers",
        "per",
        "propose",
        "proposed",
        "rather",
        "same",
        "see",
        "several",
        "should",
        "show",
        "shown",
        "shows",
        "since",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "thus",
        "to",
        "too",
        "two",
        "under",
        "until",
        "up",
        "upon",
        "us",
        "use",
        "used",
        "uses",
        "using",
        "very",
        "via",
        "was",
        "we",
        "well",
        "were",
        "what",
        "when",
        "where",
        "whether",
        "which",
        "while",
        "who",
        "whose",
        "why",
        "will",
        "with",
        "within",
        "without",
        "would",
        "yet",
        "you",
        "your",
        "approach",
        "method",
        "methods",
        "results",
        "result",
        "based",
        "model",
        "models",
        "task",
        "tasks",
        "work",
        "study",
        "novel",
        "first",
        "existing",
        "present",
        "presents",
        "various",
        "different",
        "however",
        "achieve",
        "achieves",
        "achieving",
        "state",
        "art",
    ]
)


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall((text or "").lower()) if len(w) > 2 and w not in STOP_WORDS]


def terms(text: str) -> list[str]:
    """Unigrams and adjacent bigrams ("sparse attention") of a title and abstract."""
    tokens = words(text)
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


@dataclass(frozen=True)
class Vocabulary:
    """Inverse document frequencies; a term it does not know counts as rare."""

    idf: dict[str, float]
    documents: int

    def weight(self, term: str) -> float:
        """The term's idf; 0 for a term seen in fewer than `min_df` papers (a typo, a
        one-off bigram): such terms say nothing about what else a reader will like."""
        return self.idf.get(term, 0.0) if self.idf else 1.0


def vocabulary_build(texts: Iterable[str], *, min_df: int = 2, max_terms: int = 60000):
    """The vocabulary of a corpus: terms in at least `min_df` documents, most frequent kept.

    A small corpus (a first run's sample papers) keeps every term: there, a term seen once
    is not noise but most of what there is.
    """
    df: Counter = Counter()
    documents = 0
    for text in texts:
        documents += 1
        df.update(set(terms(text)))
    if documents < SMALL_CORPUS:
        min_df = 1
    common = [(t, n) for t, n in df.items() if n >= min_df]
    common.sort(key=lambda item: (-item[1], item[0]))
    idf = {t: math.log((1 + documents) / (1 + n)) + 1 for t, n in common[:max_terms]}
    return Vocabulary(idf=idf, documents=documents)


Vector = dict[str, float]


def vectorise(text: str, vocabulary: Vocabulary, *, keep: int = PAPER_TERMS) -> Vector:
    counts = Counter(terms(text))
    if vocabulary.idf:
        # vocabulary.weight inlined: this runs for every paper of every vocabulary.
        get, log = vocabulary.idf.get, math.log
        raw = [(t, (1 + log(n)) * w) for t, n in counts.items() if (w := get(t, 0.0)) > 0]
    else:
        raw = [(t, 1 + math.log(n)) for t, n in counts.items()]
    top = sorted(raw, key=lambda i: (-i[1], i[0]))[:keep]
    norm = math.sqrt(sum(v * v for _, v in top)) or 1.0
    return {t: v / norm for t, v in top}


def dot(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    # Terms missing from b add nothing (x + 0.0 == x): skipping them keeps the same sum.
    return sum([v * b[t] for t, v in a.items() if t in b])


class Index:
    """Candidates' vectors by term: a reader's relevance to every candidate in one pass
    over the reader's terms, instead of a dot product per candidate (the send ranks the
    same edition for every reader of a chunk)."""

    def __init__(self, candidates: Sequence[tuple[int, Vector]]):
        self.position = {pk: index for index, (pk, _) in enumerate(candidates)}
        postings: dict[str, list] = {}
        for index, (_, vector) in enumerate(candidates):
            for t, v in vector.items():
                postings.setdefault(t, []).append((index, v))
        self.postings = postings

    def relevance(self, weights: Vector) -> list[float]:
        """w · x for every candidate, in the index's order."""
        scores = [0.0] * len(self.position)
        postings = self.postings
        for t, w in weights.items():
            hits = postings.get(t)
            if hits:
                for index, v in hits:
                    scores[index] += w * v
        return scores


@dataclass(frozen=True)
class Example:
    """One training document: what kind of signal, a title for reasons, its vector."""

    kind: str  # "saved", "imported", "more", "read", "topic", "less", "muted"
    title: str
    vector: Vector
    # The vector's ANCHOR_TERMS heaviest terms, when the caller already has them (the
    # retraining of many readers computes them once per paper, not once per reader).
    top: Vector | None = None


POSITIVE = {"saved", "imported", "more", "read"}
NEGATIVE = {"less", "muted"}


@dataclass
class ReaderProfile:
    weights: Vector = field(default_factory=dict)
    anchors: list[dict] = field(default_factory=list)  # {"kind", "title", "terms"}
    signals: int = 0

    def is_cold(self) -> bool:
        return not self.weights

    def as_json(self) -> dict:
        return {"weights": self.weights, "anchors": self.anchors, "signals": self.signals}

    @classmethod
    def from_json(cls, data: dict | None) -> "ReaderProfile":
        data = data or {}
        return cls(
            weights={str(k): float(v) for k, v in (data.get("weights") or {}).items()},
            anchors=list(data.get("anchors") or []),
            signals=int(data.get("signals") or 0),
        )


def _mean(vectors: Sequence[Vector]) -> Vector:
    """A new dict: the mean of `vectors`, summed in their order (so the figures are the
    same to the last bit whichever way a caller reaches them)."""
    if not vectors:
        return {}
    total = dict(vectors[0])
    if len(vectors) == 1:
        return total  # v / 1 is v
    get = total.get
    for vector in vectors[1:]:
        for t, v in vector.items():
            total[t] = get(t, 0.0) + v
    n = len(vectors)
    return {t: v / n for t, v in total.items()}


def _heaviest(weights: Vector, keep: int) -> tuple[Iterable[tuple[str, float]], float]:
    """The `keep` terms of largest |weight| (ties: the earlier term, as heapq.nlargest
    keeps them) and the L2 norm of their weights, summed heaviest first.

    Sorts the bare magnitudes (in C) rather than the items by a Python key: the same
    selection and the same norm to the last bit, in a fraction of the time."""
    magnitudes = sorted(map(abs, weights.values()), reverse=True)
    kept = magnitudes[:keep]
    # Equal magnitudes have equal squares, so the order among ties cannot change the sum.
    norm = math.sqrt(sum(map(operator.mul, kept, kept))) or 1.0
    if len(magnitudes) <= keep:
        return weights.items(), norm
    cut = kept[-1]
    ties = keep - magnitudes.index(cut)  # places left for terms at the cut
    if ties == magnitudes.count(cut):  # every term at the cut is kept: no tie to break
        return ((t, v) for t, v in weights.items() if abs(v) >= cut), norm
    top = []
    for t, v in weights.items():
        m = abs(v)
        if m > cut:
            top.append((t, v))
        elif m == cut and ties:
            top.append((t, v))
            ties -= 1
    return top, norm


def profile_train(examples: Sequence[Example], *, keep: int = READER_TERMS) -> ReaderProfile:
    """A reader's linear model from their examples (see the module docstring).

    Runs once per reader and night, so it avoids work rather than restating the formula
    (tests/digests/test_relevance.py holds the plain version it must equal exactly):
    1·mean(positives) is the mean itself, and the heaviest terms are found by magnitude.
    """
    positives, topics, negatives = [], [], []
    for e in examples:
        if e.kind in POSITIVE:
            positives.append(e)
        elif e.kind in NEGATIVE:
            negatives.append(e.vector)
        elif e.kind == "topic":
            topics.append(e.vector)
    if not (positives or negatives):
        # Chosen topics alone are already a filter; they do not reorder anything.
        return ReaderProfile(signals=0)
    weights = _mean([e.vector for e in positives])
    get = weights.get
    for t, v in _mean(topics).items():
        weights[t] = get(t, 0.0) + 0.5 * v
    for t, v in _mean(negatives).items():
        weights[t] = get(t, 0.0) - 0.75 * v
    top, norm = _heaviest(weights, keep)
    anchors = [  # newest first: the freshest reason wins
        {
            "kind": e.kind,
            "title": e.title[:200],
            "terms": e.top if e.top is not None else anchor_terms(e.vector),
        }
        for e in positives[::-1][:ANCHORS]
    ]
    return ReaderProfile(
        weights={t: round(v / norm, 5) for t, v in top if v},
        anchors=anchors,
        signals=len(positives) + len(negatives),
    )


def anchor_terms(vector: Vector) -> Vector:
    """The ANCHOR_TERMS heaviest terms of a positive example: what an anchor keeps."""
    return dict(heapq.nlargest(ANCHOR_TERMS, vector.items(), key=lambda i: i[1]))


@dataclass(frozen=True)
class Ranked:
    paper_id: int
    relevance: float  # w · x, in [-1, 1]; 0 for a cold reader
    reason: str  # "" when trending alone placed it


def rank(
    candidates: Sequence[tuple[int, Vector]],
    profile: ReaderProfile | None,
    *,
    mode: str = "balanced",
    limit: int | None = None,
    index: Index | None = None,
) -> list[Ranked]:
    """Candidates (in trending order) reordered for one reader, with personal reasons;
    the first `limit` only, when given (a reason costs more than ranking: the send asks
    for those it shows). `index`: an Index of these candidates or more, built once for
    many readers.

    A cold reader gets exactly the trending order.
    """
    if profile is None or profile.is_cold():
        return [Ranked(pk, 0.0, "") for pk, _ in candidates][:limit]
    alpha = MODES.get(mode, MODES["balanced"])
    # `index` may hold more candidates than these (the whole edition): the same sums.
    index = index or Index(candidates)
    scores = index.relevance(profile.weights)
    relevance = [scores[index.position[pk]] for pk, _ in candidates]
    top = max((abs(r) for r in relevance), default=0.0) or 1.0
    n = len(candidates)
    scored = []
    for position, ((pk, vector), r) in enumerate(zip(candidates, relevance, strict=True)):
        blended = (1 - alpha) * (1 - position / n) + alpha * (r / top)
        scored.append((-blended, position, pk, r, vector))
    scored.sort()  # by (-blended, position): positions differ, so nothing further is compared
    return [Ranked(pk, r, reason_for(vector, r, profile)) for _, _, pk, r, vector in scored[:limit]]


def reason_for(vector: Vector, relevance: float, profile: ReaderProfile) -> str:
    """Why a paper suits this reader, in words; "" when it does not particularly."""
    if relevance <= 0:
        return ""
    best, best_score = None, ANCHOR_MIN_SIMILARITY
    for anchor in profile.anchors:
        score = dot(anchor["terms"], vector)
        if score > best_score:
            best, best_score = anchor, score
    if best is not None:
        if best["kind"] == "more":
            return "Like papers you marked More like this"
        if best["kind"] == "read":
            return "Like papers you read from your feed"
        return f"Because you saved {best['title']}"
    shared = sorted(
        ((profile.weights[t] * v, t) for t, v in vector.items() if profile.weights.get(t, 0) > 0),
        reverse=True,
    )
    names = []
    for _, t in shared:
        if not any(t in other or other in t for other in names):
            names.append(t)
        if len(names) == 3:
            break
    return f"Matches your interests: {', '.join(names)}" if names else ""
