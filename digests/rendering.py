"""Render each distinct digest once, from the papers chosen for it.

The recipient's own links (web copy, preferences, unsubscribe) are not known here: the
caller passes the values to put in their place, usually digests.sending's placeholders,
which sending.py later turns into each reader's links or the ESP's merge fields.
"""

from dataclasses import dataclass, replace
from functools import lru_cache

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat

from digests.models import Edition, EditionPaper
from lib.emails import render_parts
from papers.maths import maths_text
from papers.models import PaperRepository

ABSTRACT_CHARS = 200  # two or three lines of the e-mail's column
AUTHORS_SHOWN = 4
THUMBNAIL_WIDTH = 88  # px in the e-mail; templates/emails/digest-body.html uses the same


@dataclass(frozen=True)
class PaperEntry:
    """What a digest shows about one paper: plain values, cheap to keep per process."""

    id: int
    title: str
    url: str
    authors: str
    published_on: object
    abstract: str
    reason: str
    stars: int
    code: tuple  # ((url, "owner/name", stars, is_official), ...)
    personal_reason: str = ""  # why for this reader (the relevance model), if any
    arxiv_url: str = ""
    pdf_url: str = ""
    thumbnail_url: str = ""
    thumbnail_height: int = 0  # at THUMBNAIL_WIDTH, when the image's size is known


@dataclass(frozen=True)
class Rendered:
    """One distinct digest: subject, text part and (inlined) HTML part, with the link
    values the caller passed in place of each reader's links."""

    subject: str
    text: str
    html: str | None


def _authors(names: list) -> str:
    names = [str(n) for n in names or []]
    if len(names) > AUTHORS_SHOWN:
        return ", ".join(names[:AUTHORS_SHOWN]) + " et al."
    return ", ".join(names)


def _short(text: str) -> str:
    text = " ".join((text or "").split())
    if len(text) <= ABSTRACT_CHARS:
        return text
    return text[:ABSTRACT_CHARS].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def _arxiv_urls(paper) -> tuple[str, str]:
    """(abstract page, PDF) on arXiv, or wherever the paper's own links point."""
    arxiv_id = getattr(paper, "arxiv_id", "") or ""
    abstract = paper.abstract_url or (f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else "")
    pdf = paper.pdf_url or (f"https://arxiv.org/pdf/{arxiv_id}" if arxiv_id else "")
    return abstract, pdf


def _thumbnail_url(paper) -> str:
    # `Paper.thumbnail`: the first page, in Django's storage (filesystem or S3).
    image = getattr(paper, "thumbnail", None)
    if not image:
        return ""
    url = image.url
    return url if url.startswith(("http://", "https://")) else settings.SITE_URL + url


def _thumbnail_height(paper) -> int:
    """The height at THUMBNAIL_WIDTH, so the e-mail reserves the image's space before it
    loads (from `thumbnail_width`/`thumbnail_height`, stored beside the image)."""
    width, height = (getattr(paper, f"thumbnail_{side}", None) for side in ("width", "height"))
    return round(THUMBNAIL_WIDTH * height / width) if width and height else 0


def _paper_url(paper) -> str:
    try:
        return settings.SITE_URL + reverse("papers:detail", kwargs={"slug": paper.slug})
    except NoReverseMatch:  # a paper without a usable slug still gets a link
        return paper.abstract_url or settings.SITE_URL


def paper_entries(papers_with_reasons: list[tuple]) -> list[PaperEntry]:
    """Entries for [(paper, reason), ...], in order, with up to three code links each
    (official first, then by stars): one query for all the links."""
    code: dict[int, list] = {}
    links = (
        PaperRepository.objects.filter(paper_id__in=[p.pk for p, _ in papers_with_reasons])
        .select_related("repository")
        .order_by("-is_official", "-repository__stars")
    )
    for link in links:
        repo = link.repository
        code.setdefault(link.paper_id, []).append(
            (repo.url, f"{repo.owner}/{repo.name}", repo.stars, link.is_official)
        )
    # E-mail shows LaTeX as readable text: no client runs MathJax and few render MathML.
    return [
        PaperEntry(
            id=paper.pk,
            title=maths_text(paper.title),
            url=_paper_url(paper),
            authors=_authors(paper.authors),
            published_on=paper.published_on,
            abstract=_short(maths_text(paper.abstract)),
            reason=reason,
            stars=paper.stars,
            code=tuple(code.get(paper.pk, [])[:3]),
            arxiv_url=_arxiv_urls(paper)[0],
            pdf_url=_arxiv_urls(paper)[1],
            thumbnail_url=_thumbnail_url(paper),
            thumbnail_height=_thumbnail_height(paper),
        )
        for paper, reason in papers_with_reasons
    ]


