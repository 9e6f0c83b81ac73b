"""The public site. Views read through papers.selectors; the lists themselves are built
lazily inside `{% cache %}` fragments keyed on the trending version (papers.cache), so a
cached page costs no query at all for its papers."""

from django import forms
from django.shortcuts import get_object_or_404, render
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_safe

from papers import selectors
from papers.cache import cache_page_for_visitors, trending_version
from papers.models import Paper, PaperRepository, Topic, Window
from papers.search import MAX_QUERY_LENGTH, clean_query

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
    context |= {"version": trending_version(), "fragment_seconds": FRAGMENT_SECONDS}
    return render(request, template, context)


def _trending(request, topic: Topic | None = None) -> dict:
    """The window tabs and the (lazy) trending list of a home or topic page."""
    window = _window(request)
    return {
        "window": window,
        "window_label": Window(window).label,
        "tabs": [
            {"value": value, "label": label, "current": value == window}
            for value, label in Window.choices
        ],
        "papers": selectors.trending_papers(window=window, topic=topic),
    }


@require_safe
@cache_page_for_visitors(FRAGMENT_SECONDS, params={"window": WINDOWS})
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
    code_links = PaperRepository.objects.filter(paper=paper).select_related("repository")
    context = {
        "paper": paper,
        "code_links": code_links.order_by("-is_official", "-repository__stars", "pk"),
        "topics": paper.topics.order_by("name"),
        "related": SimpleLazyObject(lambda: selectors.related_papers(paper)),
    }
    return _render(request, "papers/detail.html", context)


@require_safe
@cache_page_for_visitors(FRAGMENT_SECONDS)
def topic_list(request):
    return _render(request, "papers/topics.html", {"topics": selectors.topics_with_counts()})


@require_safe
@cache_page_for_visitors(FRAGMENT_SECONDS, params={"window": WINDOWS})
def topic_detail(request, slug):
    topic = get_object_or_404(Topic, slug=slug)
    return _render(request, "papers/topic.html", {"topic": topic, **_trending(request, topic)})


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
    return render(
        request,
        "papers/search.html",
        {
            "form": form,
            "results": results,
            "too_slow": too_slow,
            "query_string": params.urlencode(),
        },
    )
