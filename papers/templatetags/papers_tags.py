"""Filters for paper pages: search headlines, short author lists, compact star counts."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

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
