"""Beat jobs' runs, recorded from Celery's signals, and the red state when one is late."""

import datetime as dt

import pytest
import time_machine

from config.celery_app import app as celery_app
from digests.dashboard.jobs import job_states
from digests.models import JobRun
from papers.tasks import fetch_arxiv
from subscriptions.tasks import resume_paused
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 27, 12, 30, tzinfo=dt.UTC)


def _all_ran(at):
    from django.conf import settings

    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        JobRun.objects.create(task=entry["task"], last_success_at=at, successes=1)


def test_it_records_a_beat_jobs_success_without_code_in_the_task():
    with time_machine.travel(NOW, tick=False):
        resume_paused.delay()

    run = JobRun.objects.get(task="subscriptions.tasks.resume_paused")
    assert (run.successes, run.failures, run.last_success_at) == (1, 0, NOW)


def test_it_records_a_beat_jobs_error(monkeypatch):
    from papers.fetchers import arxiv
    from papers.fetchers.base import FetchError

    def broken(self, **kwargs):
        raise FetchError("arXiv answered 400", transient=False)

    monkeypatch.setattr(arxiv.ArxivClient, "fetch_recent", broken)
    # As in a worker: the error is stored, not raised into the caller (which skips signals).
    celery_app.conf.task_eager_propagates = False  # tests/conftest.py resets it
    with time_machine.travel(NOW, tick=False):
        result = fetch_arxiv.delay()
    assert result.failed()

    run = JobRun.objects.get(task="papers.tasks.fetch_arxiv")
    assert run.failures == 1 and run.last_error_at == NOW
    assert "arXiv answered 400" in run.last_error
    state = next(s for s in job_states(now=NOW) if s.task == "papers.tasks.fetch_arxiv")
    assert state.failing and state.red


def test_it_does_not_record_tasks_outside_the_beat_schedule():
    from config.celery_app import healthcheck

    healthcheck.delay()

    assert not JobRun.objects.exists()


def test_it_is_green_when_every_job_ran_when_due(client):
    # A minute ago: the minutely e-mail sweep is among the jobs.
    _all_ran(NOW - dt.timedelta(minutes=1))
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    with time_machine.travel(NOW, tick=False):
        body = client.get("/admin/").content.decode()
        states = job_states(now=NOW)

    assert not any(s.red for s in states)
    assert "every beat job ran when due" in body and "board__status--red" not in body


def test_it_turns_red_when_an_hourly_job_missed_its_run(client):
    _all_ran(NOW - dt.timedelta(minutes=1))
    # recompute-trending runs at :05 each hour: after 10:05 it was due at 11:05 and 12:05.
    JobRun.objects.filter(task="papers.tasks.recompute_trending").update(
        last_success_at=dt.datetime(2026, 11, 27, 10, 5, tzinfo=dt.UTC)
    )
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    with time_machine.travel(NOW, tick=False):
        body = client.get("/admin/").content.decode()
        states = {s.name: s for s in job_states(now=NOW)}

    late = states["recompute-trending"]
    assert late.late and late.due_at == dt.datetime(2026, 11, 27, 11, 5, tzinfo=dt.UTC)
    assert [name for name, s in states.items() if s.red] == ["recompute-trending"]
    assert "board__status--red" in body and "something did not run when it should have" in body
    assert 'class="board__row--red" data-job="recompute-trending"' in body


def test_it_gives_a_job_its_time_limit_before_calling_it_late(settings):
    _all_ran(NOW - dt.timedelta(minutes=1))
    # Nightly purge at 00:25: last success the night before yesterday, due last night.
    JobRun.objects.filter(task="subscriptions.tasks.purge_unconfirmed").update(
        last_success_at=dt.datetime(2026, 11, 26, 0, 25, tzinfo=dt.UTC)
    )
    just_after = dt.datetime(2026, 11, 27, 0, 30, tzinfo=dt.UTC)
    settings.CELERY_TASK_TIME_LIMIT = 900

    with time_machine.travel(just_after, tick=False):
        on_time = {s.name: s for s in job_states(now=just_after)}
    later = dt.datetime(2026, 11, 27, 0, 41, tzinfo=dt.UTC)
    with time_machine.travel(later, tick=False):
        late = {s.name: s for s in job_states(now=later)}

    assert not on_time["purge-unconfirmed-subscribers"].red
    assert late["purge-unconfirmed-subscribers"].late


def test_it_treats_a_job_never_recorded_as_waiting_not_late():
    states = job_states(now=NOW)

    assert states and not any(s.red for s in states)
