"""The per-reader model itself: pure functions, no database."""

from digests import relevance

CORPUS = [
    "Sparse attention for long-context transformers: sparse attention patterns cut memory",
    "Quantization of large language models to 4 bits with little loss in quantization error",
    "Diffusion models for image generation with classifier-free guidance",
    "Graph neural networks for molecule property prediction on molecular graphs",
    "Reinforcement learning from human feedback for dialogue agents and reward models",
    "Speech recognition with self-supervised audio encoders for low-resource speech",
    "Sparse attention kernels on GPUs make long-context attention fast",
    "Diffusion transformers scale image generation to high resolution",
]


def _vectors():
    vocabulary = relevance.vocabulary_build(CORPUS, min_df=1)
    return vocabulary, [relevance.vectorise(text, vocabulary) for text in CORPUS]


def test_it_keeps_exactly_the_trending_order_for_a_reader_without_signals():
    _, vectors = _vectors()
    candidates = list(enumerate(vectors))

    ranked = relevance.rank(candidates, relevance.profile_train([]))

    assert [r.paper_id for r in ranked] == list(range(len(CORPUS)))
    assert all(r.reason == "" for r in ranked)


def test_it_lifts_papers_like_one_marked_more_like_this():
    _, vectors = _vectors()
    profile = relevance.profile_train([relevance.Example("more", "", vectors[0])])

    ranked = [r.paper_id for r in relevance.rank(list(enumerate(vectors)), profile)]

    # Paper 6 is about sparse attention too: it overtakes the unrelated papers that trended
    # a little more (4 and 5), not the far more trending ones.
    assert ranked.index(6) < ranked.index(4) < ranked.index(5)
    assert ranked[0] == 0


def test_it_sinks_papers_like_one_marked_less_like_this():
    _, vectors = _vectors()
    profile = relevance.profile_train([relevance.Example("less", "", vectors[2])])

    ranked = [r.paper_id for r in relevance.rank(list(enumerate(vectors)), profile)]

    # Both diffusion papers fall below every paper the reader said nothing against.
    assert ranked[-2:] == [2, 7] or ranked[-2:] == [7, 2]


def test_the_reader_order_moves_further_with_interests_first():
    _, vectors = _vectors()
    profile = relevance.profile_train([relevance.Example("more", "", vectors[6])])
    candidates = list(enumerate(vectors))

    trending_first = [r.paper_id for r in relevance.rank(candidates, profile, mode="trending")]
    interests_first = [r.paper_id for r in relevance.rank(candidates, profile, mode="interests")]

    assert interests_first.index(0) < trending_first.index(6) or interests_first[0] == 6
    assert interests_first.index(6) <= trending_first.index(6)


def test_it_says_which_saved_paper_a_suggestion_is_like():
    _, vectors = _vectors()
    profile = relevance.profile_train(
        [relevance.Example("saved", "Sparse attention for long-context transformers", vectors[0])]
    )

    ranked = {r.paper_id: r for r in relevance.rank(list(enumerate(vectors)), profile)}

    assert ranked[6].reason == "Because you saved Sparse attention for long-context transformers"
    assert ranked[3].reason == ""  # unrelated: no personal reason


def test_it_says_more_like_this_for_papers_like_the_marked_ones():
    _, vectors = _vectors()
    profile = relevance.profile_train([relevance.Example("more", "x", vectors[2])])

    ranked = {r.paper_id: r for r in relevance.rank(list(enumerate(vectors)), profile)}

    assert ranked[7].reason == "Like papers you marked More like this"


def test_it_names_matching_interests_when_no_single_paper_explains_it():
    vocabulary, vectors = _vectors()
    liked = relevance.vectorise("quantization quantization", vocabulary)
    profile = relevance.profile_train([relevance.Example("more", "", liked)])
    profile.anchors = []  # e.g. the anchors were trimmed: the terms still explain it

    ranked = {r.paper_id: r for r in relevance.rank(list(enumerate(vectors)), profile)}

    assert ranked[1].reason == "Matches your interests: quantization"


def test_terms_drop_stop_words_and_keep_bigrams():
    assert relevance.terms("The sparse attention of models") == [
        "sparse",
        "attention",
        "sparse attention",
    ]


def test_a_profile_survives_its_json_form():
    _, vectors = _vectors()
    profile = relevance.profile_train([relevance.Example("saved", "T", vectors[0])])

    again = relevance.ReaderProfile.from_json(profile.as_json())

    assert again.weights == profile.weights
    assert again.anchors == profile.anchors


def _reference_profile_train(examples, *, keep=relevance.READER_TERMS):
    """The formula of the module docstring written plainly, as it was before retraining was
    made fast: the fast profile_train must give exactly this model."""
    import heapq
    import math

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


def test_the_fast_training_gives_exactly_the_reference_model():
    import random

    rng = random.Random(11)
    words = [f"w{i}" for i in range(400)]
    texts = [" ".join(rng.choice(words) for _ in range(60)) for _ in range(300)]
    vocabulary = relevance.vocabulary_build(texts, min_df=1)
    vectors = [relevance.vectorise(text, vocabulary) for text in texts]
    kinds = ["saved", "imported", "more", "read", "topic", "less", "muted"]
    for reader in range(60):
        # Up to 40 examples: past READER_TERMS terms and ANCHORS anchors, and readers with
        # only topics (cold) or only negatives.
        count = rng.choice([0, 1, 2, 5, 12, 40])
        pool = kinds if reader % 5 else ["topic", "less", "muted"]
        examples = [
            relevance.Example(rng.choice(pool), f"Title {n}", rng.choice(vectors))
            for n in range(count)
        ]
        with_top = [
            relevance.Example(e.kind, e.title, e.vector, relevance.anchor_terms(e.vector))
            for e in examples
        ]

        expected = _reference_profile_train(examples).as_json()

        assert relevance.profile_train(examples).as_json() == expected
        assert relevance.profile_train(with_top).as_json() == expected
        assert relevance.profile_train(examples, keep=25).as_json() == (
            _reference_profile_train(examples, keep=25).as_json()
        )


def test_vectorise_gives_exactly_the_plain_tf_idf_vector():
    import math
    import random
    from collections import Counter

    def reference(text, vocabulary, keep=relevance.PAPER_TERMS):
        counts = Counter(relevance.terms(text))
        raw = {t: (1 + math.log(n)) * vocabulary.weight(t) for t, n in counts.items()}
        top = sorted(((t, v) for t, v in raw.items() if v > 0), key=lambda i: (-i[1], i[0]))
        top = top[:keep]
        norm = math.sqrt(sum(v * v for _, v in top)) or 1.0
        return {t: v / norm for t, v in top}

    rng = random.Random(5)
    words = [f"w{i}" for i in range(300)]
    texts = [" ".join(rng.choice(words) for _ in range(80)) for _ in range(200)]
    for vocabulary in (
        relevance.vocabulary_build(texts, min_df=3),
        relevance.Vocabulary(idf={}, documents=0),
    ):
        for text in texts[:50] + CORPUS + [""]:
            vector = relevance.vectorise(text, vocabulary)
            assert list(vector.items()) == list(reference(text, vocabulary).items())
