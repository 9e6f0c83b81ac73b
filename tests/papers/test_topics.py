from papers.topics import topics_for_categories


def test_it_maps_arxiv_categories_to_topics_once_each_in_order():
    assert topics_for_categories(["cs.LG", "cs.CV", "stat.ML", "eess.IV"]) == [
        ("machine-learning", "Machine learning"),
        ("computer-vision", "Computer vision"),
    ]


def test_it_ignores_unknown_and_malformed_categories():
    assert topics_for_categories(["math.CO", "", None, 42]) == []
    assert topics_for_categories(None) == []
