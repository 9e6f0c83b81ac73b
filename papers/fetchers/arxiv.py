"""The arXiv API (https://info.arxiv.org/help/api/user-manual.html), 3 s between calls."""

from collections.abc import Iterator

import requests
from django.conf import settings

from papers.fetchers.base import FetchError, Spacing, get, session
from papers.identifiers import InvalidIdentifier, parse_arxiv_id
from papers.importers.arxiv import parse_feed
from papers.importers.base import Item, Skip, UnreadableFile

API_URL = "https://export.arxiv.org/api/query"
# The API's documented limit on how many ids one id_list request may carry is generous;
# batches of 50 keep each response small and each failure cheap.
ID_BATCH = 50


class ArxivClient:
    def __init__(self, *, spacing: Spacing | None = None, http: requests.Session | None = None):
        self.spacing = spacing or Spacing("papers:arxiv-api", settings.ARXIV_API_SPACING_SECONDS)
        self.http = http or session()

    def _get(self, params: dict) -> bytes:
        self.spacing.wait()
        return get(self.http, API_URL, params=params, source="arXiv API").content

    def _parse(self, content: bytes, name: str) -> Iterator[Item]:
        try:
            yield from parse_feed(content, name=name)
        except UnreadableFile as exc:
            raise FetchError(str(exc), transient=True) from exc

    def fetch_ids(self, ids: list[str]) -> Iterator[Item]:
        """One record per id (any spelling: URL, with version, "arXiv:" prefix); an id that
        is not one, or that arXiv does not know, comes back as a Skip."""
        wanted = []
        for raw in ids:
            try:
                wanted.append(parse_arxiv_id(raw))
            except InvalidIdentifier as exc:
                yield Skip(raw, str(exc))
        wanted = list(dict.fromkeys(wanted))
        for start in range(0, len(wanted), ID_BATCH):
            batch = wanted[start : start + ID_BATCH]
            content = self._get({"id_list": ",".join(batch), "max_results": len(batch)})
            found = set()
            for item in self._parse(content, name="arXiv API"):
                if not isinstance(item, Skip):
                    found.add(item.arxiv_id)
                    item.location = f"arXiv {item.arxiv_id}"
                yield item
            for missing in batch:
                if missing not in found:
                    yield Skip(f"arXiv {missing}", "arXiv has no paper with this id")

    def fetch_recent(self, *, categories: list[str], max_results: int) -> Iterator[Item]:
        """The newest submissions in `categories`, newest first."""
        query = " OR ".join(f"cat:{c}" for c in categories)
        content = self._get(
            {
                "search_query": query,
                "sortBy": "submittedDate",
                "sortOrder": "descending",
                "start": 0,
                "max_results": max_results,
            }
        )
        yield from self._parse(content, name="arXiv API")
