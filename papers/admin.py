"""Curation: editors find, fix, publish, hide and pin papers here.

Bulk actions go through papers.services and write to the admin's own history (LogEntry)
one entry per paper, as the admin does for single edits.
"""

import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import OuterRef, Subquery
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join

from papers import services
from papers.fetchers.base import FetchError
from papers.identifiers import InvalidIdentifier, parse_arxiv_id
from papers.models import (
    Paper,
    PaperRepository,
    Repository,
    Topic,
    Trend,
    Window,
    normalise_title,
)


def _formfield(db_field, **kwargs):
    # Pasted links without a scheme are https today (Django 6 makes this the default).
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class HttpsURLsMixin:
    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class PaperForm(forms.ModelForm):
    class Meta:
        model = Paper
        exclude = ["search_vector"]  # noqa: DJ006 - every other field is edited here
        formfield_callback = _formfield

    def clean_arxiv_id(self):
        value = self.cleaned_data.get("arxiv_id")
        if not value:
            return None
        try:
            value = parse_arxiv_id(value)
        except InvalidIdentifier:
            raise forms.ValidationError("Not an arXiv id (e.g. 2401.01234).") from None
        if Paper.objects.filter(arxiv_id=value).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"Another paper has arXiv id {value}.")
        return value

    def clean_title(self):
        title = self.cleaned_data.get("title", "")
        key = normalise_title(title)
        if not key:
            raise forms.ValidationError("The title needs letters or digits.")
        other = Paper.objects.filter(title_key=key).exclude(pk=self.instance.pk).first()
        if other:
            raise forms.ValidationError(
                f"“{other}” already has this title: one paper is one record."
            )
        return title


class PaperRepositoryInline(admin.TabularInline):
    model = PaperRepository
    extra = 0
    autocomplete_fields = ["repository"]
    fields = ["repository", "is_official", "stars"]
    readonly_fields = ["stars"]

    @admin.display(description="stars")
    def stars(self, link):
        return link.repository.stars if link.repository_id else "-"


class HasCodeFilter(admin.SimpleListFilter):
    title = "has code"
    parameter_name = "code"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(has_code=self.value() == "yes")
        return queryset


