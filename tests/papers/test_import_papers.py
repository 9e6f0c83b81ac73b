"""The import_papers command and the upsert behind it: idempotency, merging, code links."""

import gzip
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from papers.models import Paper, PaperRepository, Repository, StarSnapshot, Topic
from papers.services import papers_import
from tests.factories import PaperFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"


def _run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_papers", *map(str, args), "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _snapshot():
    """Everything an import writes, to compare two imports."""
    return (
        list(Paper.objects.order_by("pk").values()),
        list(Repository.objects.order_by("pk").values()),
        list(PaperRepository.objects.order_by("pk").values()),
        list(Topic.objects.order_by("pk").values()),
        StarSnapshot.objects.count(),
    )


def test_it_imports_jsonl_and_prints_a_summary_with_reasons():
    out, err = _run(DATA / "papers.jsonl")

    assert "3 created, 0 updated, 0 unchanged, 5 skipped" in out
    assert "skipped 1: no title" in out
    assert "skipped papers.jsonl:4: not valid JSON (Expecting value)" in err
    # A code link that is not a repository is dropped and reported; the paper stays.
    assert "1 bad field(s) dropped" in out
    assert "bad field papers.jsonl:7: code link dropped: 'https://example.org/not/a/repo'" in err
    assert not Paper.objects.get(title="Bad repo").has_code
    lora = Paper.objects.get(arxiv_id="2106.09685")
    assert lora.status == Paper.Status.PUBLISHED
    assert lora.slug == "lora-low-rank-adaptation-of-large-language-models"
    assert sorted(lora.topics.values_list("slug", flat=True)) == ["efficient-training", "nlp"]
    # The repository listed in the record and the one written in the abstract.
    assert {(link.repository.url, link.is_official) for link in lora.code_links.all()} == {
        ("https://github.com/huggingface/peft", False),
        ("https://github.com/microsoft/lora", True),
    }
    assert (lora.stars, lora.has_code) == (16000, True)
    latex = Paper.objects.get(title__startswith="Titles with")
    assert latex.title == "Titles with $\\mathcal{O}(n)$ LaTeX and <b>markup</b> are kept as given"
    assert latex.abstract == "An abstract with <script>alert(1)</script> in it."


def test_it_changes_nothing_when_the_same_files_are_imported_again():
    files = [
        DATA / "papers.jsonl",
        DATA / "papers-with-abstracts.json.gz",
        DATA / "links-between-papers-and-code.json.gz",
        DATA / "arxiv_query.atom",
        DATA / "hf_daily_papers.json",
        DATA / "search_page.txt",
    ]
    _run(*files)
    before = _snapshot()

    out, _ = _run(*files)

    assert " 0 created, 0 updated," in " " + out
    assert _snapshot() == before


def test_it_merges_the_same_paper_from_every_source_into_one_record():
    _run(DATA / "papers-with-abstracts.json.gz", DATA / "links-between-papers-and-code.json.gz")
    _run(DATA / "arxiv_query.atom")
    _run(DATA / "hf_daily_papers.json")

    assert Paper.objects.filter(arxiv_id="1706.03762").count() == 1
    attention = Paper.objects.get(arxiv_id="1706.03762")
    assert sorted(attention.sources) == ["arxiv", "pwc"]
    assert attention.categories == ["cs.CL", "cs.LG"]  # arXiv filled what PwC lacked
    assert attention.code_links.count() == 2
    # arXiv is authoritative for titles: HF's older title (LLaVA-o1) did not replace it.
    llava = Paper.objects.get(arxiv_id="2411.10440")
    assert llava.title == "LLaVA-CoT: Let Vision Language Models Reason Step-by-Step"
    assert sorted(llava.sources) == ["arxiv", "hf"]
    assert list(llava.code_links.values_list("repository__url", flat=True)) == [
        "https://github.com/pku-yuangroup/llava-cot"
    ]
    assert Paper.objects.count() == 5


