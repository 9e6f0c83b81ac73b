"""The signed "View on the web" link of one delivery: no login, one purpose, no expiry.

It names a delivery, so it opens that reader's own digest (their papers, their order) and
nothing else; the unsubscribe and preference tokens stay in subscriptions.tokens.
"""

from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, reverse

WEB = "digests.web"


def web_token(delivery_id: int) -> str:
    # Signer, not signing.dumps: this runs once per recipient of every digest.
    return signing.Signer(salt=WEB).sign(str(delivery_id))


def read_web_token(token: str) -> int | None:
    """The delivery id of a valid token, else None."""
    try:
        return int(signing.Signer(salt=WEB).unsign(token))
    except (signing.BadSignature, ValueError):
        return None


def web_url(delivery_id: int) -> str:
    # reverse() once per process and prefix: this runs once per recipient.
    return _web_base(settings.SITE_URL, get_script_prefix()) + web_token(delivery_id) + "/"


@lru_cache(maxsize=8)
def _web_base(site_url: str, _prefix: str) -> str:
    return site_url + reverse("digests:mine", kwargs={"token": "T"})[:-2]
