"""Fixed-window counters in the shared cache (Redis in production).

Keys hold a hash of what is counted, so neither e-mail addresses nor IP addresses end
up readable in the cache.

When the cache cannot be reached, `hit()` raises Unavailable instead of guessing: every
limit here guards an action that sends e-mail, and an outage must not become a window in
which anyone can make the site mail anyone (see docs/site.md, "When Redis is down").
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

from lib.redis_cache import CacheUnavailable


class Unavailable(Exception):
    """The counters cannot be read: the caller must refuse the action (fail closed)."""


def hit(scope: str, key: str, *, limit: int, window: int) -> bool:
    """Count one attempt for `key`; False once more than `limit` fall in this window.

    Raises Unavailable when the cache is unreachable."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"ratelimit:{scope}:{digest}:{int(time.time() // window)}"
    _check_shared()
    try:
        # add() then incr() is atomic on Redis, so parallel requests cannot both squeeze
        # in. During an outage incr() raises CacheUnavailable.
        if cache.add(cache_key, 1, timeout=window):
            # add() answers from process memory if Redis failed just now: not a count.
            _check_shared()
            return limit >= 1
        try:
            count = cache.incr(cache_key)
        except CacheUnavailable:
            raise
        except ValueError:  # expired between add() and incr()
            cache.add(cache_key, 1, timeout=window)
            count = 1
    except CacheUnavailable:
        raise Unavailable() from None
    return count <= limit


def _check_shared() -> None:
    """Unavailable while the shared cache is out of reach (lib.redis_cache serves from
    process memory then, which counts for one process only)."""
    in_outage = getattr(cache, "in_outage", None)
    if in_outage is not None and in_outage():
        raise Unavailable()


def client_ip(request) -> str | None:
    """The address of the client that sent `request`.

    Behind our proxy (DJANGO_BEHIND_PROXY=1) REMOTE_ADDR is the proxy, and the client is
    the last X-Forwarded-For hop, the one our proxy appended; earlier hops come from the
    client and could be anything, so they never choose a rate-limit bucket.
    """
    ip = request.META.get("REMOTE_ADDR") or None
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        ip = forwarded.rsplit(",", 1)[-1].strip() or ip
    return ip
