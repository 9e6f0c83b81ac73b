"""What every reader yields: one PaperRecord per paper, or a Skip naming where and why.

Readers only parse; papers.services decides how a record becomes (or merges into) a Paper.
"""

import gzip
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO

from papers.identifiers import (
    InvalidIdentifier,
    canonical_arxiv_url,
    http_url,
    normalise_repository_url,
    parse_arxiv_id,
)


class RecordError(ValueError):
    """A record that cannot be imported; the message says why, for the summary."""


class BadLink(RecordError):
    """A code link that is not a repository: the link is dropped, the paper kept."""


class UnreadableFile(Exception):
    """A file that cannot be read at all (missing, wrong format, broken beyond an entry)."""


@dataclass
class RepositoryRecord:
    url: str
    owner: str
    name: str
    is_official: bool = False
    framework: str = ""
    stars: int | None = None


@dataclass
class PaperRecord:
    source: str
    location: str
    title: str = ""
    arxiv_id: str | None = None
    doi: str = ""
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    published_on: date | None = None
    updated_on: date | None = None
    categories: list[str] = field(default_factory=list)
    abstract_url: str = ""
    pdf_url: str = ""
    topics: list[tuple[str, str]] = field(default_factory=list)  # (slug, name)
    repositories: list[RepositoryRecord] = field(default_factory=list)
    # Further text searched for code links but not stored (arXiv's comment field).
    code_text: str = ""
    # A record that only links code to a paper another record supplies (the PwC links
    # dump): it never creates a paper.
    links_only: bool = False
    # Bad fields that were dropped while the rest of the record was kept, for the report.
    problems: list[str] = field(default_factory=list)


@dataclass
class Skip:
    location: str
    reason: str


Item = PaperRecord | Skip


