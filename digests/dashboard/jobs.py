"""Beat jobs' runs, recorded from Celery's task signals, and whether each ran when due.

Only tasks named in CELERY_BEAT_SCHEDULE are recorded; no task body knows about it. "Due"
comes from the same schedule: a job is late when the first run its schedule called for
after its last success has not succeeded within CELERY_TASK_TIME_LIMIT.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from celery.signals import task_failure, task_prerun, task_retry, task_success
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from digests.models import JobRun
from lib.counters import counter_add

logger = logging.getLogger(__name__)


def beat_tasks() -> dict[str, str]:
    """{task name: beat entry name} for every job in the beat schedule."""
    return {entry["task"]: name for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}


def _record(task_name: str, **changes) -> None:
    if task_name not in beat_tasks():
        return
    try:
        # A savepoint: a failed write must not break a transaction the task is in.
        with transaction.atomic():
            counts = {k: changes.pop(k) for k in ("successes", "failures") if k in changes}
            counter_add(JobRun, keys={"task": task_name}, **counts)
            if not counts:
                JobRun.objects.get_or_create(task=task_name)
            JobRun.objects.filter(task=task_name).update(**changes)
    except Exception:  # the record must never fail the job it describes
        logger.exception("could not record a run of %s", task_name)


def job_run_started(*, task_name: str) -> None:
    _record(task_name, last_started_at=timezone.now())


def job_run_succeeded(*, task_name: str) -> None:
    _record(task_name, successes=1, last_success_at=timezone.now())


def job_run_failed(*, task_name: str, error: str) -> None:
    _record(task_name, failures=1, last_error_at=timezone.now(), last_error=error[:2000])


@task_prerun.connect
def _on_prerun(sender=None, **kwargs):
    job_run_started(task_name=getattr(sender, "name", ""))


@task_success.connect
def _on_success(sender=None, **kwargs):
    job_run_succeeded(task_name=getattr(sender, "name", ""))


@task_failure.connect
def _on_failure(sender=None, exception=None, **kwargs):
    job_run_failed(task_name=getattr(sender, "name", ""), error=_describe(exception))


@task_retry.connect
def _on_retry(sender=None, reason=None, **kwargs):
    job_run_failed(task_name=getattr(sender, "name", ""), error=f"retrying: {_describe(reason)}")


def _describe(exception) -> str:
    if exception is None:
        return "unknown error"
    if isinstance(exception, BaseException):
        return f"{exception.__class__.__name__}: {exception}"
    return str(exception)


@dataclass
class JobState:
    name: str  # the beat entry
    task: str
    schedule: str
    last_success_at: dt.datetime | None
    last_error_at: dt.datetime | None
    last_error: str
    due_at: dt.datetime | None  # the run the schedule called for after the last success
    late: bool  # that run has not succeeded, the grace included
    failing: bool  # the latest outcome is an error

    @property
    def red(self) -> bool:
        return self.late or self.failing


def _next_due(schedule, after: dt.datetime, now: dt.datetime) -> dt.datetime:
    # Celery's own arithmetic: time left until the first run after `after`, from now.
    return now + schedule.remaining_estimate(after)


def job_states(*, now: dt.datetime | None = None) -> list[JobState]:
    """Every beat job with its last success and error, and whether it is late or failing.

    A job never recorded is neither: nothing says yet when beat started.
    """
    now = now or timezone.now()
    grace = dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    runs = {run.task: run for run in JobRun.objects.all()}
    states = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        run = runs.get(entry["task"])
        schedule = entry["schedule"]
        success = run.last_success_at if run else None
        error_at = run.last_error_at if run else None
        reference = success or (run.last_started_at if run else None)
        due = _next_due(schedule, reference, now) if reference else None
        states.append(
            JobState(
                name=name,
                task=entry["task"],
                schedule=_describe_schedule(schedule),
                last_success_at=success,
                last_error_at=error_at,
                last_error=run.last_error if run else "",
                due_at=due,
                late=bool(due and due + grace < now) or bool(run and not success and error_at),
                failing=bool(error_at and (success is None or error_at > success)),
            )
        )
    return states


def _describe_schedule(schedule) -> str:
    fields = ["_orig_minute", "_orig_hour", "_orig_day_of_month", "_orig_month_of_year"]
    if all(hasattr(schedule, f) for f in fields):
        parts = [str(getattr(schedule, f)) for f in fields]
        parts.append(str(schedule._orig_day_of_week))
        return "cron " + " ".join(parts)
    return str(schedule)
