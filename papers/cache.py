"""A version number for everything cached from trending scores.

Page caches put the version in their keys; recomputing the scores bumps it, so every
cached page built from old scores is missed at once without scanning keys.
"""

import functools
import hashlib
import re

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.cache import patch_vary_headers

TRENDING_VERSION_KEY = "papers:trending-version"


def trending_version() -> int:
    return cache.get_or_set(TRENDING_VERSION_KEY, 1, timeout=None)


def page_version(request) -> int:
    """The trending version a page's `{% cache %}` fragments key on: the one
    cache_page_for_visitors read with the page, else read now."""
    return getattr(request, "trending_version", None) or trending_version()


def bump_trending_version() -> int:
    try:
        return cache.incr(TRENDING_VERSION_KEY)
    except ValueError:  # evicted or never set
        cache.set(TRENDING_VERSION_KEY, 2, timeout=None)
        return 2


def page_key(kind: str, host: str, full_path: str) -> str:
    """The cache key of a page: its host and its path with the query string.

    The host is part of it because a response can carry it (a feed's self link, any
    absolute URL built from the request): a page first rendered for one allowed host
    must never be served to another."""
    where = f"{host}{full_path}"
    return f"papers:{kind}:{hashlib.sha256(where.encode()).hexdigest()}"


def _load(kind: str, request):
    """(key, version, payload or None) in one cache round trip: the trending version and
    the stored page come back together, and the page counts only if it was stored under
    that version. One trip instead of two is what makes a cached page nearly as cheap as
    a trivial view."""
    key = page_key(kind, request.get_host(), request.get_full_path())
    found = cache.get_many([TRENDING_VERSION_KEY, key])
    version = found.get(TRENDING_VERSION_KEY) or trending_version()
    stored = found.get(key)
    if stored is not None and stored[0] == version:
        return key, version, stored[1]
    return key, version, None


def cache_on_trending_version(timeout: int = 600):
    """Cache whole GET responses (feeds: no CSRF token, same bytes for everyone) by path
    until the trending version changes. Only 200 responses to requests without a query
    string are kept, so made-up URLs cannot fill the cache."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in ("GET", "HEAD") or request.GET:
                return view(request, *args, **kwargs)
            key, version, stored = _load("response", request)
            if stored is not None:
                content, content_type = stored
                return HttpResponse(content, content_type=content_type)
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.streaming:
                response = response.render() if hasattr(response, "render") else response
                payload = (response.content, response["Content-Type"])
                cache.set(key, (version, payload), timeout)
            return response

        return wrapper

    return decorator


CSRF_PLACEHOLDER = "\ue002csrf\ue002"
# Pages are stored as the bytes the response sends: a hit then neither decodes the
# stored page nor encodes the response (most of the cost of a hit on a 60 kB page).
_PLACEHOLDER = CSRF_PLACEHOLDER.encode()
_CSRF_INPUT = re.compile(rb'(name="csrfmiddlewaretoken" value=")([^"]+)(")')


def cache_page_for_visitors(timeout: int = 600, params: dict[str, set[str]] | None = None):
    """Cache whole HTML pages, for visitors without a session, by path and query string
    until the trending version changes.

    Every page carries the banner form and so a CSRF token, which must not be shared:
    the stored copy has a placeholder where the token was, and each hit gets the
    visitor's own token. Requests with a session or pending messages (signed-in users,
    someone who just subscribed) always render afresh, so nothing personal is stored.
    Only the query parameters in `params`, with one of the listed values, are cached:
    any other query string renders afresh, so made-up URLs cannot fill the cache.
    """
    params = params or {}

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if (
                request.method not in ("GET", "HEAD")
                or _has_state(request)
                or not _cacheable_query(request, params)
            ):
                return view(request, *args, **kwargs)
            key, version, stored = _load("html", request)
            # The view's fragments key on the same version (page_version): no second read.
            request.trending_version = version
            if stored is not None:
                if isinstance(stored, str):  # stored as text by an earlier release
                    stored = stored.encode()
                token = get_token(request).encode()
                response = HttpResponse(stored.replace(_PLACEHOLDER, token))
            else:
                response = view(request, *args, **kwargs)
                if response.status_code == 200 and not response.streaming:
                    html = _CSRF_INPUT.sub(rb"\g<1>" + _PLACEHOLDER + rb"\g<3>", response.content)
                    cache.set(key, (version, html), timeout)
            patch_vary_headers(response, ["Cookie"])
            return response

        return wrapper

    return decorator


def _cacheable_query(request, params: dict[str, set[str]]) -> bool:
    return all(
        name in params and len(values) == 1 and values[0] in params[name]
        for name, values in request.GET.lists()
    )


def _has_state(request) -> bool:
    return settings.SESSION_COOKIE_NAME in request.COOKIES or "messages" in request.COOKIES
