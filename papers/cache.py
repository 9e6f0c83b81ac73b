"""A version number for everything cached from trending scores.

Page caches put the version in their keys; recomputing the scores bumps it, so every
cached page built from old scores is missed at once without scanning keys.
"""

import functools
import hashlib

from django.core.cache import cache
from django.http import HttpResponse

TRENDING_VERSION_KEY = "papers:trending-version"


def trending_version() -> int:
    return cache.get_or_set(TRENDING_VERSION_KEY, 1, timeout=None)


def bump_trending_version() -> int:
    try:
        return cache.incr(TRENDING_VERSION_KEY)
    except ValueError:  # evicted or never set
        cache.set(TRENDING_VERSION_KEY, 2, timeout=None)
        return 2


def cache_on_trending_version(timeout: int = 600):
    """Cache whole GET responses (feeds: no CSRF token, same bytes for everyone) under
    the path, query string and trending version. Only 200 responses are kept."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in ("GET", "HEAD"):
                return view(request, *args, **kwargs)
            digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()
            key = f"papers:page:{trending_version()}:{digest}"
            cached = cache.get(key)
            if cached is not None:
                content, content_type = cached
                return HttpResponse(content, content_type=content_type)
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.streaming:
                response = response.render() if hasattr(response, "render") else response
                cache.set(key, (response.content, response["Content-Type"]), timeout)
            return response

        return wrapper

    return decorator
