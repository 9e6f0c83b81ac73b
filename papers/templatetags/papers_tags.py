"""Filters for paper pages: search headlines, short author lists, compact star counts,
LaTeX as MathML, absolute URLs for link previews, whether to show the banner, and
http(s)-only links."""

import datetime
import functools
import re
from html import escape as _escape

from django import template
from django.conf import settings
from django.utils.formats import date_format
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language

from papers import maths
from papers.identifiers import InvalidIdentifier
from papers.identifiers import http_url as _http_url
from papers.models import url_prefix
from papers.search import MARK_END, MARK_START, mark_terms

register = template.Library()
_MARKED = re.compile(f"{MARK_START}([^{MARK_START}{MARK_END}]*){MARK_END}")


@register.filter
def headline(text: str, query: str = "") -> str:
    """Escaped `text` with search matches in <mark>. Matches come from ts_headline's
    markers (PostgreSQL) or, when there are none, from the query's words."""
    text = mark_terms(text or "", query or "")
    html = _MARKED.sub(r"<mark>\1</mark>", escape(text))
    # Whatever marker is left has no partner: drop it rather than leave a <mark> open.
    html = html.replace(MARK_START, "").replace(MARK_END, "")
    return mark_safe(html)


@register.filter
def http_url(value) -> str:
    """`value` if it is an http(s) URL, else "": every href built from imported data goes
    through it, so a `javascript:` or `data:` link that reached the database some other
    way (an old import, a bulk SQL load) still never becomes a working link."""
    try:
        return _http_url(value)
    except InvalidIdentifier:
        return ""


@register.filter
def short_authors(authors, limit: int = 4) -> str:
    """'A, B, C and D' or 'A, B, C et al.' for longer lists."""
    names = [str(name) for name in (authors or [])]
    if len(names) > limit:
        return ", ".join(names[: limit - 1]) + " et al."
    if len(names) > 1:
        return ", ".join(names[:-1]) + " and " + names[-1]
    return names[0] if names else ""


@register.filter
def compact(number) -> str:
    """12 → '12', 1234 → '1.2k', 56789 → '57k'."""
    try:
        number = int(number)
    except (TypeError, ValueError):
        return ""
    if number < 1000:
        return str(number)
    if number < 10_000:
        return f"{number / 1000:.1f}k".replace(".0k", "k")
    return f"{round(number / 1000)}k"


@register.filter
def mathml(text) -> str:
    """Escaped text with its $LaTeX$ as MathML (papers.maths)."""
    return maths.maths_html(text)


@register.filter
def maths_text(text) -> str:
    """Text with its $LaTeX$ in a readable plain form (escaped by the template)."""
    return maths.maths_text(text)


@register.filter
def absolute(url) -> str:
    """SITE_URL + url for a path ("/media/x.png"); full URLs (S3 storage) pass as they are.
    Link previews are fetched by other sites, which need the full address."""
    url = str(url or "")
    return url if "://" in url else settings.SITE_URL + url


# Pages about one's own account or subscription: an invitation to subscribe is noise there.
_NO_BANNER_PREFIXES = ("/accounts/", "/subscribe/", "/confirm/", "/preferences/", "/unsubscribe/")


@register.simple_tag(takes_context=True)
def banner_wanted(context) -> bool:
    """Show the subscribe banner? Not on account and subscription pages, and not to a
    signed-in user who is already subscribed (a dismissal by a visitor is handled in the
    browser, so cached pages stay the same for every visitor)."""
    request = context.get("request")
    if request is None:
        return True
    if request.path.startswith(_NO_BANNER_PREFIXES):
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from subscriptions.models import Subscriber

        return not Subscriber.objects.filter(
            user=user,
            status__in=[
                Subscriber.Status.PENDING,
                Subscriber.Status.CONFIRMED,
                Subscriber.Status.PAUSED,
            ],
        ).exists()
    return True


@register.filter
def with_stars(repository) -> bool:
    """Whether a repository's star count is known: counted by GitHub, or non-zero. A
    repository never checked shows no "★ 0"."""
    return bool(repository.stars) or repository.stars_checked_at is not None


@register.simple_tag
def sample_data_loaded() -> bool:
    """Whether the bundled sample (simulated dates and stars) is in the database, so the
    footer can say so: a cache read, written by papers.sample.sample_note_refresh."""
    from django.core.cache import cache

    from papers.sample import SAMPLE_NOTE_KEY

    return bool(cache.get(SAMPLE_NOTE_KEY, False))


