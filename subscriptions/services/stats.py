"""The list's daily figures for the dashboard: events counted as they happen, and a
snapshot of the status totals taken by the hourly `record_list_size` task.

The dashboard reads these rows only; it never counts subscribers per request.
"""

import datetime

from django.db.models import Count
from django.utils import timezone

from lib.counters import counter_add
from subscriptions.models import ConsentRecord, SignupSourceDay, Subscriber, SubscriberDay

# Which consent records are which event on the dashboard.
_CONSENT_EVENTS = {
    ConsentRecord.Kind.OPT_IN: "signups",
    ConsentRecord.Kind.CONFIRM: "confirmations",
    ConsentRecord.Kind.RESUBSCRIBE: "confirmations",
    ConsentRecord.Kind.UNSUBSCRIBE: "unsubscribes",
}
_SUPPRESSIONS = {Subscriber.Status.BOUNCED: "bounces", Subscriber.Status.COMPLAINED: "complaints"}


def list_day_count(*, event: str, source: str = "", day: datetime.date | None = None) -> None:
    """Count one list event ("signups", "confirmations", "unsubscribes", "bounces",
    "complaints") on `day` (today by default); a sign-up also counts for its source."""
    day = day or timezone.localdate()
    counter_add(SubscriberDay, keys={"day": day}, **{event: 1})
    if event == "signups":
        counter_add(
            SignupSourceDay, keys={"day": day, "source": (source or "unknown")[:200]}, signups=1
        )


def list_day_count_consent(*, kind: str, source: str = "") -> None:
    if kind in _CONSENT_EVENTS:
        list_day_count(event=_CONSENT_EVENTS[kind], source=source)


def list_day_count_suppression(*, status: str) -> None:
    list_day_count(event=_SUPPRESSIONS[status])


def list_size_record(*, now: datetime.datetime | None = None) -> SubscriberDay:
    """Store how many addresses stand in each status now, on today's row (one GROUP BY
    over the status index; run hourly by beat, never per request)."""
    now = now or timezone.now()
    totals = dict.fromkeys(Subscriber.Status.values, 0)
    rows = Subscriber.objects.order_by().values_list("status").annotate(n=Count("pk"))
    totals.update(dict(rows))
    day = timezone.localdate(now)
    row, _ = SubscriberDay.objects.update_or_create(day=day, defaults={**totals, "counted_at": now})
    return row