def test_it_merges_a_paper_without_arxiv_id_by_its_normalised_title():
    PaperFactory(arxiv_id=None, title="Attention is all you need!", abstract="", sources=["jsonl"])

    _run(DATA / "arxiv_query.atom")

    paper = Paper.objects.get(title_key="attention is all you need")
    assert paper.arxiv_id == "1706.03762"
    assert paper.abstract.startswith("The dominant sequence transduction models")
    assert Paper.objects.filter(title__icontains="attention is all").count() == 1


def test_it_folds_a_title_only_duplicate_into_the_arxiv_record():
    # Two stored copies: one found by arXiv id, another (no id) by a new title the arXiv
    # record brings. The import leaves one paper holding both copies' code.
    by_id = PaperFactory(arxiv_id="2106.09685", title="LoRA (preprint)")
    by_title = PaperFactory(
        arxiv_id=None, title="LoRA: low-rank adaptation of large language models"
    )
    repo = Repository.objects.create(url="https://github.com/x/lora", owner="x", name="lora")
    PaperRepository.objects.create(paper=by_title, repository=repo)

    _run(DATA / "papers.jsonl")

    assert not Paper.objects.filter(pk=by_title.pk).exists()
    merged = Paper.objects.get(pk=by_id.pk)
    assert merged.title == "LoRA: Low-Rank Adaptation of Large Language Models"
    assert "https://github.com/x/lora" in merged.code_links.values_list(
        "repository__url", flat=True
    )


def test_it_never_merges_two_different_arxiv_papers_that_share_a_title():
    PaperFactory(arxiv_id="2001.00001", title="Attention Is All You Need")

    out, _ = _run(DATA / "arxiv_query.atom")

    assert "skipped 1: its title is that of arXiv 2001.00001, a different arXiv id" in out
    assert not Paper.objects.filter(arxiv_id="1706.03762").exists()


def test_it_links_code_only_to_papers_it_knows():
    out, _ = _run(DATA / "links-between-papers-and-code.json.gz")

    assert "0 created" in out
    assert "skipped 4: no paper with this arXiv id or title to link the code to" in out
    assert not Repository.objects.exists()


def test_it_reads_the_papers_dump_before_the_links_dump_whatever_the_order():
    _run(DATA / "links-between-papers-and-code.json.gz", DATA / "papers-with-abstracts.json.gz")

    resnet = Paper.objects.get(arxiv_id="1512.03385")
    assert resnet.has_code
    link = resnet.code_links.get()
    assert (link.repository.url, link.is_official) == (
        "https://github.com/kaiminghe/deep-residual-networks",
        True,
    )


def test_it_turns_code_links_in_abstracts_into_repositories():
    _run(DATA / "search_page.txt")

    noise2recon = Paper.objects.get(title__startswith="Noise2Recon")
    link = noise2recon.code_links.get()
    assert (link.repository.url, link.repository.owner, link.repository.name) == (
        "https://github.com/ad12/meddlr",
        "ad12",
        "meddlr",
    )
    assert link.is_official
    assert Paper.objects.filter(has_code=False).count() == 3


def test_it_keeps_the_editors_status_on_reimport():
    _run(DATA / "arxiv_query.atom")
    Paper.objects.filter(arxiv_id="1706.03762").update(status=Paper.Status.HIDDEN)

    _run(DATA / "arxiv_query.atom", DATA / "papers-with-abstracts.json.gz")

    assert Paper.objects.get(arxiv_id="1706.03762").status == Paper.Status.HIDDEN


def test_it_gives_new_arxiv_papers_topics_from_their_categories():
    _run(DATA / "arxiv_query.atom")

    paper = Paper.objects.get(arxiv_id="1706.03762")
    assert "cs.CL" in paper.categories
    assert "natural-language-processing" in set(paper.topics.values_list("slug", flat=True))


