"""Hugging Face daily papers: the JSON array served by https://huggingface.co/api/daily_papers."""

from collections.abc import Iterator

from papers.identifiers import arxiv_links
from papers.importers.base import (
    Item,
    PaperRecord,
    RecordError,
    Source,
    arxiv_id_or_none,
    parse_date,
    read_json_entries,
    repository,
    require_title,
    text,
)


def read(source: Source) -> Iterator[Item]:
    return read_json_entries(source, record_from_entry)


def record_from_entry(entry, *, location: str) -> PaperRecord:
    if not isinstance(entry, dict) or not isinstance(entry.get("paper"), dict):
        raise RecordError("no 'paper' object")
    paper = entry["paper"]
    arxiv_id = arxiv_id_or_none(paper.get("id"), what="paper.id")
    authors = paper.get("authors") or []
    if not isinstance(authors, list):
        raise RecordError("paper.authors is not a list")
    names = [
        " ".join(a["name"].split())
        for a in authors
        if isinstance(a, dict) and isinstance(a.get("name"), str) and a["name"].strip()
    ]
    repos = []
    if paper.get("githubRepo"):
        stars = paper.get("githubStars")
        repos.append(
            repository(
                paper["githubRepo"],
                is_official=True,  # set by the paper's authors on Hugging Face
                stars=stars if isinstance(stars, int) and stars >= 0 else None,
            )
        )
    abstract_url, pdf_url = arxiv_links(arxiv_id) if arxiv_id else ("", "")
    return require_title(
        PaperRecord(
            source="hf",
            location=location,
            title=text(paper.get("title") or entry.get("title"), what="title", limit=2000),
            arxiv_id=arxiv_id,
            abstract=text(paper.get("summary") or entry.get("summary"), what="summary"),
            authors=names,
            published_on=parse_date(paper.get("publishedAt"), what="paper.publishedAt"),
            abstract_url=abstract_url,
            pdf_url=pdf_url,
            repositories=repos,
        )
    )
