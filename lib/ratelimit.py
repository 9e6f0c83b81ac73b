"""Fixed-window counters in the shared cache (Redis in production).

Keys hold a hash of what is counted, so neither e-mail addresses nor IP addresses end
up readable in the cache.
"""

import hashlib
import time

from django.core.cache import cache


def hit(scope: str, key: str, *, limit: int, window: int) -> bool:
    """Count one attempt for `key`; False once more than `limit` fall in this window."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"ratelimit:{scope}:{digest}:{int(time.time() // window)}"
    # add() then incr() is atomic on Redis, so parallel requests cannot both squeeze in.
    if cache.add(cache_key, 1, timeout=window):
        return limit >= 1
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.add(cache_key, 1, timeout=window)
        count = 1
    return count <= limit
