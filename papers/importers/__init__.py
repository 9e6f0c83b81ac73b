"""Readers for every input format, and format detection.

`read(path, fmt)` yields PaperRecord or Skip items; papers.services.papers_import turns
them into Papers.
"""

import json
from collections.abc import Iterator

from papers.importers import arxiv, hf, jsonl, pwc, searchpage
from papers.importers.base import (
    Item,
    PaperRecord,
    RepositoryRecord,
    Skip,
    Source,
    UnreadableFile,
)

READERS = {
    "jsonl": jsonl.read,
    "pwc": pwc.read,
    "arxiv": arxiv.read,
    "hf": hf.read,
    "searchpage": searchpage.read,
}
FORMATS = ("auto", *READERS)

__all__ = [
    "FORMATS",
    "Item",
    "PaperRecord",
    "RepositoryRecord",
    "Skip",
    "Source",
    "UnreadableFile",
    "detect_format",
]


def detect_format(source: Source) -> str:
    """The format of `source`, from its first bytes (names are unreliable: dumps get renamed)."""
    head = source.head()
    stripped = head.lstrip()
    if not stripped:
        raise UnreadableFile(f"{source.path}: the file is empty")
    if stripped.startswith("<"):
        return "arxiv"
    if stripped.startswith("["):
        body = stripped[1:].lstrip()
        if body.startswith("]"):
            return "pwc"
        # The first keys of the first entry tell the JSON dumps apart.
        if '"paper"' in body[:2000] and '"paper_url"' not in body[:2000]:
            return "hf"
        if '"paper_url"' in body[:2000] or '"repo_url"' in body[:2000]:
            return "pwc"
        raise UnreadableFile(f"{source.path}: a JSON array of unknown entries")
    if stripped.startswith("{"):
        first_line = stripped.split("\n", 1)[0]
        try:
            if isinstance(json.loads(first_line), dict):
                return "jsonl"
        except ValueError:
            pass
        raise UnreadableFile(f"{source.path}: not JSON Lines (the first line is not a JSON object)")
    if stripped.startswith(searchpage.BANNER_PREFIX):
        return "searchpage"
    raise UnreadableFile(
        f"{source.path}: unknown format; pass --format (one of {', '.join(READERS)})"
    )


def read(source: Source, fmt: str = "auto") -> Iterator[Item]:
    if fmt == "auto":
        fmt = detect_format(source)
    if fmt not in READERS:
        raise UnreadableFile(f"unknown format {fmt!r}")
    return READERS[fmt](source)
