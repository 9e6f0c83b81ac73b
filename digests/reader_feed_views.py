"""The reader's private feed of their own digests, as Atom and as JSON Feed 1.1.

Fetching a feed records nothing; following a paper link from it counts as reading (a
click-through, like an ESP's click tracking), which the relevance model learns from.
"""

import json

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import feedgenerator
from django.utils.html import escape
from django.views.decorators.http import require_POST, require_safe

from digests import selectors, tokens
from digests.services import reader, updates
from papers.models import Paper
from subscriptions import tokens as subscription_tokens
from subscriptions.tokens import BadToken


def _title(digest) -> str:
    edition = digest.delivery.edition
    return (
        f"{settings.SITE_NAME} {edition.get_kind_display().lower()} digest, {edition.date:%d %b %Y}"
    )


def _read_url(token: str, paper_id: int) -> str:
    return settings.SITE_URL + reverse("digests:reader-feed-read", args=[token, paper_id])


def _html(digest, token: str) -> str:
    rows = []
    for item in digest.items:
        why = " · ".join(escape(r) for r in (item.personal_reason, item.trending_reason) if r)
        link = escape(_read_url(token, item.paper.pk))
        note = f"<br><small>{why}</small>" if why else ""
        rows.append(f'<li><a href="{link}">{escape(item.paper.title)}</a>{note}</li>')
    return "<ol>" + "".join(rows) + "</ol>"


def _feed(token: str):
    try:
        return tokens.reader_feed_read(token)
    except BadToken:
        return None


@require_safe
def reader_feed_atom(request, token: str):
    feed = _feed(token)
    if feed is None:
        return HttpResponseBadRequest("This feed address is not valid (or was replaced).\n")
    atom = feedgenerator.Atom1Feed(
        title=f"Your {settings.SITE_NAME} digests",
        link=settings.SITE_URL + "/",
        description="Your own digests: the same papers, order and reasons as your e-mail.",
        feed_url=request.build_absolute_uri(),
        language="en",
    )
    for digest in selectors.reader_digests(subscriber=feed.subscriber):
        edition = digest.delivery.edition
        atom.add_item(
            title=_title(digest),
            link=settings.SITE_URL + edition.get_absolute_url(),
            description=_html(digest, token),
            unique_id=f"{settings.SITE_URL}/digests/delivery/{digest.delivery.pk}",
            updateddate=digest.delivery.sent_at or digest.delivery.created_at,
            pubdate=digest.delivery.sent_at or digest.delivery.created_at,
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    atom.write(response, "utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_safe
def reader_feed_json(request, token: str):
    feed = _feed(token)
    if feed is None:
        return HttpResponseBadRequest("This feed address is not valid (or was replaced).\n")
    items = []
    for digest in selectors.reader_digests(subscriber=feed.subscriber):
        edition = digest.delivery.edition
        when = digest.delivery.sent_at or digest.delivery.created_at
        items.append(
            {
                "id": f"{settings.SITE_URL}/digests/delivery/{digest.delivery.pk}",
                "url": settings.SITE_URL + edition.get_absolute_url(),
                "title": _title(digest),
                "content_html": _html(digest, token),
                "date_published": when.isoformat(),
                "_paperboy": {
                    "papers": [
                        {
                            "title": item.paper.title,
                            "url": _read_url(token, item.paper.pk),
                            "arxiv_id": item.paper.arxiv_id,
                            "why_trending": item.trending_reason,
                            "why_for_you": item.personal_reason,
                        }
                        for item in digest.items
                    ]
                },
            }
        )
    body = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": f"Your {settings.SITE_NAME} digests",
        "home_page_url": settings.SITE_URL + "/",
        "feed_url": request.build_absolute_uri(),
        "items": items,
    }
    response = HttpResponse(json.dumps(body, indent=1), content_type="application/feed+json")
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_safe
def reader_feed_read(request, token: str, paper_id: int):
    """A paper link from the feed: counts as reading, then goes to the paper."""
    feed = _feed(token)
    paper = get_object_or_404(Paper.objects.published(), pk=paper_id)
    if feed is not None and request.method == "GET":
        reader.reader_read_record(subscriber=feed.subscriber, paper=paper)
    return redirect(paper.get_absolute_url())


@require_POST
def reader_feed_settings(request, token: str):
    """From the preference centre (signed manage link): new feed address, or feed only."""
    try:
        subscriber = subscription_tokens.subscriber_for_token(token, subscription_tokens.MANAGE)
    except BadToken:
        return HttpResponseBadRequest("This link is not valid.\n")
    action = request.POST.get("action")
    if action == "rotate":
        reader.reader_feed_rotate(subscriber=subscriber)
    elif action in ("feed_only", "email"):
        reader.reader_feed_set_feed_only(subscriber=subscriber, feed_only=action == "feed_only")
    elif action in ("updates_email", "updates_digest"):
        updates.reader_updates_set_by_email(
            subscriber=subscriber, by_email=action == "updates_email"
        )
    else:
        return HttpResponseBadRequest("Unknown action.\n")
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back + "#your-feed")
    return redirect(reverse("subscriptions:manage", args=[token]) + "#your-feed")
