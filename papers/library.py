"""A reader's library: papers saved on the site, or imported from a reference manager.

Imports read a list of arXiv ids or URLs, a BibTeX file (Zotero, Mendeley, Google
Scholar) or a Zotero CSV export. Each entry is matched to a paper by arXiv id, then DOI,
then normalised title; entries Paperboy does not have are kept with their title, since
they still say what the reader reads. The report lists what matched and what did not.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import bibtexparser
from django.db import transaction
from django.db.models import QuerySet

from papers.identifiers import parse_arxiv_id
from papers.models import LibraryItem, Paper, normalise_title

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ENTRIES = 5000
FORMATS = ("arxiv", "bibtex", "zotero_csv")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>{}]+)", re.IGNORECASE)


class LibraryImportError(ValueError):
    """The file as a whole cannot be read (wrong format, too big, not text)."""


@dataclass(frozen=True)
class Entry:
    """One reference as read from a file, before matching."""

    line: int
    title: str = ""
    arxiv_id: str = ""
    doi: str = ""

    def label(self) -> str:
        return self.title or self.arxiv_id or self.doi or f"entry on line {self.line}"


@dataclass
class LibraryImportReport:
    matched: list[tuple[Entry, Paper]] = field(default_factory=list)
    unmatched: list[Entry] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    already: int = 0


# --- Saving from the site -------------------------------------------------------------------


def library_save(*, user, paper: Paper) -> bool:
    """Save `paper` for `user`; False if it was already in their library."""
    _, created = LibraryItem.objects.get_or_create(
        user=user,
        paper=paper,
        defaults={"origin": LibraryItem.Origin.SAVED, "title": paper.title[:1000]},
    )
    if created:
        _reader_model_stale(user)
    return created


def library_remove(*, user, paper: Paper) -> bool:
    removed, _ = LibraryItem.objects.filter(user=user, paper=paper).delete()
    if removed:
        _reader_model_stale(user)
    return bool(removed)


def saved_paper_ids(*, user, paper_ids) -> set[int]:
    """Which of `paper_ids` `user` has saved: one query for a whole page of cards."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        LibraryItem.objects.filter(user=user, paper_id__in=list(paper_ids)).values_list(
            "paper_id", flat=True
        )
    )


def library_items(*, user) -> QuerySet:
    return LibraryItem.objects.filter(user=user).select_related("paper")


def _reader_model_stale(user) -> None:
    from digests.services.reader import reader_model_mark_stale

    reader_model_mark_stale(user=user)


# --- Reading files --------------------------------------------------------------------------


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if len(data) > MAX_IMPORT_BYTES:
        raise LibraryImportError(f"the file is larger than {MAX_IMPORT_BYTES // 1024 // 1024} MB")
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise LibraryImportError("the file is not text (UTF-8 or UTF-16)") from None
    if _CONTROL.search(text):
        raise LibraryImportError("the file is not text: it holds control characters")
    return text


def _arxiv(value: str) -> str:
    try:
        return parse_arxiv_id(value or "")
    except ValueError:
        return ""


def _doi(value: str) -> str:
    match = _DOI.search(value or "")
    return match.group(1).rstrip(".,;").lower() if match else ""


def read_arxiv_list(text: str) -> Iterator[Entry | tuple[int, str]]:
    for line, raw in enumerate(text.splitlines(), start=1):
        value = raw.strip()
        if not value or value.startswith("#"):
            continue
        arxiv_id = _arxiv(value)
        if arxiv_id:
            yield Entry(line=line, arxiv_id=arxiv_id)
        else:
            yield line, f"not an arXiv id or URL: {value[:80]!r}"


def _bib_value(entry, key: str) -> str:
    fields = {k.lower(): f.value for k, f in entry.fields_dict.items()}
    value = fields.get(key, "")
    return " ".join(str(value).replace("{", "").replace("}", "").split())


def read_bibtex(text: str) -> Iterator[Entry | tuple[int, str]]:
    library = bibtexparser.parse_string(text)
    for entry in library.entries:
        line = entry.start_line + 1
        title = _bib_value(entry, "title")
        arxiv_id = ""
        if _bib_value(entry, "archiveprefix").lower() == "arxiv":
            arxiv_id = _arxiv(_bib_value(entry, "eprint"))
        for key in ("eprint", "url", "journal", "note", "howpublished"):
            if arxiv_id:
                break
            value = _bib_value(entry, key)
            if "arxiv" in value.lower() or key == "eprint":
                arxiv_id = _arxiv(value)
        doi = _doi(_bib_value(entry, "doi"))
        if title or arxiv_id or doi:
            yield Entry(line=line, title=title[:1000], arxiv_id=arxiv_id, doi=doi)
        else:
            yield line, f"@{entry.entry_type}{{{entry.key}}} has no title, arXiv id or DOI"
    for block in library.failed_blocks:
        yield block.start_line + 1, "not valid BibTeX; skipped"


def read_zotero_csv(text: str) -> Iterator[Entry | tuple[int, str]]:
    reader = csv.DictReader(io.StringIO(text))
    columns = {c.strip().lower(): c for c in reader.fieldnames or []}
    if "title" not in columns:
        raise LibraryImportError("not a Zotero CSV export: it has no Title column")

    def get(row, name):
        return (row.get(columns.get(name, ""), "") or "").strip()

    for line, row in enumerate(reader, start=2):
        title = get(row, "title")
        arxiv_id = ""
        for name in ("url", "extra", "archive location", "publication title"):
            if "arxiv" in get(row, name).lower():
                arxiv_id = _arxiv(get(row, name))
                if arxiv_id:
                    break
        doi = _doi(get(row, "doi"))
        if title or arxiv_id or doi:
            yield Entry(line=line, title=title[:1000], arxiv_id=arxiv_id, doi=doi)
        else:
            yield line, "row has no title, arXiv id or DOI"