class Source:
    """An open input file: text lines for the readers, byte position for progress bars."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.name = self.path.name
        try:
            self.size = self.path.stat().st_size
            self._raw = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise UnreadableFile(f"{path}: {exc.strerror or exc}") from None
        self.gzipped = self._raw.read(2) == b"\x1f\x8b"
        self._raw.seek(0)
        binary: IO[bytes] = gzip.GzipFile(fileobj=self._raw) if self.gzipped else self._raw
        self.text = _TextReader(binary)

    @property
    def position(self) -> int:
        """Bytes of the file on disk consumed so far (compressed bytes for .gz)."""
        return self._raw.tell()

    def head(self, size: int = 4096) -> str:
        """The first characters, for format detection, without consuming them."""
        with open(self.path, "rb") as raw:
            stream = gzip.GzipFile(fileobj=raw) if self.gzipped else raw
            try:
                return stream.read(size).decode("utf-8", errors="replace").lstrip("\ufeff")
            except (OSError, EOFError) as exc:
                raise UnreadableFile(f"{self.path}: {exc}") from None

    def close(self):
        self._raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _TextReader:
    def __init__(self, binary: IO[bytes]):
        self._binary = binary

    def read(self, size: int) -> str:
        try:
            data = self._binary.read(size)
        except (OSError, EOFError) as exc:
            raise UnreadableFile(f"cannot decompress: {exc}") from None
        # A chunk may end inside a multi-byte character: complete it from the next bytes.
        for _ in range(3):
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError as exc:
                if exc.start < len(data) - 3:
                    return data.decode("utf-8", errors="replace")
                more = self._binary.read(1)
                if not more:
                    return data.decode("utf-8", errors="replace")
                data += more
        return data.decode("utf-8", errors="replace")

    def __iter__(self) -> Iterator[str]:
        pending = ""
        while chunk := self.read(1 << 16):
            pending += chunk
            lines = pending.split("\n")
            pending = lines.pop()
            yield from (line + "\n" for line in lines)
        if pending:
            yield pending


def iter_json_array(source: Source) -> Iterator[tuple[int, int, object]]:
    """(entry number from 1, line the entry starts on, value) for each element of a
    top-level JSON array, streamed.

    The Papers with Code dumps are hundreds of megabytes: they are decoded an entry at a
    time instead of loading the whole document. A syntax error ends the file with
    UnreadableFile naming the entry where it happened.
    """
    decoder = json.JSONDecoder()
    buffer = ""
    pos = 0
    eof = False
    line = 1

    def fill() -> bool:
        nonlocal buffer, pos, eof
        chunk = source.text.read(1 << 20)
        if not chunk:
            eof = True
            return False
        buffer = buffer[pos:] + chunk
        pos = 0
        return True

    def skip_space():
        nonlocal pos, line
        while True:
            while pos < len(buffer) and buffer[pos] in " \t\r\n\ufeff":
                line += buffer[pos] == "\n"
                pos += 1
            if pos < len(buffer) or not fill():
                return

    skip_space()
    if pos >= len(buffer) or buffer[pos] != "[":
        raise UnreadableFile(f"{source.path}: not a JSON array")
    pos += 1
    number = 0
    while True:
        skip_space()
        if pos >= len(buffer):
            raise UnreadableFile(f"{source.path}: ends inside the array after entry {number}")
        if buffer[pos] == "]":
            return
        if number and buffer[pos] == ",":
            pos += 1
            skip_space()
        number += 1
        while True:
            try:
                value, end = decoder.raw_decode(buffer, pos)
                # A number at the end of the buffer may continue in the next chunk.
                if end == len(buffer) and not eof and fill():
                    continue
                break
            except json.JSONDecodeError as exc:
                if not eof and fill():
                    continue
                raise UnreadableFile(
                    f"{source.path}: entry {number} is not valid JSON ({exc.msg}); "
                    f"it starts on line {line}"
                ) from None
        start_line = line
        line += buffer.count("\n", pos, end)
        pos = end
        yield number, start_line, value


def read_json_entries(source: Source, parse) -> Iterator[Item]:
    """`parse(entry, location=...)` applied to each entry of a JSON array file; an entry it
    rejects with RecordError becomes a Skip naming the file, line and entry."""
    for number, line, entry in iter_json_array(source):
        location = f"{source.name}:{line}: entry {number}"
        try:
            yield parse(entry, location=location)
        except RecordError as exc:
            yield Skip(location, str(exc))


# --- Field helpers shared by the readers -------------------------------------------------------


def text(value, *, what: str, limit: int = 100_000) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordError(f"{what} is not a string")
    _no_nul(value, what=what)
    # Keep LaTeX and markup as given (rendering escapes it), but fold whitespace runs.
    value = " ".join(value.split())
    if len(value) > limit:
        raise RecordError(f"{what} is longer than {limit} characters")
    return value


def string_list(value, *, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RecordError(f"{what} is not a list of strings")
    for item in value:
        _no_nul(item, what=what)
    return [" ".join(v.split()) for v in value if v.strip()]


def _no_nul(value: str, *, what: str) -> None:
    # PostgreSQL text cannot hold NUL: refused here, the record is reported by line instead
    # of failing its whole batch in the database.
    if "\x00" in value:
        raise RecordError(f"{what} contains a NUL character")


def parse_date(value, *, what: str) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise RecordError(f"{what} is not a date")
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        raise RecordError(f"{what} {value[:40]!r} is not a date (YYYY-MM-DD)") from None


def arxiv_id_or_none(value, *, what: str = "arxiv_id") -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise RecordError(f"{what} is not a string")
    try:
        return parse_arxiv_id(value)
    except InvalidIdentifier as exc:
        raise RecordError(str(exc)) from None


# Star counts are stored in PositiveIntegerFields: PostgreSQL's integer.
STARS_MAX = 2**31 - 1


def valid_stars(stars) -> bool:
    return isinstance(stars, int) and not isinstance(stars, bool) and 0 <= stars <= STARS_MAX


def repository(url, *, is_official=False, framework="", stars=None) -> RepositoryRecord:
    """A code link; BadLink when `url` is not a repository, RecordError for bad stars."""
    if not isinstance(url, str):
        raise BadLink("repository url is not a string")
    try:
        normalised, owner, name = normalise_repository_url(url)
    except InvalidIdentifier as exc:
        raise BadLink(str(exc)) from None
    if stars is not None and not valid_stars(stars):
        raise RecordError(f"repository stars {str(stars)[:30]} is out of range (0 to {STARS_MAX})")
    framework = framework if isinstance(framework, str) else ""
    return RepositoryRecord(
        url=normalised,
        owner=owner,
        name=name,
        is_official=bool(is_official),
        framework="" if framework.lower() == "none" else framework[:40],
        stars=stars,
    )


def code_links(problems: list[str], links: list[dict]) -> list[RepositoryRecord]:
    """repository(**link) for each link; a link that is not a repository is dropped and
    reported in `problems`, so the paper around it is still imported."""
    records = []
    for link in links:
        try:
            records.append(repository(**link))
        except BadLink as exc:
            problems.append(f"code link dropped: {exc}")
    return records


URL_FIELDS = ("abstract_url", "pdf_url")


def finish(record: PaperRecord) -> PaperRecord:
    """The checks every reader's record goes through: a title, and links that are
    http(s) only (others are dropped and reported: they end up in href attributes),
    arXiv links in their canonical version-less https spelling."""
    if not record.title:
        raise RecordError("no title")
    for name in URL_FIELDS:
        value = getattr(record, name)
        if value in (None, ""):
            setattr(record, name, "")
            continue
        try:
            url = canonical_arxiv_url(http_url(value))
            if len(url) > 500:
                raise InvalidIdentifier(f"{url[:80]!r}... is longer than 500 characters")
        except InvalidIdentifier as exc:
            record.problems.append(f"{name} dropped: {exc}")
            url = ""
        setattr(record, name, url)
    return record
