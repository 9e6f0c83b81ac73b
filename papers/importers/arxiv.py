"""arXiv API responses: Atom feeds from http://export.arxiv.org/api/query."""

import xml.etree.ElementTree as ET
from collections.abc import Iterator

from papers.importers.base import (
    Item,
    PaperRecord,
    RecordError,
    Skip,
    Source,
    UnreadableFile,
    arxiv_id_or_none,
    finish,
    parse_date,
    text,
)

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}


def read(source: Source) -> Iterator[Item]:
    data = source.text.read(64 << 20)
    yield from parse_feed(data, name=source.name)


def parse_feed(data: str | bytes, *, name: str) -> Iterator[Item]:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise UnreadableFile(f"{name}: not well-formed XML ({exc})") from None
    if root.tag != f"{{{NS['atom']}}}feed":
        raise UnreadableFile(f"{name}: not an Atom feed")
    for number, entry in enumerate(root.findall("atom:entry", NS), start=1):
        location = f"{name}: entry {number}"
        try:
            yield _record(entry, location)
        except RecordError as exc:
            yield Skip(location, str(exc))


def _record(entry: ET.Element, location: str) -> PaperRecord:
    entry_id = entry.findtext("atom:id", "", NS)
    # The API answers an unknown id with an entry titled "Error" instead of an HTTP error.
    if entry.findtext("atom:title", "", NS).strip() == "Error":
        raise RecordError(f"arXiv reports an error: {entry.findtext('atom:summary', '', NS)}")
    arxiv_id = arxiv_id_or_none(entry_id, what="id")
    if not arxiv_id:
        raise RecordError("no arXiv id")
    links = {
        link.get("title") or link.get("rel"): link.get("href", "")
        for link in entry.findall("atom:link", NS)
    }
    categories = [c.get("term", "") for c in entry.findall("atom:category", NS)]
    primary = entry.find("arxiv:primary_category", NS)
    if primary is not None and primary.get("term") in categories:
        categories.remove(primary.get("term"))
        categories.insert(0, primary.get("term"))
    abstract = text(entry.findtext("atom:summary", "", NS), what="summary")
    comment = text(entry.findtext("arxiv:comment", "", NS), what="comment")
    return finish(
        PaperRecord(
            source="arxiv",
            location=location,
            title=text(entry.findtext("atom:title", "", NS), what="title", limit=2000),
            arxiv_id=arxiv_id,
            doi=text(entry.findtext("arxiv:doi", "", NS), what="doi", limit=255),
            # Authors often give the code link in the comment field rather than the abstract;
            # the comment is kept out of the abstract but searched for code links.
            abstract=abstract,
            authors=[
                " ".join(name.split())
                for name in (
                    a.findtext("atom:name", "", NS) for a in entry.findall("atom:author", NS)
                )
                if name.strip()
            ],
            published_on=parse_date(entry.findtext("atom:published", "", NS), what="published"),
            updated_on=parse_date(entry.findtext("atom:updated", "", NS), what="updated"),
            categories=[c for c in categories if c],
            # Canonical (https, no version) once finish() has checked them.
            abstract_url=links.get("alternate", ""),
            pdf_url=links.get("pdf", ""),
            code_text=comment,
        )
    )
