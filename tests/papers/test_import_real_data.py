"""Importers and fetchers on real recorded answers of arXiv, Hugging Face and GitHub
(tests/papers/data/real, sources in its README); the network is never touched."""

import ast
import re
from io import StringIO
from pathlib import Path

import pytest
import responses
from django.core.management import call_command

from papers.fetchers import github
from papers.fetchers.arxiv import API_URL as ARXIV_URL
from papers.fetchers.arxiv import ArxivClient
from papers.fetchers.base import Spacing
from papers.fetchers.huggingface import API_URL as HF_URL
from papers.fetchers.huggingface import fetch_daily
from papers.importers.base import PaperRecord
from papers.models import Paper
from papers.services import papers_import_items
from tests.factories import PaperFactory, PaperRepositoryFactory, RepositoryFactory

pytestmark = pytest.mark.django_db

REAL = Path(__file__).parent / "data" / "real"
ASTRO = REAL / "arxiv_id_astro-ph_0601001_s0_m100_3150dca9dc76.atom"
EMPTY = REAL / "arxiv_id_0000.0000_s0_m100_8b51d9633a68.atom"
QUANT = REAL / "arxiv_id_quant-ph_0201082v1_s0_m100_86989fe779ef.atom"
SEARCH = REAL / "arxiv_q_testing_s0_m10_bc5a6c384fe9.atom"
HF = REAL / "hf_daily_papers_2024-10-25_excerpt.json"
GITHUB = REAL / "github_Repository.setUp.txt"
CANONICAL = re.compile(r"https://arxiv\.org/(abs|pdf)/(\d{4}\.\d{4,5}|[a-z-]+/\d{7})")


def _run(*paths):
    out, err = StringIO(), StringIO()
    call_command("import_papers", *map(str, paths), "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _client():
    return ArxivClient(spacing=Spacing("test", 0, sleep=lambda s: None))


def test_it_imports_a_real_arxiv_search_with_canonical_links():
    out, err = _run(SEARCH)

    assert "10 created, 0 updated, 0 unchanged, 0 skipped" in out
    assert err == ""
    for abstract_url, pdf_url, arxiv_id in Paper.objects.values_list(
        "abstract_url", "pdf_url", "arxiv_id"
    ):
        assert abstract_url == f"https://arxiv.org/abs/{arxiv_id}"
        assert pdf_url == f"https://arxiv.org/pdf/{arxiv_id}"
        assert CANONICAL.fullmatch(abstract_url)


def test_it_imports_a_real_old_style_arxiv_answer_without_versions():
    _run(ASTRO, QUANT)

    astro = Paper.objects.get(arxiv_id="astro-ph/0601001")
    assert astro.title.startswith("Frequency of Hot Jupiters and Very Hot Jupiters")
    assert astro.authors == ["Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski"]
    assert (astro.abstract_url, astro.pdf_url) == (
        "https://arxiv.org/abs/astro-ph/0601001",
        "https://arxiv.org/pdf/astro-ph/0601001",
    )
    quant = Paper.objects.get(arxiv_id="quant-ph/0201082")
    assert quant.pdf_url == "https://arxiv.org/pdf/quant-ph/0201082"


def test_it_exits_0_on_a_real_arxiv_answer_with_no_entries():
    out, _ = _run(EMPTY)

    assert "0 created, 0 updated, 0 unchanged, 0 skipped" in out
    assert "no records" in out


@responses.activate
def test_it_fetches_a_real_arxiv_answer_by_old_style_id():
    responses.get(ARXIV_URL, body=ASTRO.read_bytes())

    items = list(_client().fetch_ids(["astro-ph/0601001v1"]))

    assert [(i.arxiv_id, i.abstract_url) for i in items] == [
        ("astro-ph/0601001", "https://arxiv.org/abs/astro-ph/0601001")
    ]


@responses.activate
def test_it_fetches_a_real_empty_arxiv_answer_as_nothing_new():
    responses.get(ARXIV_URL, body=EMPTY.read_bytes())

    assert list(_client().fetch_recent(categories=["cs.LG"], max_results=10)) == []


def test_it_imports_real_hugging_face_daily_papers():
    out, err = _run(HF)

    assert "2 created, 0 updated, 0 unchanged, 0 skipped" in out
    assert err == ""
    paper = Paper.objects.get(arxiv_id="2410.17243")
    # The API's title keeps arXiv's hard line break; stored folded.
    assert paper.title == (
        "Breaking the Memory Barrier: Near Infinite Batch Size Scaling for Contrastive Loss"
    )
    assert paper.authors[:2] == ["Zesen Cheng", "Hang Zhang"]
    assert len(paper.authors) == 9
    assert str(paper.published_on) == "2024-10-22"
    assert paper.abstract_url == "https://arxiv.org/abs/2410.17243"


@responses.activate
def test_it_fetches_real_hugging_face_daily_papers():
    responses.get(HF_URL, body=HF.read_bytes(), content_type="application/json")

    summary = papers_import_items(items=fetch_daily(), status=Paper.Status.PUBLISHED)

    assert (summary.created, summary.skipped, summary.bad_fields) == (2, [], [])
    assert all(isinstance(i, PaperRecord) for i in fetch_daily())


def _replay(path: Path):
    """status, headers and body of a PyGithub replay recording (one exchange)."""
    lines = path.read_text().split("\n")
    status, headers, body = int(lines[7]), dict(ast.literal_eval(lines[8])), lines[9]
    return status, headers, body


@responses.activate
def test_it_records_stars_from_a_real_github_answer():
    status, headers, body = _replay(GITHUB)
    headers.pop("Content-Encoding")  # the recording holds the decoded body
    headers.pop("Transfer-Encoding")
    responses.get(
        "https://api.github.com/repos/PyGithub/PyGithub", status=status, body=body, headers=headers
    )
    repo = RepositoryFactory(
        url="https://github.com/pygithub/pygithub", owner="PyGithub", name="PyGithub", stars=1
    )
    paper = PaperFactory()
    PaperRepositoryFactory(paper=paper, repository=repo)

    summary = github.refresh_stars(repositories=github.repositories_due(10), token="")

    assert (summary.refreshed, summary.failed, summary.paused_until) == (1, 0, None)
    repo.refresh_from_db()
    assert repo.stars == 7122
    assert repo.etag == 'W/"37ea58577585c38f93634ef43114c657de2581286eb6976ec18c274de296eff0"'
    paper.refresh_from_db()
    assert paper.stars == 7122
