"""The dashboard (the admin index for staff) and the reader preview, as admin views."""

import datetime as dt

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path

from digests.dashboard import selectors
from digests.dashboard.preview import reader_preview
from lib import charts
from subscriptions.models import Subscriber


def _label(day: dt.date) -> str:
    return f"{day:%d %b}"


def _list_chart(panel: selectors.ListPanel) -> charts.Chart:
    lines = [
        (status.capitalize(), [getattr(panel.rows.get(d), status, None) for d in panel.days])
        for status in selectors.STATUSES
    ]
    confirmed = [v for v in lines[0][1] if v is not None]
    trend = (
        f"Confirmed subscribers went from {confirmed[0]:,} to {confirmed[-1]:,}"
        if confirmed
        else "No list counts recorded yet"
    )
    return charts.line_chart(
        id="list",
        title=f"Subscribers by status, last {len(panel.days)} days",
        summary=f"{trend} over the last {len(panel.days)} days.",
        labels=[_label(d) for d in panel.days],
        lines=lines,
    )


def _editions_chart(editions) -> charts.Chart:
    labels = [f"{e.date:%d %b}{' (weekly)' if e.kind == 'weekly' else ''}" for e in editions]
    fields = [
        ("Sent", "sent_count"),
        ("Delivered", "delivered_count"),
        ("Opened", "opened_count"),
        ("Clicked", "clicked_count"),
    ]
    last = editions[-1] if editions else None
    summary = (
        f"The latest edition, {last}, went to {last.sent_count:,} readers: "
        f"{last.opened_count:,} opened it and {last.clicked_count:,} clicked."
        if last
        else "No edition yet."
    )
    return charts.line_chart(
        id="editions",
        title=f"The last {len(editions)} editions",
        summary=summary,
        labels=labels,
        lines=[(name, [getattr(e, f) for e in editions]) for name, f in fields],
    )


def _rates_chart(rows, settings) -> charts.Chart:
    return charts.line_chart(
        id="rates",
        title="Bounce and complaint rates per day, last 30 days",
        summary=(
            "Bounces and spam complaints per hundred digests sent each day, against Gmail's "
            f"0.3% spam-rate line and the warning at {settings.DASHBOARD_COMPLAINT_RATE_WARNING}% "
            "complaints."
        ),
        labels=[_label(day) for day, _, _ in rows],
        lines=[
            ("Bounce rate", [b for _, b, _ in rows]),
            ("Complaint rate", [c for _, _, c in rows]),
        ],
        unit="%",
        references=[(selectors.GMAIL_SPAM_LINE, "Gmail's 0.3% spam line")],
    )


def _edition_rows(editions, *, feedback: bool) -> list[tuple]:
    """(edition, formatted cells), newest first, for the table under the chart."""
    rows = []
    for e in reversed(editions):
        cells = [
            f"{e.sent_count:,}",
            f"{e.skipped_count:,}: {e.skipped_no_match:,} / {e.skipped_all_seen:,} / "
            f"{e.skipped_inactive:,} / {e.skipped_feed:,}",
            f"{e.failed_count:,}",
            f"{e.delivered_count:,}",
            f"{e.opened_count:,}",
            f"{e.clicked_count:,}",
        ]
        if feedback:
            cells.append(f"{e.more_count:,} / {e.less_count:,}")
        cells.append(f"{e.unsubscribed_count:,}")
        rows.append((e, cells))
    return rows


def dashboard_context(request) -> dict:
    from django.conf import settings

    now, today = selectors.now_and_today()
    try:
        period = int(request.GET.get("days", "30"))
    except ValueError:
        period = 30
    period = period if period in selectors.PERIODS else 30
    panel = selectors.list_panel(today=today, period=period)
    editions = selectors.recent_editions()
    feedback = any(e.more_count or e.less_count for e in editions)
    rates = selectors.daily_rates(today=today)
    draft_count, draft_list = selectors.drafts()
    fetch_dates, fetch_rows = selectors.fetch_days(today=today)
    return {
        "dashboard": True,
        "now": now,
        "period": period,
        "periods": selectors.PERIODS,
        "list": panel,
        "list_chart": _list_chart(panel),
        "editions": editions,
        "editions_chart": _editions_chart(editions),
        "show_feedback": feedback,
        "edition_rows": _edition_rows(editions, feedback=feedback),
        "deliverability": selectors.deliverability(today=today),
        "bounce_warning_at": settings.DASHBOARD_BOUNCE_RATE_WARNING,
        "complaint_warning_at": settings.DASHBOARD_COMPLAINT_RATE_WARNING,
        "rates_chart": _rates_chart(rates, settings),
        "machinery": selectors.machinery(now=now),
        "top_clicked": selectors.top_papers(today=today, by="clicks"),
        "top_feedback": selectors.top_papers(today=today, by="more"),
        "draft_count": draft_count,
        "draft_limit": selectors.DRAFTS_COUNTED,
        "drafts": draft_list,
        "fetch_dates": fetch_dates,
        "fetch_rows": fetch_rows,
    }


class SubscriberPick(forms.Form):
    subscriber = forms.CharField(label="Subscriber (e-mail address or id)", max_length=254)

    def clean_subscriber(self):
        value = self.cleaned_data["subscriber"].strip()
        found = (
            Subscriber.objects.filter(pk=int(value)).first()
            if value.isdigit()
            else Subscriber.objects.by_email(value).first()
        )
        if found is None:
            raise forms.ValidationError("No subscriber with that address or id.")
        return found


class PaperboyAdminSite(admin.AdminSite):
    """The admin, with a dashboard as the index for staff and the reader preview."""

    index_template = "admin/dashboard.html"

    def index(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), **dashboard_context(request)}
        return super().index(request, extra_context)

    def get_urls(self):
        return [
            path(
                "reader-preview/",
                self.admin_view(self.reader_preview_view),
                name="reader_preview",
            ),
            path(
                "reader-preview/<int:pk>/",
                self.admin_view(self.reader_preview_view),
                name="reader_preview",
            ),
            *super().get_urls(),
        ]

    def reader_preview_view(self, request, pk: int | None = None):
        # It shows a reader's address and preferences: only for those who may view readers.
        if not request.user.has_perm("subscriptions.view_subscriber"):
            raise PermissionDenied
        subscriber = get_object_or_404(Subscriber, pk=pk) if pk else None
        form = SubscriberPick(request.GET or None)
        if subscriber is None and form.is_bound and form.is_valid():
            subscriber = form.cleaned_data["subscriber"]
        context = {
            **self.each_context(request),
            "title": "Preview what a reader will get",
            "form": form,
            "preview": reader_preview(subscriber=subscriber) if subscriber else None,
        }
        return TemplateResponse(request, "admin/reader_preview.html", context)
