"""Celery tasks of the papers app and the beat schedule that runs them."""

from pathlib import Path

import pytest
import responses
from celery.schedules import crontab
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from config.celery_app import app
from papers import tasks
from papers.fetchers.arxiv import API_URL as ARXIV_URL
from papers.fetchers.huggingface import API_URL as HF_URL
from papers.models import Paper, Trend
from tests.factories import PaperFactory

DATA = Path(__file__).parent / "data"

PAPER_TASKS = {
    "recompute-trending": "papers.tasks.recompute_trending",
    "refresh-github-stars": "papers.tasks.refresh_github_stars",
    "fetch-arxiv": "papers.tasks.fetch_arxiv",
    "fetch-huggingface-daily": "papers.tasks.fetch_huggingface_daily",
}


def test_it_schedules_every_papers_task_on_beat():
    schedule = settings.CELERY_BEAT_SCHEDULE
    app.loader.import_default_modules()

    for entry, task in PAPER_TASKS.items():
        assert schedule[entry]["task"] == task
        assert task in app.tasks, f"{task} is scheduled but not registered"


def test_it_recomputes_trending_hourly_by_default():
    entry = settings.CELERY_BEAT_SCHEDULE["recompute-trending"]["schedule"]

    assert entry == crontab(minute=5)
    # Due at minute 5 of every hour, and only then.
    assert entry.minute == {5}
    assert entry.hour == set(range(24))


def test_it_reads_the_schedule_minutes_from_the_environment(monkeypatch):
    import importlib

    import config.settings as config_settings

    monkeypatch.setenv("TRENDING_RECOMPUTE_MINUTE", "40")
    monkeypatch.setenv("HF_FETCH_HOURS", "*/2")
    try:
        reloaded = importlib.reload(config_settings)
        assert reloaded.CELERY_BEAT_SCHEDULE["recompute-trending"]["schedule"] == crontab(minute=40)
        assert reloaded.CELERY_BEAT_SCHEDULE["fetch-huggingface-daily"]["schedule"] == crontab(
            minute=35, hour="*/2"
        )
    finally:
        monkeypatch.undo()
        importlib.reload(config_settings)


@pytest.mark.django_db
def test_it_recomputes_trending_from_the_task():
    paper = PaperFactory(published_on=timezone.localdate())

    result = tasks.recompute_trending.delay().get()

    assert result == {"today": 1, "week": 1, "month": 1}
    assert Trend.objects.filter(paper=paper).count() == 3


@pytest.mark.django_db
def test_it_skips_a_recompute_while_another_runs():
    PaperFactory(published_on=timezone.localdate())
    cache.add("papers:task-lock:trending", 1, timeout=60)

    assert tasks.recompute_trending.delay().get() == {}
    assert not Trend.objects.exists()


@pytest.mark.django_db
@responses.activate
def test_it_imports_hugging_face_daily_papers_from_the_task():
    responses.get(HF_URL, body=(DATA / "hf_daily_papers.json").read_bytes())

    result = tasks.fetch_huggingface_daily.delay("2024-11-18").get()

    assert (result["created"], result["skipped"]) == (2, 1)
    assert Paper.objects.published().count() == 2


@pytest.mark.django_db
@responses.activate
def test_it_imports_recent_arxiv_papers_from_the_task(settings):
    settings.ARXIV_API_SPACING_SECONDS = 0  # no other client in a test to keep apart
    settings.PAPERS_FETCH_AS_DRAFT = True
    responses.get(ARXIV_URL, body=(DATA / "arxiv_query.atom").read_bytes())

    result = tasks.fetch_arxiv.delay().get()

    assert result["created"] == 3
    assert set(Paper.objects.values_list("status", flat=True)) == {Paper.Status.DRAFT}


@pytest.mark.django_db
@responses.activate
def test_it_retries_the_arxiv_fetch_on_transient_errors(settings):
    settings.ARXIV_API_SPACING_SECONDS = 0
    responses.get(ARXIV_URL, status=503)
    responses.get(ARXIV_URL, body=(DATA / "arxiv_query.atom").read_bytes())

    # Run eagerly without propagation, Celery applies the retry at once (no countdown).
    result = tasks.fetch_arxiv.apply(throw=False).get()

    assert result["created"] == 3
    assert len(responses.calls) == 2
    assert Paper.objects.count() == 3


@pytest.mark.django_db
def test_it_imports_files_from_the_task():
    result = tasks.import_papers.delay([str(DATA / "papers.jsonl")], "auto", True).get()

    # The line whose code link is not a repository is imported without it (a bad field).
    assert (result["created"], result["skipped"], result["bad_fields"]) == (3, 5, 1)
    assert result["skip_reasons"]["no title"] == 1


@pytest.mark.worker
def test_it_recomputes_trending_on_a_real_worker(celery_worker):
    PaperFactory(published_on=timezone.localdate())

    result = tasks.recompute_trending.delay().get(timeout=30)

    assert result == {"today": 1, "week": 1, "month": 1}
