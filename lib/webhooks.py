"""Anymail's webhook views, answering hostile or broken payloads without a 500.

Anymail checks the shared secret first, then parses the ESP's payload, then sends its
signals to our receivers. A payload it cannot parse raised out of the view as a 500, and
an ESP retries a 500 for days. Here, once the secret has been accepted:

- a body that is not JSON at all answers 400: the sender has a bug, and is told so;
- an inbound message the ESP adapter cannot read (e.g. a Subject with CR/LF in it, which
  Python's e-mail package refuses as a header injection) answers 200 and is dropped:
  it is mail someone sent us, and retrying it would only repeat the failure;
- an exception from our own receivers stays a 500, so real bugs are not hidden.
"""

import json
import logging
import traceback
from importlib import import_module

from anymail.exceptions import AnymailWebhookValidationFailure
from django.http import HttpResponse, HttpResponseBadRequest
from django.urls import URLPattern
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger(__name__)


def guarded_urls(module_name: str = "anymail.urls"):
    """Anymail's URL patterns with every view guarded; use as include(guarded_urls())."""
    module = import_module(module_name)
    patterns = [
        URLPattern(
            pattern.pattern,
            guard(pattern.callback, inbound="inbound" in (pattern.name or "")),
            pattern.default_args,
            pattern.name,
        )
        for pattern in module.urlpatterns
    ]
    return patterns, module.app_name


def guard(view, *, inbound: bool):
    @csrf_exempt  # as Anymail's own views: the shared secret authenticates the ESP
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except AnymailWebhookValidationFailure:
            raise  # a wrong or missing secret: Anymail's own 400
        except Exception as exc:
            if _raised_by_a_receiver(exc):
                raise
            if not _is_json(request.body):
                logger.warning("%s: body is not JSON (%s)", request.path, exc)
                return HttpResponseBadRequest("The body is not JSON.\n", content_type="text/plain")
            if inbound:
                logger.warning("%s: unreadable inbound message dropped (%r)", request.path, exc)
                return HttpResponse("Unreadable message ignored.\n", content_type="text/plain")
            logger.warning("%s: unreadable event (%r)", request.path, exc)
            return HttpResponseBadRequest("Unreadable event.\n", content_type="text/plain")

    return wrapper


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:  # includes UnicodeDecodeError
        return False
    return True


def _raised_by_a_receiver(exc: Exception) -> bool:
    """Whether the exception passed through Django's signal dispatch, i.e. was raised by
    one of our receivers after Anymail had parsed the payload."""
    return any(
        frame.filename.replace("\\", "/").endswith("django/dispatch/dispatcher.py")
        for frame in traceback.extract_tb(exc.__traceback__)
    )
