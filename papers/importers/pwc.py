"""The Papers with Code dumps: papers-with-abstracts.json(.gz) and
links-between-papers-and-code.json(.gz), each one JSON array of objects."""

from collections.abc import Iterator

from papers.importers.base import (
    Item,
    PaperRecord,
    RecordError,
    Source,
    arxiv_id_or_none,
    finish,
    parse_date,
    read_json_entries,
    repository,
    string_list,
    text,
)


def read(source: Source) -> Iterator[Item]:
    return read_json_entries(source, _entry)


def _entry(entry, *, location: str) -> PaperRecord:
    if not isinstance(entry, dict):
        raise RecordError("not a JSON object")
    return _link(entry, location) if "repo_url" in entry else _paper(entry, location)


def _paper(entry: dict, location: str) -> PaperRecord:
    return finish(
        PaperRecord(
            source="pwc",
            location=location,
            title=text(entry.get("title"), what="title", limit=2000),
            arxiv_id=arxiv_id_or_none(entry.get("arxiv_id")),
            abstract=text(entry.get("abstract"), what="abstract"),
            authors=string_list(entry.get("authors"), what="authors"),
            published_on=parse_date(entry.get("date"), what="date"),
            abstract_url=entry.get("url_abs"),
            pdf_url=entry.get("url_pdf"),
        )
    )


def _link(entry: dict, location: str) -> PaperRecord:
    # The record is the code link: a link that is not a repository skips it (BadLink).
    return finish(
        PaperRecord(
            source="pwc",
            location=location,
            links_only=True,
            title=text(entry.get("paper_title"), what="paper_title", limit=2000),
            arxiv_id=arxiv_id_or_none(entry.get("paper_arxiv_id"), what="paper_arxiv_id"),
            repositories=[
                repository(
                    entry.get("repo_url"),
                    is_official=entry.get("is_official", False),
                    framework=entry.get("framework") or "",
                )
            ],
        )
    )
