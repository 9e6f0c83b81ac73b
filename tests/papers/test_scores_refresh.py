"""Scores and the page cache are refreshed as soon as an import changes papers (issue 9)."""

import datetime as dt
import json
from io import StringIO
from pathlib import Path

import pytest
import responses
import time_machine
from django.core.management import call_command

from papers import tasks
from papers.cache import trending_version
from papers.fetchers.arxiv import API_URL as ARXIV_URL
from papers.fetchers.arxiv import ArxivClient
from papers.fetchers.base import Spacing
from papers.models import Paper, Trend
from papers.services import papers_add_by_arxiv_ids
from tests.factories import PaperFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 26)

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC), tick=True):
        yield


def _file(tmp_path, title):
    path = tmp_path / "papers.jsonl"
    record = {"title": title, "abstract": "Results.", "published": "2026-11-26"}
    path.write_text(json.dumps(record) + "\n")
    return str(path)


def test_the_home_page_and_the_feeds_show_imported_papers_at_once(client, tmp_path):
    PaperFactory(title="Already here", published_on=dt.date(2026, 11, 20))
    call_command("import_papers", _file(tmp_path, "Warm-up"), "--no-progress", stdout=StringIO())
    # Pages built now are cached; the next import must retire them.
    assert "Imported this morning" not in client.get("/").content.decode()
    assert "Imported this morning" not in client.get("/feed/").content.decode()

    out = StringIO()
    path = _file(tmp_path, "Imported this morning")
    call_command("import_papers", path, "--no-progress", stdout=out, stderr=StringIO())

    assert "Trending scores recomputed" in out.getvalue()
    today_tab = client.get("/").content.decode().split('id="latest-title"')[0]
    assert "Imported this morning" in today_tab
    assert "Imported this morning" in client.get("/feed/").content.decode()
    assert "Imported this morning" in client.get("/feed/atom/").content.decode()


def test_the_import_task_refreshes_the_scores(tmp_path):
    result = tasks.import_papers.apply(args=[[_file(tmp_path, "By the task")]]).get()

    assert result["created"] == 1
    assert Trend.objects.filter(paper__title="By the task", window="today").exists()


def test_a_dry_run_or_an_unchanged_import_leaves_the_scores_alone(tmp_path):
    path = _file(tmp_path, "Same again")
    call_command("import_papers", path, "--no-progress", stdout=StringIO())
    version = trending_version()

    call_command("import_papers", path, "--no-progress", stdout=StringIO())
    call_command("import_papers", path, "--no-progress", "--dry-run", stdout=StringIO())

    assert trending_version() == version


@responses.activate
def test_add_by_arxiv_id_refreshes_scores_when_it_changes_a_published_paper(
    django_capture_on_commit_callbacks,
):
    # The id is already a published paper with a poorer record: the fetched one updates it.
    responses.get(ARXIV_URL, body=(DATA / "arxiv_id_list_with_error.atom").read_bytes())
    PaperFactory(arxiv_id="2106.09685", title="LoRA", abstract="", published_on=DAY)
    version = trending_version()
    client = ArxivClient(spacing=Spacing("test:arxiv", 3, sleep=lambda s: None))

    with django_capture_on_commit_callbacks(execute=True) as enqueued:
        summary = papers_add_by_arxiv_ids(ids=["2106.09685"], client=client)

    assert len(enqueued) == 1  # the recompute task, after commit

    assert summary.updated == 1 and summary.scores_refreshed
    assert trending_version() > version
    assert Paper.objects.get(arxiv_id="2106.09685").status == Paper.Status.PUBLISHED
