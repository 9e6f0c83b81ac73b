import pytest

from papers.identifiers import (
    InvalidIdentifier,
    extract_code_links,
    normalise_repository_url,
    parse_arxiv_id,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2401.01234", "2401.01234"),
        ("2401.01234v3", "2401.01234"),
        ("arXiv:1706.03762v7", "1706.03762"),
        ("https://arxiv.org/abs/2411.10440v2", "2411.10440"),
        ("http://arxiv.org/pdf/2411.10440v1.pdf", "2411.10440"),
        ("hep-th/9901001v2", "hep-th/9901001"),
        ("http://arxiv.org/abs/math.GT/0309136", "math.GT/0309136"),
    ],
)
def test_it_folds_every_spelling_of_an_arxiv_id_into_one(value, expected):
    assert parse_arxiv_id(value) == expected


@pytest.mark.parametrize("value", ["", "hello", "12345.678", "2401.123"])
def test_it_rejects_what_is_not_an_arxiv_id(value):
    with pytest.raises(InvalidIdentifier):
        parse_arxiv_id(value)


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/Microsoft/LoRA",
        "https://github.com/microsoft/LoRA.git",
        "https://github.com/microsoft/lora/",
        "http://www.github.com/microsoft/LoRA/tree/main/loralib",
        "github.com/microsoft/LoRA",
    ],
)
def test_it_normalises_repository_urls_to_one_spelling(url):
    normalised, owner, name = normalise_repository_url(url)

    assert normalised == "https://github.com/microsoft/lora"
    assert (owner.lower(), name.lower()) == ("microsoft", "lora")


def test_it_keeps_owner_and_name_as_written():
    assert normalise_repository_url("https://github.com/OpenAI/CLIP.git") == (
        "https://github.com/openai/clip",
        "OpenAI",
        "CLIP",
    )


@pytest.mark.parametrize(
    "url",
    ["https://example.org/a/b", "https://github.com/onlyowner", "https://layout-parser.github.io/"],
)
def test_it_rejects_urls_that_are_not_repositories(url):
    with pytest.raises(InvalidIdentifier):
        normalise_repository_url(url)


def test_it_extracts_code_links_as_authors_write_them_in_abstracts():
    # Real phrasings from the sample page: sentence full stops, deep paths, LaTeX debris,
    # `www.`, project pages on github.io (not repositories), and the same repo twice.
    abstract = (
        "Our code is available at https://github.com/ad12/meddlr. "
        "See https://github.com/tensorflow/tpu/tree/master/models/official/efficientnet/condconv. "
        "Code: https://www.github.com/princeton-vl/selfstudy{github.com/princeton-vl/selfstudy}. "
        "Project page: https://layout-parser.github.io/. Also gitlab.com/group/Tool.git, "
        "and again https://github.com/AD12/meddlr/."
    )

    assert extract_code_links(abstract) == [
        "https://github.com/ad12/meddlr",
        "https://github.com/tensorflow/tpu",
        "https://github.com/princeton-vl/selfstudy",
        "https://gitlab.com/group/tool",
    ]


def test_it_finds_no_code_links_in_plain_text():
    assert extract_code_links("We study github and code availability.") == []
