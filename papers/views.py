"""The public site. Views read through papers.selectors; the lists themselves are built
lazily inside `{% cache %}` fragments keyed on the trending version (papers.cache), so a
cached page costs no query at all for its papers."""

import datetime

from django import forms
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.text import Truncator
from django.views.decorators.http import require_safe

from papers import selectors, star_history
from papers.cache import cache_page_for_visitors, page_version
from papers.maths import maths_text
from papers.models import Paper, Topic, Window
from papers.search import MAX_QUERY_LENGTH, clean_query
from papers.templatetags.papers_tags import iso_week

# Cached pages and fragments live this long at most; a trending recompute retires them
# sooner. Paper pages are kept shorter as whole pages: an edit or a hidden paper shows
# within two minutes (their fragments are also keyed on the paper's updated_at).
FRAGMENT_SECONDS = 600
PAPER_PAGE_SECONDS = 120
MAX_PAGE = 500
# The query strings whose pages are cached (anything else renders afresh).
WINDOWS = set(Window.values)
PAGES = {str(n) for n in range(1, MAX_PAGE + 1)}


def _window(request) -> str:
    window = request.GET.get("window", "")
    return window if window in Window.values else Window.TODAY


def _page_number(request) -> int:
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE)


def _render(request, template: str, context: dict):
    """Render a page whose `{% cache %}` fragments are keyed on the trending version."""
    context |= {"version": page_version(request), "fragment_seconds": FRAGMENT_SECONDS}
    return render(request, template, context)


def _trending(request, topic: Topic | None = None) -> dict:
    """The window tabs and the (lazy) page of the trending list of a home or topic page."""
    window = _window(request)
    page = _page_number(request)
    return {
        "window": window,
        "window_label": Window(window).label,
        "window_lower": Window(window).label.lower(),
        "tabs": [
            {"value": value, "label": label, "current": value == window}
            for value, label in Window.choices
        ],
        "page": page,
        # Keeps the tab when the pager moves on.
        "query_string": f"window={window}",
        "listing": SimpleLazyObject(
            lambda: selectors.trending_page(window=window, topic=topic, page=page)
        ),
    }


@require_safe
@cache_page_for_visitors(FRAGMENT_SECONDS, params={"window": WINDOWS, "page": PAGES})
def home(request):
    context = _trending(request) | {"latest": selectors.latest_papers(limit=8)}
    return _render(request, "papers/home.html", context)


@require_safe
@cache_page_for_visitors(FRAGMENT_SECONDS, params={"page": PAGES})
def latest(request):
    page = _page_number(request)
    # Evaluated only when the cached fragment is missing.
    listing = SimpleLazyObject(lambda: selectors.latest_page(page=page))
    return _render(request, "papers/latest.html", {"page": page, "listing": listing})


@require_safe
@cache_page_for_visitors(PAPER_PAGE_SECONDS)
def paper_detail(request, slug):
    paper = get_object_or_404(Paper.objects.published().defer("search_vector"), slug=slug)
    # Read by the Topics section and by related_papers(): one query, and none at all when
    # the cached fragment that shows both is found.
    topics = SimpleLazyObject(lambda: list(paper.topics.order_by("name")))
    context = {
        "paper": paper,
        # <title>, description and link previews: plain text, maths written readably.
        "text_title": maths_text(paper.title),
        "text_abstract": Truncator(maths_text(paper.abstract)).chars(200),
        # Lazy, and shared with the star history, which evaluates it first.
        "code_links": star_history.code_links(paper),
        "topics": topics,
        "related": SimpleLazyObject(lambda: selectors.related_papers(paper, topics=topics)),
    }
    return _render(request, "papers/detail.html", context)


@require_safe
@cache_page_for_visitors(FRAGMENT_SECONDS)
def topic_list(request):
    return _render(request, "papers/topics.html", {"topics": selectors.topics_with_counts()})


@require_safe
@cache_page_for_visitors(FRAGMENT_SECONDS, params={"window": WINDOWS, "page": PAGES})
def topic_detail(request, slug):
    topic = get_object_or_404(Topic, slug=slug)
    return _render(request, "papers/topic.html", {"topic": topic, **_trending(request, topic)})


@require_safe
@cache_page_for_visitors(FRAGMENT_SECONDS, params={"page": PAGES})
def author_detail(request, slug):
    page = _page_number(request)
    name, listing = selectors.author_page(slug=slug, page=page)
    if not name:
        raise Http404("No published paper has this author.")
    return _render(
        request,
        "papers/author.html",
        {"author_name": name, "slug": slug, "page": page, "listing": listing},
    )


