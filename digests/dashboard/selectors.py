"""Every figure on the dashboard, read from counters and daily rows only.

Edition counters (digests.Edition), the list's daily rows (subscriptions.SubscriberDay,
SignupSourceDay), per-paper days (papers.PaperDay), fetch days (papers.FetchDay) and job
runs (digests.JobRun) are written as things happen; nothing here counts deliveries or
subscribers, so the page costs the same at a million readers as at ten.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from config.celery_app import app as celery_app
from digests.dashboard import jobs
from digests.models import Delivery, Edition
from papers.models import FetchDay, Paper, PaperDay
from subscriptions.models import SignupSourceDay, SubscriberDay

PERIODS = (30, 90, 365)
STATUSES = ["confirmed", "pending", "unsubscribed", "bounced", "complained"]
LIST_EVENTS = ["signups", "confirmations", "unsubscribes", "bounces", "complaints"]
# Gmail's published line: senders whose users report more than this as spam get filtered.
GMAIL_SPAM_LINE = 0.3


def _days(today: dt.date, count: int) -> list[dt.date]:
    return [today - dt.timedelta(days=n) for n in range(count - 1, -1, -1)]


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


# --- Subscribers ---------------------------------------------------------------------------


@dataclass
class ListPanel:
    days: list[dt.date]
    rows: dict  # {day: SubscriberDay}
    latest: SubscriberDay | None
    totals: dict  # events summed over the period
    confirmation_rate: float | None
    sources: list  # [(source, signups)]


def list_panel(*, today: dt.date, period: int) -> ListPanel:
    days = _days(today, period)
    rows = {row.day: row for row in SubscriberDay.objects.filter(day__gte=days[0], day__lte=today)}
    latest = (
        SubscriberDay.objects.filter(counted_at__isnull=False, day__lte=today)
        .order_by("-day")
        .first()
    )
    totals = {event: sum(getattr(row, event) for row in rows.values()) for event in LIST_EVENTS}
    sources = list(
        SignupSourceDay.objects.filter(day__gte=days[0], day__lte=today)
        .values("source")
        .annotate(n=Sum("signups"))
        .order_by("-n", "source")
        .values_list("source", "n")[:10]
    )
    return ListPanel(
        days=days,
        rows=rows,
        latest=latest,
        totals=totals,
        confirmation_rate=_rate(totals["confirmations"], totals["signups"]),
        sources=sources,
    )


# --- Editions ------------------------------------------------------------------------------


def recent_editions(*, limit: int = 30) -> list[Edition]:
    """The latest editions, oldest first (the order of the chart and its table)."""
    return list(reversed(Edition.objects.order_by("-date", "kind")[:limit]))


# --- Deliverability ------------------------------------------------------------------------


@dataclass
class Rates:
    days: int
    sent: int
    bounced: int
    complained: int
    bounce_rate: float | None
    complaint_rate: float | None
    bounce_warning: bool
    complaint_warning: bool


def deliverability(*, today: dt.date, windows: tuple[int, ...] = (7, 30)) -> list[Rates]:
    """Bounces and spam complaints per digest sent, over the editions of the last 7 and 30
    days (one query), with warnings at DASHBOARD_BOUNCE_RATE_WARNING and
    DASHBOARD_COMPLAINT_RATE_WARNING (percent)."""
    sums = {}
    for days in windows:
        recent = Q(date__gt=today - dt.timedelta(days=days), date__lte=today)
        for field in ("sent_count", "bounced_count", "complained_count"):
            sums[f"{field}_{days}"] = Sum(field, filter=recent)
    totals = Edition.objects.filter(date__gt=today - dt.timedelta(days=max(windows))).aggregate(
        **sums
    )
    result = []
    for days in windows:
        sent, bounced, complained = (
            totals[f"{field}_{days}"] or 0
            for field in ("sent_count", "bounced_count", "complained_count")
        )
        bounce_rate, complaint_rate = _rate(bounced, sent), _rate(complained, sent)
        result.append(
            Rates(
                days=days,
                sent=sent,
                bounced=bounced,
                complained=complained,
                bounce_rate=bounce_rate,
                complaint_rate=complaint_rate,
                bounce_warning=(bounce_rate or 0) >= settings.DASHBOARD_BOUNCE_RATE_WARNING,
                complaint_warning=(complaint_rate or 0)
                >= settings.DASHBOARD_COMPLAINT_RATE_WARNING,
            )
        )
    return result


def daily_rates(
    *, today: dt.date, days: int = 30
) -> list[tuple[dt.date, float | None, float | None]]:
    """(day, bounce %, complaint %) for each of the last `days` days (None: nothing sent)."""
    by_day = {
        row["date"]: row
        for row in Edition.objects.filter(date__gt=today - dt.timedelta(days=days), date__lte=today)
        .values("date")
        .annotate(sent=Sum("sent_count"), b=Sum("bounced_count"), c=Sum("complained_count"))
        .order_by()
    }
    out = []
    for day in _days(today, days):
        row = by_day.get(day)
        sent = row["sent"] if row else 0
        out.append(
            (day, _rate(row["b"], sent) if row else None, _rate(row["c"], sent) if row else None)
        )
    return out


# --- Machinery -----------------------------------------------------------------------------


def queue_lengths() -> dict[str, int | None]:
    """Messages waiting per Celery queue; None when the broker cannot be asked."""
    names = {celery_app.conf.task_default_queue or "celery"}
    names.update(
        route.get("queue")
        for route in (celery_app.conf.task_routes or {}).values()
        if isinstance(route, dict) and route.get("queue")
    )
    lengths: dict[str, int | None] = {}
    try:
        # From the app's connection pool: a page view reuses the broker connection.
        with celery_app.pool.acquire(block=True, timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            channel = conn.default_channel
            for name in sorted(names):
                try:
                    lengths[name] = channel.queue_declare(queue=name, passive=True).message_count
                except Exception:  # a queue nobody declared yet holds nothing
                    lengths[name] = 0
    except Exception:
        return dict.fromkeys(sorted(names))
    return lengths


def oldest_pending_delivery() -> dt.datetime | None:
    """When the oldest delivery still waiting for a worker was created (partial index)."""
    return (
        Delivery.objects.filter(status=Delivery.Status.PENDING)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )


@dataclass
class Machinery:
    jobs: list
    queues: dict
    oldest_pending: dt.datetime | None
    red: bool


def machinery(*, now: dt.datetime) -> Machinery:
    states = jobs.job_states(now=now)
    return Machinery(
        jobs=states,
        queues=queue_lengths(),
        oldest_pending=oldest_pending_delivery(),
        red=any(state.red for state in states),
    )


# --- Papers --------------------------------------------------------------------------------


def top_papers(*, today: dt.date, by: str, limit: int = 10) -> list[dict]:
    """Papers with the most digest clicks (`by="clicks"`) or More signals (`by="more"`)
    in the last seven days."""
    week = PaperDay.objects.filter(day__gt=today - dt.timedelta(days=7), day__lte=today)
    condition = Q(clicks__gt=0) if by == "clicks" else Q(more__gt=0) | Q(less__gt=0)
    return list(
        week.filter(condition)
        .values("paper_id", "paper__title", "paper__slug")
        .annotate(clicks=Sum("clicks"), more=Sum("more"), less=Sum("less"))
        .order_by(f"-{by}", "paper_id")[:limit]
    )


DRAFTS_COUNTED = 1000


def drafts(*, limit: int = 8) -> tuple[int, list[Paper]]:
    """(drafts waiting, counted up to DRAFTS_COUNTED + 1, so the cost stays bounded
    whatever an import left; the newest few)."""
    waiting = Paper.objects.filter(status=Paper.Status.DRAFT).order_by()
    # Newest by publication date: the order of the (status, -published_on) index.
    latest = list(waiting.order_by("-published_on").only("pk", "title")[:limit])
    return waiting[: DRAFTS_COUNTED + 1].count(), latest


def fetch_days(*, today: dt.date, days: int = 14) -> tuple[list[dt.date], list[tuple]]:
    """(days, [(source, [papers created per day])]) for the fetchers, newest day last."""
    dates = _days(today, days)
    rows = FetchDay.objects.filter(day__gte=dates[0], day__lte=today)
    by_source: dict[str, dict] = {}
    for row in rows:
        by_source.setdefault(row.source, {})[row.day] = row
    table = [
        (source, [found.get(day) for day in dates]) for source, found in sorted(by_source.items())
    ]
    return dates, table


def now_and_today() -> tuple[dt.datetime, dt.date]:
    now = timezone.now()
    return now, timezone.localdate(now)
