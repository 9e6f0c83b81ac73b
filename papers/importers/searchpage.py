"""A saved page of a trending-papers search (the sample data): the page's subscribe banner,
then each paper as a title line followed by an abstract line."""

from collections.abc import Iterator

from papers.importers.base import Item, PaperRecord, RecordError, Skip, Source, text

BANNER_PREFIX = "Get trending papers in your email inbox"
# The page's Subscribe button text runs into the first title when the page is saved as text.
BUTTON = "Subscribe"
# Titles are one short line, abstracts several sentences; the length tells them apart, so a
# lost line costs one paper instead of shifting every later title/abstract pair.
TITLE_MAX = 400


def read(source: Source) -> Iterator[Item]:
    lines = [(n, line.strip()) for n, line in enumerate(source.text, start=1)]
    lines = [(n, line) for n, line in lines if line]
    while lines and lines[0][1].startswith(BANNER_PREFIX):
        lines.pop(0)
    if lines and lines[0][1].startswith(BUTTON) and len(lines[0][1]) > len(BUTTON):
        lines[0] = (lines[0][0], lines[0][1][len(BUTTON) :])
    index = 0
    while index < len(lines):
        number, title = lines[index]
        location = f"{source.name}:{number}"
        if len(title) > TITLE_MAX:
            yield Skip(location, "an abstract line without a title line")
            index += 1
            continue
        following = lines[index + 1][1] if index + 1 < len(lines) else None
        if following is None or len(following) <= TITLE_MAX:
            yield Skip(location, "a title line without an abstract line")
            index += 1
            continue
        try:
            yield PaperRecord(
                source="searchpage",
                location=location,
                title=text(title, what="title", limit=TITLE_MAX),
                abstract=text(following, what="abstract"),
            )
        except RecordError as exc:
            yield Skip(location, str(exc))
        index += 2
