"""Middleware of the project as a whole."""

from django.conf import settings
from django.template.loader import render_to_string


class BrandedNotFoundMiddleware:
    """With DEBUG on (`make run`), answer a 404 with the site's own page, as production
    does, instead of Django's technical page listing every URL pattern. Tracebacks of real
    errors (500) still show; DEBUG off never gets here with a technical page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and response.get("Content-Type", "").startswith("text/html")
            and _is_technical(response)
        ):
            html = render_to_string("404.html", request=request)
            response.content = html.encode()
            response["Content-Length"] = str(len(response.content))
        return response


def _is_technical(response) -> bool:
    # Only Django's technical page is replaced, recognised by its <title>: a view's own 404
    # response (an API's JSON, say) is left alone.
    return not response.streaming and b"<title>Page not found at " in response.content
