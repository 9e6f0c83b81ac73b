"""Hugging Face daily papers (https://huggingface.co/api/daily_papers)."""

from collections.abc import Iterator
from datetime import date

import requests

from papers.fetchers.base import FetchError, session
from papers.importers.base import Item, RecordError, Skip
from papers.importers.hf import record_from_entry

API_URL = "https://huggingface.co/api/daily_papers"


def fetch_daily(*, day: date | None = None, http: requests.Session | None = None) -> Iterator[Item]:
    params = {"date": day.isoformat()} if day else {}
    try:
        response = (http or session()).get(API_URL, params=params, timeout=30)
    except requests.RequestException as exc:
        raise FetchError(f"Hugging Face unreachable: {exc}", transient=True) from exc
    if response.status_code != 200:
        raise FetchError(
            f"Hugging Face answered {response.status_code}",
            transient=response.status_code in (429, 500, 502, 503, 504),
        )
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