def test_it_leaves_topics_an_editor_removed_alone_on_reimport():
    _run(DATA / "arxiv_query.atom")
    paper = Paper.objects.get(arxiv_id="1706.03762")
    paper.topics.clear()

    _run(DATA / "arxiv_query.atom")

    assert not paper.topics.exists()


def test_it_creates_drafts_when_asked():
    _run(DATA / "hf_daily_papers.json", "--draft")

    assert set(Paper.objects.values_list("status", flat=True)) == {Paper.Status.DRAFT}


def test_it_writes_nothing_on_a_dry_run():
    out, _ = _run(DATA / "papers.jsonl", DATA / "arxiv_query.atom", "--dry-run")

    assert out.startswith("Dry run (nothing stored): 5 created, 1 updated")
    assert not Paper.objects.exists()
    assert not Repository.objects.exists()


def test_it_imports_the_readable_files_and_reports_the_broken_ones():
    out, err = _run(DATA / "arxiv_truncated.atom", DATA / "hf_daily_papers.json")

    assert "2 created" in out
    assert "unreadable: " in err and "arxiv_truncated.atom: not well-formed XML" in err


def test_it_exits_non_zero_only_when_nothing_could_be_read(tmp_path):
    with pytest.raises(CommandError, match="nothing could be read"):
        _run(DATA / "arxiv_truncated.atom", tmp_path / "missing.json")


def test_it_honours_an_explicit_format(tmp_path):
    renamed = tmp_path / "download.bin"
    renamed.write_bytes((DATA / "hf_daily_papers.json").read_bytes())

    out, _ = _run(renamed, "--format", "hf")

    assert "2 created" in out


def test_it_shows_progress_on_long_imports(tmp_path):
    path = tmp_path / "papers-with-abstracts.json.gz"
    entries = [
        {"paper_url": f"https://paperswithcode.com/paper/p{n}", "title": f"Paper number {n}"}
        for n in range(30)
    ]
    with gzip.open(path, "wt") as f:
        json.dump(entries, f)
    progress = []

    papers_import(paths=[path], progress=lambda src, n, pos, size: progress.append((n, pos, size)))

    assert [n for n, _, _ in progress] == list(range(1, 31))
    assert progress[-1][1] == progress[-1][2] == path.stat().st_size


def test_it_records_an_imported_star_count_as_the_first_snapshot():
    _run(DATA / "hf_daily_papers.json")

    repo = Repository.objects.get(url="https://github.com/pku-yuangroup/llava-cot")
    assert repo.stars == 1853
    assert list(repo.snapshots.values_list("stars", flat=True)) == [1853]


def test_it_loads_the_bundled_sample_papers_once():
    out = StringIO()
    call_command("load_sample_papers", stdout=out)
    call_command("load_sample_papers", stdout=out)

    assert "Sample papers: 217 created" in out.getvalue()
    assert "Papers already present; sample not loaded." in out.getvalue()
    assert Paper.objects.published().count() == 217
    # Simulated dates (papers.sample): today lists the last week's papers and star gains,
    # this month all of them.
    assert 30 <= Paper.objects.trending("today").count() < 217
    assert Paper.objects.trending("month").count() == 217
    assert Paper.objects.filter(has_code=True).count() == 36


def test_it_keeps_the_entries_read_before_a_file_breaks(tmp_path, monkeypatch):
    monkeypatch.setattr("papers.services.IMPORT_BATCH", 2)  # the break falls mid-batch
    entries = [
        {"paper_url": f"https://paperswithcode.com/paper/p{n}", "title": f"Kept paper {n}"}
        for n in range(3)
    ]
    path = tmp_path / "papers-with-abstracts.json"
    path.write_text(json.dumps(entries)[:-1] + ', {"title": "cut sho')

    out, err = _run(path)

    assert "3 created" in out
    assert "entry 4 is not valid JSON" in err
    assert Paper.objects.filter(title__startswith="Kept paper").count() == 3
