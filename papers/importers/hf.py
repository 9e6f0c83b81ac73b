"""Hugging Face daily papers: the JSON array served by https://huggingface.co/api/daily_papers."""

from collections.abc import Iterator

from papers.identifiers import arxiv_links
from papers.importers.base import (
    Item,
    PaperRecord,
    RecordError,
    Source,
    arxiv_id_or_none,
    code_links,
    finish,
    parse_date,
    read_json_entries,
    string_list,
    text,
    valid_stars,
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
    names = string_list(
        [a["name"] for a in authors if isinstance(a, dict) and isinstance(a.get("name"), str)],
        what="paper.authors",
    )
    problems: list[str] = []
    links = []
    if paper.get("githubRepo"):
        stars = paper.get("githubStars")
        if stars is not None and not valid_stars(stars):
            problems.append(f"githubStars {str(stars)[:30]} dropped: not a star count")
            stars = None
        # Set by the paper's authors on Hugging Face, so official. It may name an
        # organisation rather than a repository: the paper is imported all the same.
        links.append({"url": paper["githubRepo"], "is_official": True, "stars": stars})
    repos = code_links(problems, links)
    abstract_url, pdf_url = arxiv_links(arxiv_id) if arxiv_id else ("", "")
    return finish(
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
            problems=problems,
        )
    )
