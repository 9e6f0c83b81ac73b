import pytest

from papers.identifiers import (
    InvalidIdentifier,
    canonical_arxiv_url,
    extract_code_links,
    http_url,
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


@pytest.mark.parametrize(
    ("abstract", "expected"),
    [
        ("Code: GitLab.COM/Group/Tool.", "https://gitlab.com/group/tool"),
        ("Code at HTTPS://GITHUB.COM/Owner/Repo", "https://github.com/owner/repo"),
    ],
)
def test_it_extracts_a_lone_code_link_in_any_letter_case(abstract, expected):
    assert extract_code_links(abstract) == [expected]


def test_it_finds_no_code_links_in_plain_text():
    assert extract_code_links("We study github and code availability.") == []


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(document.domain)",
        "JAVASCRIPT:alert(1)",
        "jAvAsCrIpT:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        " javascript:alert(1)",
        "\tjavascript:alert(1)",
        "\x00javascript:alert(1)",
        "\x1fhttps://example.org",
        "https://exa\x00mple.org",
        "https://example.org/a b",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "//example.org",
        "https://",
        "https:/example.org",
        "http:\\\\example.org",
        "",
        None,
    ],
)
def test_it_refuses_every_link_that_is_not_http_or_https(value):
    with pytest.raises(InvalidIdentifier):
        http_url(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.org/a?b=c#d", "https://example.org/a?b=c#d"),
        ("HTTP://Example.org/A", "http://Example.org/A"),
        ("https://arxiv.org/abs/2401.01234", "https://arxiv.org/abs/2401.01234"),
    ],
)
def test_it_keeps_http_and_https_links(value, expected):
    assert http_url(value) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://arxiv.org/abs/1706.03762v7", "https://arxiv.org/abs/1706.03762"),
        ("http://arxiv.org/pdf/1706.03762v4.pdf", "https://arxiv.org/pdf/1706.03762"),
        ("https://arxiv.org/pdf/1706.03762", "https://arxiv.org/pdf/1706.03762"),
        ("http://arxiv.org/abs/astro-ph/0601001v1", "https://arxiv.org/abs/astro-ph/0601001"),
        ("http://arxiv.org/pdf/astro-ph/0601001v1", "https://arxiv.org/pdf/astro-ph/0601001"),
        ("http://arxiv.org/abs/math.GT/0309136v2", "https://arxiv.org/abs/math.GT/0309136"),
        ("http://export.arxiv.org/abs/2401.01234v2", "https://arxiv.org/abs/2401.01234"),
        ("https://www.arxiv.org/abs/2401.01234", "https://arxiv.org/abs/2401.01234"),
        (
            "https://openreview.net/forum?id=2401.01234v2",
            "https://openreview.net/forum?id=2401.01234v2",
        ),
        ("https://arxiv.org/list/cs.LG/recent", "https://arxiv.org/list/cs.LG/recent"),
    ],
)
def test_it_spells_every_arxiv_link_one_canonical_way(url, expected):
    assert canonical_arxiv_url(url) == expected