READERS = {"arxiv": read_arxiv_list, "bibtex": read_bibtex, "zotero_csv": read_zotero_csv}


# --- Importing ------------------------------------------------------------------------------


def _match(entries: list[Entry]) -> dict[int, Paper]:
    """{entry index: paper}: by arXiv id, then DOI, then normalised title; three queries."""
    found: dict[int, Paper] = {}
    papers = Paper.objects.published()
    by_arxiv = papers.in_bulk([e.arxiv_id for e in entries if e.arxiv_id], field_name="arxiv_id")
    dois = {e.doi for e in entries if e.doi}
    by_doi = {p.doi.lower(): p for p in papers.filter(doi__in=dois)} if dois else {}
    keys = {normalise_title(e.title) for e in entries if e.title}
    by_title = {p.title_key: p for p in papers.filter(title_key__in=keys)} if keys else {}
    for index, entry in enumerate(entries):
        paper = (
            by_arxiv.get(entry.arxiv_id)
            or by_doi.get(entry.doi)
            or (by_title.get(normalise_title(entry.title)) if entry.title else None)
        )
        if paper is not None:
            found[index] = paper
    return found


def library_import(*, user, data: bytes | str, fmt: str) -> LibraryImportReport:
    """Add a file's references to `user`'s library and report what matched.

    Raises LibraryImportError when the file as a whole cannot be read; single bad entries
    are reported and skipped.
    """
    if fmt not in READERS:
        raise LibraryImportError(f"unknown format {fmt!r}")
    text = _decode(data)
    report = LibraryImportReport()
    entries: list[Entry] = []
    try:
        for item in READERS[fmt](text):
            if isinstance(item, Entry):
                entries.append(item)
            else:
                report.skipped.append(item)
            if len(entries) > MAX_IMPORT_ENTRIES:
                raise LibraryImportError(f"more than {MAX_IMPORT_ENTRIES} entries")
    except csv.Error as exc:
        raise LibraryImportError(f"not a readable CSV file: {exc}") from None
    if not entries and not report.skipped:
        raise LibraryImportError("the file holds no references")
    matches = _match(entries)
    have_papers = set(
        LibraryItem.objects.filter(user=user, paper__isnull=False).values_list("paper", flat=True)
    )
    have_titles = set(
        LibraryItem.objects.filter(user=user, paper__isnull=True).values_list("title", flat=True)
    )
    new = []
    for index, entry in enumerate(entries):
        paper = matches.get(index)
        if paper is not None:
            report.matched.append((entry, paper))
            if paper.pk in have_papers:
                report.already += 1
                continue
            have_papers.add(paper.pk)
        else:
            report.unmatched.append(entry)
            if entry.label() in have_titles:
                report.already += 1
                continue
            have_titles.add(entry.label())
        new.append(
            LibraryItem(
                user=user,
                paper=paper,
                origin=LibraryItem.Origin.IMPORTED,
                title=(paper.title if paper else entry.label())[:1000],
                arxiv_id=entry.arxiv_id,
                doi=entry.doi[:255],
            )
        )
    with transaction.atomic():
        LibraryItem.objects.bulk_create(new, ignore_conflicts=True)
    if new:
        _reader_model_stale(user)
    return report


# --- Export ---------------------------------------------------------------------------------


def _bibtex_escape(value: str) -> str:
    return " ".join(str(value).replace("\\", "").replace("{", "").replace("}", "").split())


def library_bibtex(*, items) -> str:
    """BibTeX for library items, as reference managers import it."""
    blocks, keys = [], set()
    for item in items:
        paper = item.paper
        title = paper.title if paper else item.title
        authors = paper.authors if paper else []
        arxiv_id = (paper.arxiv_id if paper else "") or item.arxiv_id
        year = paper.published_on.year if paper and paper.published_on else None
        first = (str(authors[0]).split()[-1] if authors else "paper").lower()
        base = (
            re.sub(r"[^a-z0-9]", "", first)
            + str(year or "")
            + (re.sub(r"[^a-z0-9]", "", normalise_title(title).split(" ")[0]) if title else "")
        )
        key, n = base or "paper", 1
        while key in keys:
            n += 1
            key = f"{base}{n}"
        keys.add(key)
        fields = [("title", f"{{{_bibtex_escape(title)}}}")]
        if authors:
            fields.append(("author", " and ".join(_bibtex_escape(a) for a in authors)))
        if year:
            fields.append(("year", str(year)))
        if arxiv_id:
            fields += [
                ("eprint", arxiv_id),
                ("archivePrefix", "arXiv"),
                ("url", f"https://arxiv.org/abs/{arxiv_id}"),
            ]
        doi = (paper.doi if paper else "") or item.doi
        if doi:
            fields.append(("doi", _bibtex_escape(doi)))
        body = ",\n".join(f"  {name} = {{{value.strip('{}')}}}" for name, value in fields)
        blocks.append(f"@misc{{{key},\n{body}\n}}")
    return "\n\n".join(blocks) + ("\n" if blocks else "")
