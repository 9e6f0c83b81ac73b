"""The digest e-mail: each paper rendered once per edition, each reader's copy joined.

The recipient's own links (web copy, preferences, unsubscribe) are not known here: the
caller passes the values to put in their place, usually digests.sending's placeholders,
which sending.py later turns into each reader's links or the ESP's merge fields.
"""

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat

from digests.models import Edition, EditionPaper
from lib.emails import inline_css, render_parts, wrap_text
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
    """One digest: subject, text part and (inlined) HTML part, with the link values the
    caller passed in place of each reader's links.

    A digest joined for a reader (`rendered_for`) also keeps its parts: shared, own,
    shared, ..., shared, where "shared" is the same for every reader of the edition and
    "own" is the reader's (subject, count, papers in their order...). An ESP that merges
    can then carry the shared parts once for many readers."""

    subject: str
    text: str
    html: str | None
    text_parts: tuple = ()
    html_parts: tuple = ()


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


# --- The send: each paper rendered once per edition, each reader's digest joined ------------
#
# The digest template is rendered, and its CSS inlined, once per edition and process with
# every paper of the edition in it and `cutting` on: digest_pieces' {% cut %} tags then mark
# where each piece starts (HTML comments, which the inliner keeps in place). A reader's
# digest is the head, their papers' pieces in their order with their rank and reasons, their
# updates and the footer, joined. Only the reader's own values (subject, preheader, count,
# rank, personal reasons, updates) are written here, escaped as the template and the
# inliner would have; tests/digests/test_pieces.py holds the join to the full render.

_CUT = re.compile(r"<!--PBCUT_([\w/]+?)_PBCUT-->")
_SLOT = "PBSLOT_{}_PBSLOT"
_SLOT_SPLIT = re.compile(r"PBSLOT_(\w+?)_PBSLOT")


def _escape_text(value: str) -> str:
    """`value` as it reads in the inlined HTML: Django's escape, then the inliner's parser
    and serializer, which write quotes back as themselves and a no-break space as &nbsp;."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
    return (
        value.replace("&", "&amp;")
        .replace("\xa0", "&nbsp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _escape_attribute(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
    return value.replace("&", "&amp;").replace("\xa0", "&nbsp;").replace('"', "&quot;")


class _Slotted:
    """A piece with slots for a reader's values: literal, slot, literal, slot, ..."""

    def __init__(self, piece: str, *, html: bool):
        self.parts = _SLOT_SPLIT.split(piece)
        escapes = []
        for index in range(1, len(self.parts), 2):
            before = "".join(self.parts[:index])
            in_tag = before.rfind("<") > before.rfind(">")
            escapes.append((_escape_attribute if in_tag else _escape_text) if html else str)
        self.escapes = escapes

    def fill(self, values: dict) -> str:
        parts = self.parts
        out = [parts[0]]
        for index, escape in zip(range(1, len(parts), 2), self.escapes, strict=True):
            out.append(escape(values[parts[index]]))
            out.append(parts[index + 1])
        return "".join(out)


def _cut_apart(rendered: str) -> list[tuple[str, str]]:
    """[(cut name, text up to the next cut)], the text before the first cut named ""."""
    parts = _CUT.split(rendered)
    return [("", parts[0]), *zip(parts[1::2], parts[2::2], strict=True)]


@dataclass
class _Part:
    """One edition's HTML or text part in pieces (see above)."""

    head: list  # shared text between the reader's values in the head (subject, preheader,
    # count in HTML; count in text)
    papers: dict  # paper id -> (piece before the rank, after the rank, after the reason)
    opening: tuple = ("", "")  # HTML: a paper's row, first and later (with a rule)
    you: _Slotted | None = None
    between: str = ""
    updates: tuple = ("", None, "")  # opening, _Slotted item, closing
    foot: str = ""


def _pieces_of(rendered: str, order: list[int], *, html: bool) -> _Part:
    wrap = (lambda text: text) if html else wrap_text
    part = _Part(head=[], papers={})
    papers = iter(order)
    current = None
    openings = []
    for name, text in _cut_apart(rendered):
        if name in ("", "/preheader", "/count"):
            part.head.append(text if html else wrap(text))
        elif name == "entry":
            current = [next(papers), "", "", ""]
            openings.append(text)
        elif name == "paper":
            current[1] = text if html else wrap(text)  # text: the title line is the reader's
        elif name == "/rank":
            current[2] = text
        elif name == "you":
            if part.you is None:
                part.you = _Slotted(text, html=html)
        elif name == "/you":
            current[3] = text if html else wrap(text)
            part.papers[current[0]] = tuple(current[1:])
        elif name == "entries_end":
            part.between = wrap(text)
        elif name == "updates":
            opening = wrap(text)
        elif name == "update":
            item = _Slotted(text, html=html)
        elif name == "/update":
            part.updates = (opening, item, wrap(text))
        elif name == "/updates":
            part.foot = wrap(text)
    if openings:  # the first paper's row, and any later one's (a rule above it)
        part.opening = (openings[0], openings[-1])
    return part


@dataclass
class _Pieces:
    edition: Edition
    entries: dict  # paper id -> PaperEntry
    html: _Part
    text: _Part