@admin.register(Paper)
class PaperAdmin(HttpsURLsMixin, admin.ModelAdmin):
    form = PaperForm
    list_display = [
        "title",
        "status",
        "trending_score",
        "stars",
        "has_code",
        "published_on",
        "pinned",
    ]
    list_display_links = ["title"]
    list_filter = ["status", HasCodeFilter, "pinned", "topics", "published_on"]
    search_fields = ["title", "abstract", "arxiv_id", "authors"]
    date_hierarchy = "published_on"
    list_per_page = 50
    actions = ["publish", "hide", "make_draft", "pin", "unpin"]
    inlines = [PaperRepositoryInline]
    filter_horizontal = ["topics"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["stars", "has_code", "sources", "trends_now", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["status", "title", "slug", "abstract", "authors"]}),
        (
            "Identifiers and links",
            {"fields": ["arxiv_id", "doi", "abstract_url", "pdf_url", "categories"]},
        ),
        ("Dates", {"fields": ["published_on", "updated_on"]}),
        ("Topics", {"fields": ["topics"]}),
        (
            "Editorial weight",
            {
                "fields": ["pinned", "boost", "boost_until", "trends_now"],
                "description": "A pin puts the paper on top of every trending window; a boost "
                "adds to its score. Both end at “boost until” when it is set.",
            },
        ),
        ("Computed", {"fields": ["stars", "has_code", "sources", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        score = Trend.objects.filter(paper=OuterRef("pk"), window=Window.WEEK).values("score")
        return (
            super()
            .get_queryset(request)
            .defer("search_vector")
            .annotate(week_score=Subquery(score[:1]))
        )

    @admin.display(description="trending (week)", ordering="week_score")
    def trending_score(self, paper):
        return "-" if paper.week_score is None else f"{paper.week_score:.2f}"

    @admin.display(description="why trending now")
    def trends_now(self, paper):
        rows = paper.trends.order_by("window") if paper.pk else []
        return (
            format_html_join(
                "", "<div>{}: {} ({:.2f})</div>", ((t.window, t.reason, t.score) for t in rows)
            )
            or "Not scored yet (scores are recomputed hourly)."
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The inline may have added or removed code: keep the list's stars/has_code true.
        services.papers_refresh_code_stats(paper_ids=[form.instance.pk])

    # --- bulk actions ---------------------------------------------------------------------

    def _log(self, request, papers, message):
        for paper in papers:
            self.log_change(request, paper, message)

    def _set_status(self, request, queryset, status, verb):
        papers = list(queryset.exclude(status=status))
        count = services.papers_set_status(papers=queryset, status=status)
        self._log(request, papers, verb)
        self.message_user(request, f"{verb}: {count} paper(s).", messages.SUCCESS)

    @admin.action(description="Publish selected papers", permissions=["change"])
    def publish(self, request, queryset):
        self._set_status(request, queryset, Paper.Status.PUBLISHED, "Published")

    @admin.action(description="Hide selected papers", permissions=["change"])
    def hide(self, request, queryset):
        self._set_status(request, queryset, Paper.Status.HIDDEN, "Hidden")

    @admin.action(description="Move selected papers back to draft", permissions=["change"])
    def make_draft(self, request, queryset):
        self._set_status(request, queryset, Paper.Status.DRAFT, "Moved to draft")

    @admin.action(description="Pin selected papers (until unpinned)", permissions=["change"])
    def pin(self, request, queryset):
        papers = list(queryset)
        count = services.papers_pin(papers=queryset)
        self._log(request, papers, "Pinned")
        self.message_user(request, f"Pinned {count} paper(s).", messages.SUCCESS)

    @admin.action(description="Unpin selected papers", permissions=["change"])
    def unpin(self, request, queryset):
        papers = list(queryset.filter(pinned=True))
        count = services.papers_unpin(papers=queryset)
        self._log(request, papers, "Unpinned")
        self.message_user(request, f"Unpinned {count} paper(s).", messages.SUCCESS)

    # --- Add by arXiv id -------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "add-by-arxiv/",
                self.admin_site.admin_view(self.add_by_arxiv_view),
                name="papers_paper_add_by_arxiv",
            ),
            *super().get_urls(),
        ]

    def add_by_arxiv_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = AddByArxivForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                summary = services.papers_add_by_arxiv_ids(ids=form.cleaned_data["ids"])
            except FetchError as exc:
                self.message_user(request, f"Could not reach arXiv: {exc}", messages.ERROR)
            else:
                for paper in Paper.objects.filter(pk__in=summary.created_ids):
                    self.log_addition(request, paper, "Added by arXiv id (draft)")
                self.message_user(
                    request,
                    f"{summary.created} created as drafts, {summary.updated} updated, "
                    f"{summary.unchanged} already present, {len(summary.skipped)} skipped.",
                    messages.SUCCESS
                    if summary.created or not summary.skipped
                    else messages.WARNING,
                )
                for skip in summary.skipped:
                    self.message_user(request, f"{skip.location}: {skip.reason}", messages.WARNING)
                changelist = reverse("admin:papers_paper_changelist")
                return redirect(f"{changelist}?status__exact=draft")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": "Add papers by arXiv id",
        }
        return TemplateResponse(request, "admin/papers/paper/add_by_arxiv.html", context)


class AddByArxivForm(forms.Form):
    MAX_IDS = 100

    ids = forms.CharField(
        label="arXiv ids",
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60}),
        help_text="One or more ids or arXiv URLs, separated by spaces, commas or new lines "
        "(e.g. 2401.01234 or https://arxiv.org/abs/2401.01234v2).",
    )

    def clean_ids(self):
        raw = [part for part in re.split(r"[\s,;]+", self.cleaned_data["ids"]) if part]
        ids, bad = [], []
        for part in raw:
            try:
                ids.append(parse_arxiv_id(part))
            except InvalidIdentifier:
                bad.append(part)
        if bad:
            raise forms.ValidationError(f"Not arXiv ids: {', '.join(bad[:10])}")
        ids = list(dict.fromkeys(ids))
        if not ids:
            raise forms.ValidationError("Give at least one arXiv id.")
        if len(ids) > self.MAX_IDS:
            raise forms.ValidationError(f"At most {self.MAX_IDS} ids at a time.")
        return ids


@admin.register(Repository)
class RepositoryAdmin(HttpsURLsMixin, admin.ModelAdmin):
    list_display = ["__str__", "url", "stars", "framework", "stars_checked_at"]
    search_fields = ["url", "owner", "name"]
    list_filter = ["framework"]
    readonly_fields = ["stars_checked_at", "history"]

    @admin.display(description="star history (latest 30)")
    def history(self, repo):
        snapshots = repo.snapshots.order_by("-taken_at")[:30] if repo.pk else []
        return (
            format_html_join(
                "", "<div>{:%Y-%m-%d %H:%M}: {}</div>", ((s.taken_at, s.stars) for s in snapshots)
            )
            or "No snapshots yet."
        )


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
