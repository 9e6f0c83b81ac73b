"""Each input format, read from real-shaped files (tests/papers/data), broken ones included."""

from datetime import date
from pathlib import Path

import pytest

from papers.importers import Source, UnreadableFile, detect_format, read
from papers.importers.base import PaperRecord, Skip

DATA = Path(__file__).parent / "data"


def _read(name, fmt="auto"):
    with Source(DATA / name) as source:
        items = list(read(source, fmt))
    return [i for i in items if isinstance(i, PaperRecord)], [
        i for i in items if isinstance(i, Skip)
    ]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("papers.jsonl", "jsonl"),
        ("papers-with-abstracts.json.gz", "pwc"),
        ("links-between-papers-and-code.json.gz", "pwc"),
        ("links-between-papers-and-code.json", "pwc"),
        ("arxiv_query.atom", "arxiv"),
        ("hf_daily_papers.json", "hf"),
        ("search_page.txt", "searchpage"),
    ],
)
def test_it_detects_each_format_from_the_content(name, fmt):
    with Source(DATA / name) as source:
        assert detect_format(source) == fmt


def test_it_reads_the_projects_jsonl_and_reports_each_bad_line_by_number():
    records, skips = _read("papers.jsonl")

    lora = records[0]
    assert lora.arxiv_id == "2106.09685"  # the version suffix folded away
    assert lora.authors == ["Edward J. Hu", "Yelong Shen"]
    assert lora.published_on == date(2021, 6, 17)
    assert lora.topics == [("nlp", "Nlp"), ("efficient-training", "Efficient training")]
    assert [(r.url, r.framework, r.stars) for r in lora.repositories] == [
        ("https://github.com/huggingface/peft", "pytorch", 16000)
    ]
    assert (
        records[1].title
        == "Titles with $\\mathcal{O}(n)$ LaTeX and <b>markup</b> are kept as given"
    )
    assert [(s.location, s.reason) for s in skips] == [
        ("papers.jsonl:4", "not valid JSON (Expecting value)"),
        ("papers.jsonl:5", "no title"),
        ("papers.jsonl:6", "published 'yesterday' is not a date (YYYY-MM-DD)"),
        ("papers.jsonl:8", "not a JSON object"),
        ("papers.jsonl:9", "unknown field(s): colour"),
    ]


def test_it_reads_the_papers_with_code_papers_dump_gzipped():
    records, skips = _read("papers-with-abstracts.json.gz")

    assert [r.title for r in records] == [
        "Attention Is All You Need",
        "Deep Residual Learning for Image Recognition",
    ]
    attention = records[0]
    assert attention.arxiv_id == "1706.03762"
    # Stored canonical: https, no version, no ".pdf", whatever the dump wrote.
    assert attention.abstract_url == "https://arxiv.org/abs/1706.03762"
    assert attention.pdf_url == "https://arxiv.org/pdf/1706.03762"
    assert attention.published_on == date(2017, 6, 12)
    assert attention.authors[:2] == ["Ashish Vaswani", "Noam Shazeer"]
    assert [(s.location, s.reason) for s in skips] == [
        ("papers-with-abstracts.json.gz:63: entry 3", "no title"),
        (
            "papers-with-abstracts.json.gz:76: entry 4",
            "date '12/10/2015' is not a date (YYYY-MM-DD)",
        ),
    ]


def test_it_reads_the_papers_with_code_links_dump():
    records, skips = _read("links-between-papers-and-code.json.gz")

    assert all(r.links_only for r in records)
    assert [
        (
            r.arxiv_id,
            r.repositories[0].url,
            r.repositories[0].is_official,
            r.repositories[0].framework,
        )
        for r in records
    ] == [
        ("1706.03762", "https://github.com/tensorflow/tensor2tensor", True, "tf"),
        (
            "1706.03762",
            "https://github.com/jadore801120/attention-is-all-you-need-pytorch",
            False,
            "pytorch",
        ),
        ("1512.03385", "https://github.com/kaiminghe/deep-residual-networks", True, ""),
        (None, "https://github.com/someone/something", False, ""),
    ]
    assert [s.location for s in skips] == ["links-between-papers-and-code.json.gz:50: entry 5"]


