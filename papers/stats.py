"""Daily fetcher counts for the dashboard, written by the fetch tasks after each run."""

import datetime as dt

from django.utils import timezone

from lib.counters import counter_add
from papers.models import FetchDay


def fetch_day_count(*, source: str, summary, day: dt.date | None = None) -> None:
    """Add one fetch run's outcome (a papers.services.ImportSummary) to today's row."""
    counter_add(
        FetchDay,
        keys={"day": day or timezone.localdate(), "source": source},
        runs=1,
        created=summary.created,
        updated=summary.updated,
        skipped=len(summary.skipped),
    )