@lru_cache(maxsize=4)
def _edition_pieces(edition_id: int, version: str, links: tuple) -> _Pieces:
    """The edition's papers rendered once, in pieces: a template render and an inlining
    per edition and process, whoever and however many the readers are."""
    edition = Edition.objects.get(pk=edition_id)
    entries = edition_entries(edition)
    slot = _SLOT.format
    cut_entries = [replace(e, personal_reason=slot("reason")) for e in entries.values()]
    context = context_for(edition, cut_entries, links=dict(links))
    context.update(
        subject=slot("subject"),
        updates=[{"title": slot("title"), "detail": slot("detail"), "url": slot("url")}],
        cutting=True,
        SITE_URL=settings.SITE_URL,
        SITE_NAME=settings.SITE_NAME,
    )
    text = render_to_string("emails/digest-body.txt", context)
    html = inline_css(render_to_string("emails/digest-body.html", context))
    order = list(entries)
    return _Pieces(
        edition=edition,
        entries=entries,
        html=_pieces_of(html, order, html=True),
        text=_pieces_of(text, order, html=False),
    )


@lru_cache(maxsize=1024)
def _subject_cached(kind: str, day, top_title: str) -> str:
    return subject_for(Edition(kind=kind, date=day), top_title)


def _subject(edition: Edition, top_title: str) -> str:
    return _subject_cached(edition.kind, edition.date, top_title)


@lru_cache(maxsize=8192)
def _title_line(rank: int, title: str) -> str:
    return wrap_text(f"{rank}. {title}\n")


@lru_cache(maxsize=4096)
def _wrapped(text: str) -> str:
    return wrap_text(text)


def _count(n: int) -> str:
    return f"{n} paper{'' if n == 1 else 's'}"


def _html_parts(pieces: _Pieces, chosen: list, subject: str, updates: tuple) -> tuple:
    part = pieces.html
    before, _, after = part.head[0].partition(_SLOT.format("subject"))  # in <title>
    first = chosen[0][0].title
    preheader = _escape_text(first) + (f" · and {len(chosen) - 1} more" if len(chosen) > 1 else "")
    body = []
    for rank, (entry, reason) in enumerate(chosen, start=1):
        a, b, c = part.papers[entry.id]
        body += (part.opening[rank > 1], a, str(rank), b)
        if reason:
            body.append(part.you.fill({"reason": reason}))
        body.append(c)
    body.append(part.between)
    if updates:
        opening, item, closing = part.updates
        body.append(opening)
        body += (item.fill({"title": t, "detail": d, "url": u}) for _, t, d, u in updates)
        body.append(closing)
    return (
        before,
        _escape_text(subject),
        after,
        preheader,
        part.head[1],
        _count(len(chosen)),
        part.head[2],
        "".join(body),
        part.foot,
    )


def _text_parts(pieces: _Pieces, chosen: list, updates: tuple) -> tuple:
    part = pieces.text
    body = []
    for rank, (entry, reason) in enumerate(chosen, start=1):
        b, _, c = part.papers[entry.id]
        body += (_title_line(rank, entry.title), b)
        if reason:
            body.append(_wrapped(part.you.fill({"reason": reason})))
        body.append(c)
    body.append(part.between)
    if updates:
        opening, item, closing = part.updates
        body.append(opening)
        body += (_wrapped(item.fill({"title": t, "detail": d, "url": u})) for _, t, d, u in updates)
        body.append(closing)
    return (part.head[0], _count(len(chosen)), part.head[1], "".join(body), part.foot)


def rendered_for(
    edition: Edition,
    paper_ids: tuple,
    *,
    html: bool,
    links: dict,
    reasons: tuple = (),
    updates: tuple = (),
) -> Rendered:
    """One reader's digest (their papers in their order, their own reasons for them if the
    relevance model gave any, their updates), joined from the edition's pieces: no
    template is rendered per reader. The parts alternate text every reader of the edition
    shares and the reader's own (`Rendered.html_parts`, `text_parts`)."""
    pieces = _edition_pieces(edition.pk, edition.created_at.isoformat(), tuple(links.items()))
    personal = dict(zip(paper_ids, reasons, strict=False))
    entries = pieces.entries
    chosen = [(entries[pk], personal.get(pk) or "") for pk in paper_ids if pk in entries]
    if not chosen:  # never sent (choosing skips such a reader); the template says it
        return render_digest(
            pieces.edition, [], html=html, links=dict(links), updates=tuple(updates)
        )
    subject = _subject(pieces.edition, chosen[0][0].title)
    text_parts = _text_parts(pieces, chosen, updates)
    html_parts = _html_parts(pieces, chosen, subject, updates) if html else ()
    return Rendered(
        subject=subject,
        text="".join(text_parts),
        html="".join(html_parts) if html else None,
        text_parts=text_parts,
        html_parts=html_parts,
    )


def entries_in_order(edition: Edition, paper_ids: list[int]) -> list[PaperEntry]:
    """One reader's papers, in the order they were sent (the web copy of their digest)."""
    entries = edition_entries(edition)
    return [entries[pk] for pk in paper_ids if pk in entries]


def clear_caches() -> None:
    _entries.cache_clear()
    _edition_pieces.cache_clear()
    _title_line.cache_clear()
    _wrapped.cache_clear()
    _subject_cached.cache_clear()
