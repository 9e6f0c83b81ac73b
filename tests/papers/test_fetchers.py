"""Live-source clients against recorded responses (tests/papers/data); no network."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import responses
import time_machine
from responses import matchers

from papers.fetchers import github
from papers.fetchers.arxiv import API_URL as ARXIV_URL
from papers.fetchers.arxiv import ArxivClient
from papers.fetchers.base import FetchError, Spacing
from papers.fetchers.huggingface import API_URL as HF_URL
from papers.fetchers.huggingface import fetch_daily
from papers.importers.base import PaperRecord, Skip
from papers.models import Paper, StarSnapshot
from papers.services import papers_add_by_arxiv_ids, papers_import_items
from tests.factories import PaperFactory, PaperRepositoryFactory, RepositoryFactory

DATA = Path(__file__).parent / "data"
NOW = datetime(2024, 11, 20, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self):
        self.now = 1_000_000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def test_it_spaces_calls_three_seconds_apart_across_clients():
    clock = FakeClock()
    first = Spacing("test:arxiv", 3, clock=clock, sleep=clock.sleep)
    second = Spacing("test:arxiv", 3, clock=clock, sleep=clock.sleep)  # another process

    first.wait()
    clock.now += 1
    second.wait()
    first.wait()

    assert clock.sleeps == [2.0, 3.0]


def _client():
    clock = FakeClock()
    return ArxivClient(spacing=Spacing("test:arxiv", 3, clock=clock, sleep=clock.sleep)), clock


@responses.activate
def test_it_fetches_recent_arxiv_papers_by_category():
    responses.get(
        ARXIV_URL,
        body=(DATA / "arxiv_query.atom").read_bytes(),
        match=[
            matchers.query_param_matcher(
                {
                    "search_query": "cat:cs.LG OR cat:cs.CL",
                    "sortBy": "submittedDate",
                    "sortOrder": "descending",
                    "start": "0",
                    "max_results": "3",
                }
            )
        ],
    )
    client, _ = _client()

    items = list(client.fetch_recent(categories=["cs.LG", "cs.CL"], max_results=3))

    assert [i.arxiv_id for i in items] == ["1706.03762", "2411.10440", "2106.09685"]


@responses.activate
def test_it_reports_unknown_and_malformed_arxiv_ids_as_skips():
    responses.get(ARXIV_URL, body=(DATA / "arxiv_id_list_with_error.atom").read_bytes())
    client, _ = _client()

    items = list(client.fetch_ids(["https://arxiv.org/abs/2106.09685v1", "1234.56789", "nonsense"]))

    assert [i.arxiv_id for i in items if isinstance(i, PaperRecord)] == ["2106.09685"]
    assert [(s.location, s.reason) for s in items if isinstance(s, Skip)] == [
        ("nonsense", "'nonsense' is not an arXiv id"),
        ("arXiv API: entry 2", "arXiv reports an error: incorrect id format for 1234.56789"),
        ("arXiv 1234.56789", "arXiv has no paper with this id"),
    ]
    assert responses.calls[0].request.params["id_list"] == "2106.09685,1234.56789"


@responses.activate
def test_it_marks_arxiv_server_errors_as_transient():
    responses.get(ARXIV_URL, status=503)
    client, _ = _client()

    with pytest.raises(FetchError) as caught:
        list(client.fetch_recent(categories=["cs.LG"], max_results=1))

    assert caught.value.transient


@responses.activate
@pytest.mark.django_db
def test_it_adds_papers_by_arxiv_id_as_drafts():
    responses.get(ARXIV_URL, body=(DATA / "arxiv_id_list_with_error.atom").read_bytes())
    client, _ = _client()

    summary = papers_add_by_arxiv_ids(ids=["2106.09685", "1234.56789"], client=client)

    paper = Paper.objects.get(arxiv_id="2106.09685")
    assert paper.status == Paper.Status.DRAFT
    assert paper.code_links.get().repository.url == "https://github.com/microsoft/lora"
    assert summary.created == 1
    assert summary.created_ids == [paper.pk]
    assert len(summary.skipped) == 2


@responses.activate
def test_it_fetches_hugging_face_daily_papers_for_a_day():
    responses.get(
        HF_URL,
        body=(DATA / "hf_daily_papers.json").read_bytes(),
        content_type="application/json",
        match=[matchers.query_param_matcher({"date": "2024-11-18"})],
    )

    items = list(fetch_daily(day=datetime(2024, 11, 18).date()))

    assert [i.arxiv_id for i in items if isinstance(i, PaperRecord)] == ["2411.10440", "2411.11504"]
    assert [s.reason for s in items if isinstance(s, Skip)] == ["no 'paper' object"]


@responses.activate
def test_it_rejects_a_hugging_face_answer_that_is_not_a_list():
    responses.get(HF_URL, json={"error": "Invalid date"}, status=200)

    with pytest.raises(FetchError, match="not a list"):
        list(fetch_daily())


# --- GitHub -----------------------------------------------------------------------------------

GITHUB_URL = "https://api.github.com/repos/microsoft/LoRA"


def _lora_repo(**kwargs):
    paper = PaperFactory(status=Paper.Status.PUBLISHED)
    repo = RepositoryFactory(
        url="https://github.com/microsoft/lora",
        owner="microsoft",
        name="LoRA",
        stars=10_000,
        **kwargs,
    )
    PaperRepositoryFactory(paper=paper, repository=repo)
    return paper, repo


def _other_repo():
    return RepositoryFactory(url="https://github.com/a/b", owner="a", name="b")


def _github_test(test):
    """Recorded GitHub responses, a database, and the clock stopped at NOW."""
    return responses.activate(pytest.mark.django_db(time_machine.travel(NOW, tick=False)(test)))


def _rate(remaining=4999, reset=1732110000):
    return {
        "X-RateLimit-Limit": "5000",
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset),
    }


@_github_test
def test_it_records_github_stars_with_the_etag_and_token():
    paper, repo = _lora_repo()
    responses.get(
        GITHUB_URL,
        body=(DATA / "github_repo_microsoft_lora.json").read_bytes(),
        headers={"ETag": 'W/"5c2f2a"', **_rate()},
        match=[matchers.header_matcher({"Authorization": "Bearer secret-token"})],
    )

    summary = github.refresh_stars(repositories=github.repositories_due(10), token="secret-token")

    assert summary.refreshed == 1
    repo.refresh_from_db()
    assert (repo.stars, repo.etag, repo.stars_checked_at) == (10789, 'W/"5c2f2a"', NOW)
    assert list(repo.snapshots.values_list("stars", "taken_at")) == [(10789, NOW)]
    paper.refresh_from_db()
    assert paper.stars == 10789


@_github_test
def test_it_sends_the_etag_and_keeps_the_count_on_304():
    _, repo = _lora_repo(etag='W/"5c2f2a"')
    responses.get(
        GITHUB_URL,
        status=304,
        headers=_rate(),
        match=[matchers.header_matcher({"If-None-Match": 'W/"5c2f2a"'})],
    )

    summary = github.refresh_stars(repositories=[repo], token="")

    assert summary.not_modified == 1
    assert list(StarSnapshot.objects.values_list("stars", flat=True)) == [10_000]
    assert "Authorization" not in responses.calls[0].request.headers


@_github_test
def test_it_stops_every_run_until_the_rate_limit_resets():
    _, first = _lora_repo()
    second = _other_repo()
    reset = int((NOW + timedelta(minutes=20)).timestamp())
    responses.get(
        GITHUB_URL,
        status=403,
        json={"message": "API rate limit exceeded for 203.0.113.9."},
        headers=_rate(remaining=0, reset=reset),
    )

    summary = github.refresh_stars(repositories=[first, second], token="")
    again = github.refresh_stars(repositories=[second], token="")

    assert summary.paused_until == datetime.fromtimestamp(reset, tz=UTC)
    assert again.paused_until == summary.paused_until
    assert len(responses.calls) == 1  # neither the second repository nor the second run asked
    assert not StarSnapshot.objects.exists()


@_github_test
def test_it_pauses_after_the_last_allowed_request():
    _, repo = _lora_repo()
    other = _other_repo()
    responses.get(
        GITHUB_URL,
        body=(DATA / "github_repo_microsoft_lora.json").read_bytes(),
        headers=_rate(remaining=0, reset=int(NOW.timestamp()) + 60),
    )

    summary = github.refresh_stars(repositories=[repo, other], token="")

    assert summary.refreshed == 1
    assert summary.paused_until == NOW + timedelta(seconds=60)
    assert len(responses.calls) == 1


@_github_test
def test_it_honours_retry_after_on_secondary_rate_limits():
    _, repo = _lora_repo()
    responses.get(GITHUB_URL, status=429, headers={"Retry-After": "120"})

    summary = github.refresh_stars(repositories=[repo], token="")

    assert summary.paused_until == NOW + timedelta(seconds=120)


@_github_test
def test_it_moves_deleted_repositories_to_the_back_of_the_queue():
    _, repo = _lora_repo()
    fresh = _other_repo()
    PaperRepositoryFactory(repository=fresh)
    responses.get(GITHUB_URL, status=404, json={"message": "Not Found"}, headers=_rate())

    summary = github.refresh_stars(repositories=[repo], token="")

    assert summary.missing == 1
    assert list(github.repositories_due(10)) == [fresh, repo]


# --- Hostile and broken answers (issue 10): the fetchers report and go on, as imports do ---


def _hf(arxiv_id, title, **paper):
    return {"paper": {"id": arxiv_id, "title": title, "summary": "Abstract.", **paper}}


@responses.activate
@pytest.mark.django_db
def test_it_imports_fetched_hugging_face_papers_around_bad_entries():
    responses.get(
        HF_URL,
        json=[
            _hf("2411.00001", "Organisation link", githubRepo="https://github.com/SomeOrg"),
            _hf("2411.00002", "NUL\x00 title"),
            _hf(
                "2411.00003",
                "Impossible star count",
                githubRepo="https://github.com/a/b",
                githubStars=99999999999999999999,
            ),
            _hf("2411.00004", "Fine"),
        ],
    )

    summary = papers_import_items(items=fetch_daily(), status=Paper.Status.PUBLISHED)

    assert summary.created == 3
    assert [(s.location, s.reason) for s in summary.skipped] == [
        ("Hugging Face daily papers: entry 2", "title contains a NUL character")
    ]
    assert [b.location for b in summary.bad_fields] == [
        "Hugging Face daily papers: entry 1",
        "Hugging Face daily papers: entry 3",
    ]
    assert not Paper.objects.get(arxiv_id="2411.00001").has_code
    assert Paper.objects.get(arxiv_id="2411.00003").has_code


@responses.activate
def test_it_fetches_old_style_arxiv_ids_with_canonical_links():
    feed = (DATA / "arxiv_query.atom").read_text()
    feed = feed.replace("1706.03762v7", "astro-ph/0601001v1").replace(
        "1706.03762", "astro-ph/0601001"
    )
    responses.get(ARXIV_URL, body=feed)
    client = ArxivClient(spacing=Spacing("t", 0, clock=FakeClock(), sleep=lambda s: None))

    records = list(client.fetch_recent(categories=["cs.LG"], max_results=3))

    assert records[0].arxiv_id == "astro-ph/0601001"
    assert (records[0].abstract_url, records[0].pdf_url) == (
        "https://arxiv.org/abs/astro-ph/0601001",
        "https://arxiv.org/pdf/astro-ph/0601001",
    )


@_github_test
def test_it_fails_one_repository_whose_star_count_is_out_of_range_and_goes_on():
    paper, repo = _lora_repo()
    other = _other_repo()
    PaperRepositoryFactory(paper=paper, repository=other)
    body = (DATA / "github_repo_microsoft_lora.json").read_text()
    responses.get(
        GITHUB_URL,
        body=body.replace('"stargazers_count": 10789', '"stargazers_count": 99999999999999999999'),
        headers=_rate(),
    )
    responses.get("https://api.github.com/repos/a/b", body=body, headers=_rate())

    summary = github.refresh_stars(repositories=github.repositories_due(10), token="")

    assert (summary.failed, summary.refreshed) == (1, 1)
    repo.refresh_from_db()
    assert repo.stars == 10_000