@lru_cache(maxsize=8)
def _entries(edition_id: int, version: str) -> dict[int, PaperEntry]:
    # `version` (created_at) keeps a reused primary key (SQLite tests) from hitting an
    # old edition's entries.
    rows = (
        EditionPaper.objects.filter(edition_id=edition_id)
        .select_related("paper")
        .order_by("position")
    )
    entries = paper_entries([(row.paper, row.reason) for row in rows])
    return {entry.id: entry for entry in entries}


def edition_entries(edition: Edition) -> dict[int, PaperEntry]:
    """{paper id: entry} for a saved edition, read once per process."""
    return _entries(edition.pk, edition.created_at.isoformat())


def subject_for(edition: Edition, top_title: str) -> str:
    """ "Trending papers, 27 Nov: <top paper title>", at most 150 characters."""
    label = "Trending papers" if edition.kind == "daily" else "This week's trending papers"
    day = dateformat.format(edition.date, "j M")
    top = top_title or "a quiet day"
    subject = f"{label}, {day}: {' '.join(top.split())}"
    return subject if len(subject) <= 150 else subject[:149].rstrip() + "…"


def context_for(edition: Edition, entries: list[PaperEntry], *, links: dict) -> dict:
    return {
        "edition": edition,
        "entries": entries,
        "archive_url": settings.SITE_URL + reverse("digests:archive"),
        "subject": subject_for(edition, entries[0].title if entries else ""),
        **links,
    }


def edition_web_url(edition: Edition) -> str:
    return settings.SITE_URL + reverse(
        "digests:edition", kwargs={"kind": edition.kind, "day": edition.date.isoformat()}
    )


def render_digest(
    edition: Edition, entries: list[PaperEntry], *, html: bool, links: dict, updates: tuple = ()
) -> Rendered:
    """Render one distinct digest; `links` fills web_url, manage_url and unsubscribe_url.
    `updates` is the reader's "Updates on your papers": ((id, title, detail, url), ...)."""
    context = context_for(edition, entries, links=links)
    context["updates"] = [
        {"title": title, "detail": detail, "url": url} for _, title, detail, url in updates
    ]
    _, text, html_body = render_parts("digest", context)
    return Rendered(subject=context["subject"], text=text, html=html_body if html else None)


@lru_cache(maxsize=256)
def _cached(
    edition_id: int,
    version: str,
    paper_ids: tuple,
    html: bool,
    links: tuple,
    reasons: tuple,
    updates: tuple = (),
) -> Rendered:
    edition = Edition.objects.get(pk=edition_id)
    entries = edition_entries(edition)
    personal = dict(zip(paper_ids, reasons, strict=False))
    chosen = [
        replace(entries[pk], personal_reason=personal.get(pk) or "")
        for pk in paper_ids
        if pk in entries
    ]
    return render_digest(edition, chosen, html=html, links=dict(links), updates=updates)


def rendered_for(
    edition: Edition,
    paper_ids: tuple,
    *,
    html: bool,
    links: dict,
    reasons: tuple = (),
    updates: tuple = (),
) -> Rendered:
    """The digest for this list of papers (and the reader's own reasons for them, if the
    relevance model gave any), rendered at most once per worker process."""
    return _cached(
        edition.pk,
        edition.created_at.isoformat(),
        tuple(paper_ids),
        html,
        tuple(links.items()),
        tuple(reasons),
        tuple(updates),
    )


def entries_in_order(edition: Edition, paper_ids: list[int]) -> list[PaperEntry]:
    """One reader's papers, in the order they were sent (the web copy of their digest)."""
    entries = edition_entries(edition)
    return [entries[pk] for pk in paper_ids if pk in entries]


def clear_caches() -> None:
    _entries.cache_clear()
    _cached.cache_clear()
