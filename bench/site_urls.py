"""The site's URLs plus /bench/trivial: the load test's baseline through the same
middleware stack, with no template, query or cache access."""

from django.http import HttpResponse
from django.urls import include, path


def trivial(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/trivial", trivial),
    path("", include("config.urls")),
]
