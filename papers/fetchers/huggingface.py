"""Hugging Face daily papers (https://huggingface.co/api/daily_papers)."""

from collections.abc import Iterator
from datetime import date

import requests

from papers.fetchers.base import FetchError, get, session
from papers.importers.base import Item, RecordError, Skip
from papers.importers.hf import record_from_entry

API_URL = "https://huggingface.co/api/daily_papers"


def fetch_daily(*, day: date | None = None, http: requests.Session | None = None) -> Iterator[Item]:
    params = {"date": day.isoformat()} if day else {}
    response = get(http or session(), API_URL, params=params, source="Hugging Face")
    try:
        entries = response.json()
    except ValueError as exc:
        raise FetchError("Hugging Face answered with something that is not JSON") from exc
    if not isinstance(entries, list):
        raise FetchError("Hugging Face answered with JSON that is not a list")
    for number, entry in enumerate(entries, start=1):
        location = f"Hugging Face daily papers: entry {number}"
        try:
            yield record_from_entry(entry, location=location)
        except RecordError as exc:
            yield Skip(location, str(exc))
