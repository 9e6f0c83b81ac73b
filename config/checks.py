"""Deployment checks for settings Django's own `check --deploy` lets through."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def secret_key(app_configs, **kwargs):
    """The development SECRET_KEY is in the repository: anyone could sign unsubscribe and
    preference links for any subscriber. Django's own W009 accepts it (it is long and
    varied enough), so it is refused here by name."""
    if settings.DEBUG:
        return []
    key = settings.SECRET_KEY or ""
    if not key or key == settings.DEVELOPMENT_SECRET_KEY:
        return [
            checks.Error(
                "DJANGO_SECRET_KEY is not set, so the site signs its links with the "
                "development key anyone can read in the repository.",
                hint="Set DJANGO_SECRET_KEY to a long random value, e.g. the output of "
                "python -c 'import secrets; print(secrets.token_urlsafe(50))'.",
                id="config.E001",
            )
        ]
    return []
