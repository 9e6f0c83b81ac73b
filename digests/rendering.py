"""Render each distinct digest once; merge per-recipient links in afterwards.

The templates are rendered with sentinel values in place of the recipient's links. The
result is split at the sentinels once, and each recipient's copy is a string join (about
a hundred times cheaper than a template render plus CSS inlining). For an ESP that merges
per-recipient data itself (batch sending) the sentinels become its merge fields instead.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat

from digests.models import Edition, EditionPaper
from lib.emails import render_parts
from papers.maths import maths_text
from papers.models import PaperRepository

MERGE_FIELDS = ("unsubscribe_url", "manage_url")
_SENTINEL = "PBMERGE_{}_PBMERGE"
_SPLIT = re.compile(r"PBMERGE_(\w+?)_PBMERGE")
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
    arxiv_url: str = ""
    pdf_url: str = ""
    thumbnail_url: str = ""
    thumbnail_height: int = 0  # at THUMBNAIL_WIDTH, when the image's size is known


class Template:
    """A rendered part split at its merge fields: literal, field, literal, field, ..."""

    def __init__(self, rendered: str):
        self.parts = _SPLIT.split(rendered)

    def merge(self, values: dict[str, str]) -> str:
        parts = self.parts
        out = [parts[0]]
        for index in range(1, len(parts), 2):
            out.append(values[parts[index]])
            out.append(parts[index + 1])
        return "".join(out)

    def with_merge_fields(self, field_format: str, protect=None) -> str:
        """The part for an ESP that merges itself: fields in its syntax, and literal text
        protected so the ESP's template language reads nothing else as a field."""
        protect = protect or (lambda text: text)
        parts = self.parts
        out = [protect(parts[0])]
        for index in range(1, len(parts), 2):
            out.append(field_format.format(name=parts[index]))
            out.append(protect(parts[index + 1]))
        return "".join(out)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: Template
    html: Template | None

    def size(self) -> int:
        return len(self.html.merge(sample_links()).encode()) if self.html else 0


def sample_links() -> dict[str, str]:
    """Links as a reader gets them, signed for a made-up reader: for the admin's preview
    (which must look real) and size checks (a long address makes long tokens)."""
    from subscriptions import tokens
    from subscriptions.models import Subscriber

    reader = Subscriber(pk=1_234_567, email="a.long-reader-address@example.org")
    return {
        "unsubscribe_url": tokens.unsubscribe_url(reader),
        "manage_url": tokens.manage_url(reader),
    }


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


def context_for(edition: Edition, entries: list[PaperEntry], *, web_url: str) -> dict:
    return {
        "edition": edition,
        "entries": entries,
        "web_url": web_url,
        "archive_url": settings.SITE_URL + reverse("digests:archive"),
        "subject": subject_for(edition, entries[0].title if entries else ""),
    }


def edition_web_url(edition: Edition) -> str:
    return settings.SITE_URL + reverse(
        "digests:edition", kwargs={"kind": edition.kind, "day": edition.date.isoformat()}
    )


def render_digest(
    edition: Edition, entries: list[PaperEntry], *, html: bool, web_url: str | None = None
) -> Rendered:
    """Render one distinct digest with merge fields in place of the recipient's links."""
    context = context_for(edition, entries, web_url=web_url or edition_web_url(edition))
    context.update({name: _SENTINEL.format(name) for name in MERGE_FIELDS})
    _, text, html_body = render_parts("digest", context)
    return Rendered(
        subject=context["subject"],
        text=Template(text),
        html=Template(html_body) if html else None,
    )


@lru_cache(maxsize=256)
def _cached(edition_id: int, version: str, paper_ids: tuple, html: bool) -> Rendered:
    edition = Edition.objects.get(pk=edition_id)
    entries = edition_entries(edition)
    return render_digest(edition, [entries[pk] for pk in paper_ids if pk in entries], html=html)


def rendered_for(edition: Edition, paper_ids: tuple, *, html: bool) -> Rendered:
    """The digest for this list of papers, rendered at most once per worker process."""
    return _cached(edition.pk, edition.created_at.isoformat(), tuple(paper_ids), html)


def clear_caches() -> None:
    _entries.cache_clear()
    _cached.cache_clear()