def _period_page(request, *, window: str, start, end, kind: str, label: str, url):
    """A daily, weekly or monthly page: the snapshot stored for the period (the last day
    of it that has one), with links to the nearest periods before and after that have
    one. A period with no snapshot at all is a 404, so made-up dates cache nothing."""
    period = selectors.trend_period(window=window, start=start, end=end)
    if period.day is None:
        raise Http404("Nothing was recorded for this period.")
    page = _page_number(request)
    context = {
        "kind": kind,
        "label": label,
        "period": period,
        "page": page,
        "previous_url": url(period.previous_day) if period.previous_day else "",
        "next_url": url(period.next_day) if period.next_day else "",
        "listing": SimpleLazyObject(
            lambda: selectors.snapshot_page(window=window, day=period.day, page=page)
        ),
    }
    return _render(request, "papers/period.html", context)


@require_safe
def latest_day(request):
    """/papers/date/: the newest daily page (the home page if nothing is recorded yet)."""
    day = selectors.latest_snapshot_day()
    if day is None:
        return redirect("papers:home")
    return redirect("papers:day", day=day.isoformat())


@require_safe
@cache_page_for_visitors(FRAGMENT_SECONDS, params={"page": PAGES})
def day_detail(request, day):
    date = _parse(datetime.date.fromisoformat, day, lambda d: d.isoformat())
    return _period_page(
        request,
        window=Window.TODAY,
        start=date,
        end=date,
        kind="day",
        label=f"{date:%A} {date.day} {date:%B %Y}",
        url=lambda d: reverse("papers:day", kwargs={"day": d.isoformat()}),
    )


@require_safe
@cache_page_for_visitors(FRAGMENT_SECONDS, params={"page": PAGES})
def week_detail(request, week):
    monday = _parse(lambda w: datetime.date.fromisoformat(f"{w}-1"), week, _iso_week)
    sunday = monday + datetime.timedelta(days=6)
    return _period_page(
        request,
        window=Window.WEEK,
        start=monday,
        end=sunday,
        kind="week",
        label=f"Week {monday.isocalendar().week} of {monday.isocalendar().year}, "
        f"{monday.day} {monday:%b} to {sunday.day} {sunday:%b}",
        url=lambda d: reverse("papers:week", kwargs={"week": _iso_week(d)}),
    )


@require_safe
@cache_page_for_visitors(FRAGMENT_SECONDS, params={"page": PAGES})
def month_detail(request, month):
    first = _parse(lambda m: datetime.date.fromisoformat(f"{m}-01"), month, "{:%Y-%m}".format)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return _period_page(
        request,
        window=Window.MONTH,
        start=first,
        end=following - datetime.timedelta(days=1),
        kind="month",
        label=f"{first:%B %Y}",
        url=lambda d: reverse("papers:month", kwargs={"month": f"{d:%Y-%m}"}),
    )


@require_safe
def thumbnail(request, name):
    """A stored thumbnail, for the filesystem storage (S3 storage links to the bucket).
    Names carry a hash of the image, so the browser may keep it for a year."""
    if "/" in name or name.startswith(".") or not name.endswith(".jpg"):
        raise Http404("No such thumbnail.")
    path = f"thumbnails/{name}"
    try:
        handle = default_storage.open(path, "rb")
    except (FileNotFoundError, OSError):
        raise Http404("No such thumbnail.") from None
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def _parse(parse, text: str, canonical) -> datetime.date:
    """The date `text` names, only in its one canonical spelling ("2026-12-01", "2026-W49",
    "2026-12"): other spellings are 404s rather than copies of a page."""
    try:
        date = parse(text)
    except ValueError:
        raise Http404("Not a date in the expected form.") from None
    if canonical(date) != text:
        raise Http404("Not a date in the expected form.")
    return date


def _iso_week(day: datetime.date) -> str:
    return iso_week(day)


class SearchForm(forms.Form):
    label_suffix = ""
    q = forms.CharField(label="Search papers", required=False, strip=True)
    topic = forms.ModelChoiceField(
        queryset=Topic.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="All topics",
    )
    has_code = forms.BooleanField(label="Only papers with code", required=False)
    date_from = forms.DateField(
        label="Published from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="Published until", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_q(self):
        # Overlong input is cut, not refused: a pasted abstract is still a fair search.
        return clean_query(self.cleaned_data["q"])[:MAX_QUERY_LENGTH]

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned


@require_safe
def search(request):
    form = SearchForm(request.GET or None)
    results, too_slow = None, False
    if form.is_bound and form.is_valid() and form.cleaned_data["q"]:
        try:
            results = selectors.paper_search(
                query=form.cleaned_data["q"],
                topic=form.cleaned_data["topic"],
                has_code=form.cleaned_data["has_code"],
                date_from=form.cleaned_data["date_from"],
                date_to=form.cleaned_data["date_to"],
                page=_page_number(request),
            )
        except selectors.SearchTooSlow:
            too_slow = True
    params = request.GET.copy()
    params.pop("page", None)
    suggested = params.copy()
    if results and results.suggestion:
        suggested["q"] = results.suggestion
    return render(
        request,
        "papers/search.html",
        {
            "form": form,
            "results": results,
            "too_slow": too_slow,
            "query_string": params.urlencode(),
            "suggestion_query_string": suggested.urlencode(),
        },
    )
