"""allauth's account e-mails take the path of every transactional e-mail."""

import datetime

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site

from subscriptions import services


def _lifetime(template_prefix: str) -> datetime.timedelta:
    """How long sending this e-mail still makes sense: as long as the code or link in it."""
    seconds = {
        "account/email/login_code": app_settings.LOGIN_BY_CODE_TIMEOUT,
        "account/email/password_reset_code": app_settings.PASSWORD_RESET_BY_CODE_TIMEOUT,
        "account/email/email_confirmation_code": app_settings.EMAIL_VERIFICATION_BY_CODE_TIMEOUT,
        "account/email/password_reset_key": settings.PASSWORD_RESET_TIMEOUT,
    }.get(template_prefix)
    if seconds is None and template_prefix.startswith("account/email/email_confirmation"):
        seconds = app_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS * 86400
    return datetime.timedelta(seconds=seconds or 86400)


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render as allauth does, then record the e-mail and send it after commit: the
        request never waits on the ESP, and an ESP failure never becomes an error page."""
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        message = self.render_mail(template_prefix, email, ctx)
        services.outbound_email_queue_message(
            kind=template_prefix,
            message=message,
            lifetime=_lifetime(template_prefix),
            user=context.get("user"),
        )
