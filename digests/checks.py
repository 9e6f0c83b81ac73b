"""Deployment check: a real ESP with an open tracking webhook lets anyone unsubscribe or
suppress any reader by posting fake events."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def webhook_secret(app_configs, **kwargs):
    backend = settings.EMAIL_BACKEND
    if not backend.startswith("anymail.backends.") or backend.startswith("anymail.backends.test"):
        return []
    if (getattr(settings, "ANYMAIL", {}) or {}).get("WEBHOOK_SECRET"):
        return []
    return [
        Error(
            "ANYMAIL_WEBHOOK_SECRET is not set, so the ESP tracking webhook accepts "
            "unauthenticated events.",
            hint="Set ANYMAIL_WEBHOOK_SECRET=<user>:<password> and give the ESP that URL.",
            id="digests.E001",
        )
    ]
