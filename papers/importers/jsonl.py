"""The project's own format: one JSON object per line (documented in the README)."""

import json
from collections.abc import Iterator

from papers.importers.base import (
    Item,
    PaperRecord,
    RecordError,
    Skip,
    Source,
    arxiv_id_or_none,
    code_links,
    finish,
    parse_date,
    string_list,
    text,
)

FIELDS = {
    "arxiv_id", "doi", "title", "abstract", "authors", "published", "updated", "categories",
    "abstract_url", "pdf_url", "topics", "repositories",
}  # fmt: skip


def read(source: Source) -> Iterator[Item]:
    for number, line in enumerate(source.text, start=1):
        if not line.strip():
            continue
        location = f"{source.name}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Skip(location, f"not valid JSON ({exc.msg})")
            continue
        try:
            yield record_from_dict(data, location=location, source="jsonl")
        except RecordError as exc:
            yield Skip(location, str(exc))


def record_from_dict(data, *, location: str, source: str) -> PaperRecord:
    if not isinstance(data, dict):
        raise RecordError("not a JSON object")
    unknown = set(data) - FIELDS
    if unknown:
        raise RecordError(f"unknown field(s): {', '.join(sorted(unknown))}")
    problems: list[str] = []
    record = PaperRecord(
        source=source,
        location=location,
        title=text(data.get("title"), what="title", limit=2000),
        arxiv_id=arxiv_id_or_none(data.get("arxiv_id")),
        doi=text(data.get("doi"), what="doi", limit=255),
        abstract=text(data.get("abstract"), what="abstract"),
        authors=string_list(data.get("authors"), what="authors"),
        published_on=parse_date(data.get("published"), what="published"),
        updated_on=parse_date(data.get("updated"), what="updated"),
        categories=string_list(data.get("categories"), what="categories"),
        abstract_url=data.get("abstract_url"),
        pdf_url=data.get("pdf_url"),
        topics=_topics(data.get("topics")),
        repositories=_repositories(data.get("repositories"), problems),
        problems=problems,
    )
    return finish(record)


def _topics(value) -> list[tuple[str, str]]:
    from django.utils.text import slugify

    topics = []
    for item in value or []:
        if isinstance(item, str):
            slug, name = slugify(item), item.replace("-", " ").strip().capitalize()
        elif isinstance(item, dict) and isinstance(item.get("slug"), str):
            slug = slugify(item["slug"])
            name = item.get("name") if isinstance(item.get("name"), str) else slug
        else:
            raise RecordError("topics must be slugs or {slug, name} objects")
        if not slug:
            raise RecordError(f"topic {item!r} has no usable slug")
        topics.append((slug[:80], name[:120]))
    return topics


def _repositories(value, problems: list[str]):
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError("repositories is not a list")
    links = []
    for item in value:
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict):
            raise RecordError("a repository is neither a URL nor an object")
        links.append(
            {
                "url": item.get("url"),
                "is_official": item.get("official", False),
                "framework": item.get("framework", ""),
                "stars": item.get("stars"),
            }
        )
    return code_links(problems, links)


def dump(paper) -> str:
    """One JSONL line for a Paper, the inverse of read() (used to write fixtures)."""
    data = {
        "arxiv_id": paper.arxiv_id,
        "doi": paper.doi,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": paper.authors,
        "published": paper.published_on.isoformat() if paper.published_on else None,
        "updated": paper.updated_on.isoformat() if paper.updated_on else None,
        "categories": paper.categories,
        "abstract_url": paper.abstract_url,
        "pdf_url": paper.pdf_url,
        "topics": [{"slug": t.slug, "name": t.name} for t in paper.topics.all()],
        "repositories": [
            {"url": link.repository.url, "official": link.is_official,
             "framework": link.repository.framework, "stars": link.repository.stars}
            for link in paper.code_links.select_related("repository")
        ],
    }  # fmt: skip
    return json.dumps({k: v for k, v in data.items() if v not in (None, "", [])})
