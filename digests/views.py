"""The public archive: every edition at a permanent URL, without personal links."""

import datetime as dt

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from digests import rendering
from digests.models import Delivery, Edition, Kind
from digests.tokens import read_web_token


@require_safe
def archive(request):
    paginator = Paginator(Edition.objects.published(), 30)
    try:
        number = max(1, min(int(request.GET.get("page", "1")), paginator.num_pages))
    except ValueError:
        number = 1
    return render(request, "digests/archive.html", {"page": paginator.page(number)})


@require_safe
def edition_detail(request, kind: str, day: str):
    if kind not in Kind.values:
        raise Http404("No such digest kind.")
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        raise Http404("Not a date.") from None
    edition = get_object_or_404(Edition.objects.published(), kind=kind, date=date)
    entries = list(rendering.edition_entries(edition).values())
    return render(
        request,
        "digests/edition_detail.html",
        {"edition": edition, "entries": entries, "subject": edition.subject},
    )


@require_safe
def my_digest(request, token: str):
    """One reader's own digest, from the signed link in it: their papers, in their order.
    No login; a bad or tampered token is a plain 404 that says nothing about readers."""
    delivery_id = read_web_token(token)
    delivery = get_object_or_404(
        Delivery.objects.select_related("edition").exclude(paper_ids=[]),
        pk=delivery_id or 0,
        status__in=[Delivery.Status.SENT, Delivery.Status.SENDING],
    )
    edition = delivery.edition
    entries = rendering.entries_in_order(edition, delivery.paper_ids)
    response = render(
        request,
        "digests/edition_detail.html",
        {"edition": edition, "entries": entries, "subject": edition.subject, "personal": True},
    )
    response["X-Robots-Tag"] = "noindex"  # a reader's own copy is not for search engines
    return response