def test_it_reads_arxiv_api_atom_with_versions_folded_and_code_in_comments():
    records, skips = _read("arxiv_query.atom")

    assert skips == []
    assert [r.arxiv_id for r in records] == ["1706.03762", "2411.10440", "2106.09685"]
    llava = records[1]
    assert llava.title == "LLaVA-CoT: Let Vision Language Models Reason Step-by-Step"
    assert llava.abstract.startswith("Large language models have demonstrated substantial")
    assert "\n" not in llava.abstract
    assert llava.categories == ["cs.CV", "cs.CL"]
    assert llava.published_on == date(2024, 11, 15)
    assert llava.updated_on == date(2024, 11, 19)
    assert llava.abstract_url == "https://arxiv.org/abs/2411.10440"
    assert llava.pdf_url == "https://arxiv.org/pdf/2411.10440"
    assert "github.com/PKU-YuanGroup/LLaVA-CoT" in llava.code_text
    assert records[2].doi == "10.48550/arXiv.2106.09685"
    assert records[0].categories[0] == "cs.CL"  # the primary category first


def test_it_reports_arxiv_error_entries_as_skips():
    records, skips = _read("arxiv_id_list_with_error.atom")

    assert [r.arxiv_id for r in records] == ["2106.09685"]
    assert skips[0].location == "arxiv_id_list_with_error.atom: entry 2"
    assert "incorrect id format for 1234.56789" in skips[0].reason


def test_it_reads_hugging_face_daily_papers_with_their_github_repo():
    records, skips = _read("hf_daily_papers.json")

    assert [r.arxiv_id for r in records] == ["2411.10440", "2411.11504"]
    first = records[0]
    assert first.authors == ["Guowei Xu", "Peng Jin"]
    assert first.published_on == date(2024, 11, 15)
    assert first.abstract_url == "https://arxiv.org/abs/2411.10440"
    assert [(r.url, r.is_official, r.stars) for r in first.repositories] == [
        ("https://github.com/pku-yuangroup/llava-cot", True, 1853)
    ]
    assert records[1].repositories == []
    assert [(s.location, s.reason) for s in skips] == [
        ("hf_daily_papers.json:44: entry 3", "no 'paper' object")
    ]


def test_it_reads_the_saved_search_page_and_survives_a_lost_line():
    records, skips = _read("search_page.txt")

    assert [r.title[:25] for r in records] == [
        "Noise2Recon: Enabling Joi",  # the Subscribe button text is not part of the title
        "WELL: Applying Bug Detect",
        "Weakly Supervised Lesion ",
        "Superposed Episodic and S",
    ]
    assert records[0].abstract.startswith("Deep learning (DL) has shown promise")
    assert [(s.location, s.reason) for s in skips] == [
        ("search_page.txt:9", "a title line without an abstract line"),
        ("search_page.txt:12", "a title line without an abstract line"),
    ]


@pytest.mark.parametrize(
    ("name", "fmt", "message"),
    [
        ("arxiv_truncated.atom", "arxiv", "not well-formed XML"),
        ("hf_truncated.json", "hf", "entry 1 is not valid JSON"),
        ("papers.jsonl", "hf", "not a JSON array"),
    ],
)
def test_it_reports_a_broken_file_as_unreadable(name, fmt, message):
    with Source(DATA / name) as source, pytest.raises(UnreadableFile, match=message):
        list(read(source, fmt))


def test_it_reports_a_missing_file_as_unreadable(tmp_path):
    with pytest.raises(UnreadableFile, match="No such file"):
        Source(tmp_path / "missing.jsonl")


def test_it_refuses_a_json_document_that_is_not_json_lines():
    with (
        Source(DATA / "github_repo_microsoft_lora.json") as source,
        pytest.raises(UnreadableFile, match="not JSON Lines"),
    ):
        detect_format(source)


def test_it_refuses_to_guess_an_unknown_format(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Just some notes\n")
    with Source(path) as source, pytest.raises(UnreadableFile, match="unknown format"):
        detect_format(source)


def test_it_streams_a_large_json_array_across_read_chunks(tmp_path):
    # Entries straddle the reader's 1 MiB chunks, with multi-byte characters at the edges.
    import json

    entries = [
        {"paper": {"id": f"2411.{n:05d}", "title": f"Über paper {n} " + "é" * 300}}
        for n in range(8000)
    ]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(entries, ensure_ascii=False))

    records, skips = _read(path, "hf")

    assert skips == []
    assert len(records) == 8000
    assert records[-1].arxiv_id == "2411.07999"
    assert records[4321].title.startswith("Über paper 4321 éé")