@register.filter
def iso_week(day) -> str:
    """2026-12-01 → "2026-W49", the form of /papers/week/ URLs."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@register.filter
def first_thumbnail(papers):
    """The first paper in `papers` with a thumbnail (a list page's link-preview image)."""
    return next((paper for paper in papers or [] if paper.thumbnail), None)


@register.filter
def author_links_html(paper, limit: int = 4) -> str:
    """The first `limit` authors as links to their pages, "et al." after; every author
    for a limit of 0 (the paper page). Built here rather than by a template loop: a page
    of cards has over a hundred authors, and the template engine costs several times
    more per link. (The standard library's escape: Django's wraps the same call in a
    check for lazy strings that costs more than the escaping.)"""
    links = paper.author_links
    shown = links[:limit] if limit else links
    html = ", ".join(f'<a href="{_escape(url)}">{_escape(name)}</a>' for name, url in shown)
    return mark_safe(html + (" et al." if len(links) > len(shown) else ""))


def _card_topics(paper) -> list:
    """The paper's (prefetched) topics as a list, kept on the instance: a card reads them
    twice, and each `paper.topics` builds a new related manager."""
    try:
        return paper._card_topics
    except AttributeError:
        paper._card_topics = list(paper.topics.all())
        return paper._card_topics


@register.filter
def card_links(paper) -> str:
    """A card's arXiv, PDF and Code ★ buttons and its first three topics, as <li> items.
    Built here for the same reason as author_links_html: cards are the hot path of every
    list page. Stars show only when known (with_stars). Every value is a str, escaped by
    the standard library's escape as in author_links_html."""
    items = []
    if paper.arxiv_id or paper.abstract_url:
        items.append(
            f'<li><a class="chip" href="{_escape(paper.arxiv_url)}" rel="noopener">arXiv</a></li>'
        )
    if paper.arxiv_id or paper.pdf_url:
        items.append(
            f'<li><a class="chip" href="{_escape(paper.pdf_link)}" rel="noopener">PDF</a></li>'
        )
    code = next(iter(paper.code_links.all()), None)
    if code is not None:
        repository = code.repository
        stars = ""
        if with_stars(repository):
            stars = (
                ' <span class="stars"><span aria-hidden="true">★</span> '
                f'{compact(repository.stars)}<span class="visually-hidden"> stars</span></span>'
            )
        items.append(
            f'<li><a class="chip chip--code" href="{_escape(repository.url)}" rel="noopener">'
            f"Code{stars}</a></li>"
        )
    # Cards sit in fragment caches shared by every reader: Save is a plain link (no token,
    # no per-reader state) to a page whose button POSTs.
    save = url_prefix("papers:library-save", "paper_id", "0") + f"{int(paper.pk)}/"
    label = _escape(maths.maths_text(paper.title)[:60])
    items.append(
        f'<li><a class="chip chip--save" href="{save}">Save'
        f'<span class="visually-hidden"> {label}</span></a></li>'
    )
    for topic in _card_topics(paper)[:3]:
        items.append(
            f'<li><a class="tag" href="{_escape(topic.get_absolute_url())}">'
            f"{_escape(topic.name)}</a></li>"
        )
    return mark_safe("".join(items))


@register.filter
def first_topic_name(paper) -> str:
    """What a card without a thumbnail shows in its place: its first topic, or "Paper"."""
    topics = _card_topics(paper)
    return topics[0].name if topics else "Paper"


@register.simple_tag
def card_values(paper, query: str = "") -> dict:
    """{% card_values paper query as card %}: everything a paper card
    (partials/paper_card.html) shows, computed in one pass:
    the template then reads plain values. A page renders up to 30 cards afresh after
    each trending recompute, and each filter, attribute walk and number localisation in
    the template costs several microseconds per card; computed here, a card costs about
    half as much. `query` (search pages) marks the title and abstract headlines."""
    thumbnail = paper.thumbnail
    if query:
        title = headline(paper.title_headline, query)
        abstract = headline(paper.abstract_headline, query)
    else:
        title = maths.maths_html(paper.title)
        abstract = maths.maths_html(Truncator(paper.abstract).words(40, truncate=" …"))
    return {
        "id": f"paper-{paper.pk}",
        "url": paper.get_absolute_url(),
        "thumbnail_url": thumbnail.url if thumbnail else "",
        "thumbnail_width": str(paper.thumbnail_width or 480),
        "thumbnail_height": str(paper.thumbnail_height or 621),
        "kind": "" if thumbnail else first_topic_name(paper),
        "title": title,
        # The authors' span is there whenever the paper lists authors, even if none of
        # them has a usable page.
        "has_authors": bool(paper.authors),
        "authors": author_links_html(paper) if paper.authors else "",
        "date": time_tag(paper.published_on, "j M Y"),
        "reason": getattr(paper, "trend_reason", None) or "",
        "abstract": abstract,
        "links": card_links(paper),
    }


@functools.lru_cache(maxsize=1024)
def _time_element(day: datetime.date, format_string: str, language: str) -> str:
    return format_html(
        '<time datetime="{}">{}</time>', day.isoformat(), date_format(day, format_string)
    )


@register.filter
def time_tag(day, format_string: str = "j M Y") -> str:
    """<time datetime="2026-12-01">1 Dec 2026</time> for a date (the date filter's format
    strings); "" for none. Memoised per date: a list page shows each of a few dozen dates
    several times, and Django's date formatting costs about 15 µs a call."""
    if not day:
        return ""
    return _time_element(day, format_string, get_language())


@register.inclusion_tag("partials/save_button.html", takes_context=True)
def save_button(context, paper):
    """Save (or Remove) for signed-in readers; a sign-in link for visitors.

    The saved ids are read once per request, so a page of cards costs one query.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    saved = False
    if user is not None and user.is_authenticated:
        if not hasattr(request, "_saved_paper_ids"):
            from papers.models import LibraryItem

            request._saved_paper_ids = set(
                LibraryItem.objects.filter(user=user, paper__isnull=False).values_list(
                    "paper_id", flat=True
                )
            )
        saved = paper.pk in request._saved_paper_ids
    return {
        "paper": paper,
        "saved": saved,
        "signed_in": bool(user and user.is_authenticated),
        "next": request.get_full_path() if request else "",
        "csrf_token": context.get("csrf_token"),
    }
