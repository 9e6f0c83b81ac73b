"""A version number for everything cached from trending scores.

Page caches put the version in their keys; recomputing the scores bumps it, so every
cached page built from old scores is missed at once without scanning keys.
"""

from django.core.cache import cache

TRENDING_VERSION_KEY = "papers:trending-version"


def trending_version() -> int:
    return cache.get_or_set(TRENDING_VERSION_KEY, 1, timeout=None)


def bump_trending_version() -> int:
    try:
        return cache.incr(TRENDING_VERSION_KEY)
    except ValueError:  # evicted or never set
        cache.set(TRENDING_VERSION_KEY, 2, timeout=None)
        return 2
