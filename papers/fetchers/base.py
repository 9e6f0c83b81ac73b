import time
from collections.abc import Callable

import requests
from django.conf import settings
from django.core.cache import cache

USER_AGENT = "Paperboy/0.1 (+https://github.com/paperboy; trending papers digest)"


class FetchError(Exception):
    """A source answered with something we cannot use; transient ones are retried by tasks."""

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.transient = transient


TRANSIENT_STATUSES = (429, 500, 502, 503, 504)


def get(http: requests.Session, url: str, *, params: dict, source: str) -> requests.Response:
    """GET that turns network failures and non-200 answers into FetchError (transient when
    a retry may help)."""
    try:
        response = http.get(url, params=params, timeout=30)
    except requests.RequestException as exc:
        raise FetchError(f"{source} unreachable: {exc}", transient=True) from exc
    if response.status_code != 200:
        raise FetchError(
            f"{source} answered {response.status_code}",
            transient=response.status_code in TRANSIENT_STATUSES,
        )
    return response


def session() -> requests.Session:
    s = requests.Session()
    s.headers["User-Agent"] = f"{settings.SITE_NAME} ({settings.SITE_URL})"
    return s


class Spacing:
    """At most one call per `seconds` across every process sharing the cache (Redis in
    production): arXiv asks API clients for 3 seconds between calls, whoever makes them."""

    def __init__(
        self,
        key: str,
        seconds: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.key, self.seconds, self.clock, self.sleep = key, seconds, clock, sleep

    def wait(self) -> None:
        lock, next_key = f"{self.key}:lock", f"{self.key}:next"
        while True:
            pause = 0.05
            if cache.add(lock, 1, timeout=30):
                try:
                    now = self.clock()
                    next_at = cache.get(next_key) or 0
                    if now >= next_at:
                        cache.set(next_key, now + self.seconds, timeout=int(self.seconds) + 60)
                        return
                    pause = next_at - now
                finally:
                    cache.delete(lock)
            self.sleep(pause)
