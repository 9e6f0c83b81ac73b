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
