"""GitHub star counts through the REST API, politely.

Conditional requests (If-None-Match with the stored ETag; a 304 costs no rate limit when
authenticated), an optional GITHUB_TOKEN (5,000 requests an hour instead of 60), and the
rate-limit headers obeyed: when they say stop, every process stops until the reset time.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from papers.fetchers.base import session
from papers.importers.base import valid_stars
from papers.models import Repository
from papers.services import repository_record_stars

logger = logging.getLogger(__name__)

API_URL = "https://api.github.com/repos/{owner}/{name}"
PAUSE_KEY = "papers:github-paused-until"


@dataclass
class StarsSummary:
    refreshed: int = 0
    not_modified: int = 0
    missing: int = 0
    failed: int = 0
    paused_until: datetime | None = None


def paused_until() -> datetime | None:
    until = cache.get(PAUSE_KEY)
    return until if until and until > timezone.now() else None


def _pause(until: datetime) -> None:
    cache.set(PAUSE_KEY, until, timeout=max(1, int((until - timezone.now()).total_seconds())) + 5)
    logger.warning("GitHub rate limit reached: star refresh paused until %s", until.isoformat())


def _headers(repo: Repository, token: str) -> dict:
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if repo.etag:
        headers["If-None-Match"] = repo.etag
    return headers


def _reset_time(response: requests.Response) -> datetime:
    retry_after = response.headers.get("Retry-After", "").strip()
    if retry_after.isdigit():
        return timezone.now() + timedelta(seconds=int(retry_after))
    reset = response.headers.get("X-RateLimit-Reset", "")
    if reset.isdigit():
        return datetime.fromtimestamp(int(reset), tz=UTC)
    return timezone.now() + timedelta(minutes=15)


def refresh_stars(
    *, repositories, token: str | None = None, http: requests.Session | None = None
) -> StarsSummary:
    """Fetch the star count of each GitHub repository and record it (see module docstring)."""
    summary = StarsSummary()
    if until := paused_until():
        summary.paused_until = until
        return summary
    token = settings.GITHUB_TOKEN if token is None else token
    http = http or session()
    for repo in repositories:
        if not repo.url.startswith("https://github.com/"):
            continue
        url = API_URL.format(owner=repo.owner, name=repo.name)
        try:
            response = http.get(url, headers=_headers(repo, token), timeout=20)
        except requests.RequestException as exc:
            logger.warning("GitHub %s: %s", repo, exc)
            summary.failed += 1
            continue
        now = timezone.now()
        remaining = response.headers.get("X-RateLimit-Remaining", "")
        if response.status_code == 304:
            repository_record_stars(repository=repo, stars=repo.stars, taken_at=now)
            summary.not_modified += 1
        elif response.status_code == 200:
            try:
                stars = int(response.json()["stargazers_count"])
            except (ValueError, KeyError, TypeError):
                summary.failed += 1
                continue
            if not valid_stars(stars):
                # Would overflow the column and end the whole run: this one repository fails.
                logger.warning("GitHub %s: star count %s out of range", repo, str(stars)[:30])
                summary.failed += 1
                continue
            etag = response.headers.get("ETag", "")
            repository_record_stars(repository=repo, stars=stars, taken_at=now, etag=etag)
            summary.refreshed += 1
        elif response.status_code in (403, 429) and (
            remaining == "0" or "Retry-After" in response.headers
        ):
            summary.paused_until = _reset_time(response)
            _pause(summary.paused_until)
            return summary
        elif response.status_code in (404, 410, 451):
            # Deleted, private or blocked: checked (so it goes to the back of the queue).
            Repository.objects.filter(pk=repo.pk).update(stars_checked_at=now)
            summary.missing += 1
        else:
            logger.warning("GitHub %s answered %s", repo, response.status_code)
            summary.failed += 1
        if remaining == "0":
            summary.paused_until = _reset_time(response)
            _pause(summary.paused_until)
            return summary
    return summary


def repositories_due(limit: int):
    """GitHub repositories of published papers, never-checked first, then longest ago."""
    from django.db.models import F

    return (
        Repository.objects.filter(url__startswith="https://github.com/", papers__status="published")
        .distinct()
        .order_by(F("stars_checked_at").asc(nulls_first=True), "pk")[:limit]
    )
