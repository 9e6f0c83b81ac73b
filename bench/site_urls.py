"""The site's URLs plus /bench/trivial: the load test's baseline through the same
middleware stack, with no template, query or cache access."""

from django.core.cache import cache
from django.http import HttpResponse
from django.urls import include, path


def trivial(request):
    return HttpResponse("ok", content_type="text/plain")


def trivial_cache_read(request):
    # The floor for any cached page: the trivial view plus one cache round trip.
    return HttpResponse(cache.get("bench:missing", "ok"), content_type="text/plain")


urlpatterns = [
    path("bench/trivial", trivial),
    path("bench/trivial-cache-read", trivial_cache_read),
    path("", include("config.urls")),
]
