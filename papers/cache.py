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


def bump_trending_version() -> int:
    try:
        return cache.incr(TRENDING_VERSION_KEY)
    except ValueError:  # evicted or never set
        cache.set(TRENDING_VERSION_KEY, 2, timeout=None)
        return 2


def page_key(kind: str, full_path: str) -> str:
    digest = hashlib.sha256(full_path.encode()).hexdigest()
    return f"papers:{kind}:{trending_version()}:{digest}"


def cache_on_trending_version(timeout: int = 600):
    """Cache whole GET responses (feeds: no CSRF token, same bytes for everyone) under
    the path, query string and trending version. Only 200 responses are kept."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in ("GET", "HEAD"):
                return view(request, *args, **kwargs)
            key = page_key("response", request.get_full_path())
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


CSRF_PLACEHOLDER = "\ue002csrf\ue002"
_CSRF_INPUT = re.compile(r'(name="csrfmiddlewaretoken" value=")([^"]+)(")')


def cache_page_for_visitors(timeout: int = 600):
    """Cache whole HTML pages, for visitors without a session, under the path, query
    string and trending version.

    Every page carries the banner form and so a CSRF token, which must not be shared:
    the stored copy has a placeholder where the token was, and each hit gets the
    visitor's own token. Requests with a session or pending messages (signed-in users,
    someone who just subscribed) always render afresh, so nothing personal is stored.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in ("GET", "HEAD") or _has_state(request):
                return view(request, *args, **kwargs)
            key = page_key("html", request.get_full_path())
            cached = cache.get(key)
            if cached is not None:
                response = HttpResponse(cached.replace(CSRF_PLACEHOLDER, get_token(request)))
            else:
                response = view(request, *args, **kwargs)
                if response.status_code == 200 and not response.streaming:
                    html = response.content.decode()
                    cache.set(key, _CSRF_INPUT.sub(rf"\g<1>{CSRF_PLACEHOLDER}\g<3>", html), timeout)
            patch_vary_headers(response, ["Cookie"])
            return response

        return wrapper

    return decorator


def _has_state(request) -> bool:
    return settings.SESSION_COOKIE_NAME in request.COOKIES or "messages" in request.COOKIES
