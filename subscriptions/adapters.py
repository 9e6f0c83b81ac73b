"""allauth's account e-mails take the path of every transactional e-mail, and are built
like the site's own: CSS inlined, text wrapped at 78 columns, the site's name known."""

import datetime

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site

from lib.emails import inline_css, wrap_text
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

    def render_mail(self, template_prefix, email, context, headers=None):
        context = {"SITE_NAME": settings.SITE_NAME, "SITE_URL": settings.SITE_URL, **context}
        message = super().render_mail(template_prefix, email, context, headers=headers)
        message.body = wrap_text(message.body)
        # Gmail and Outlook drop <style> blocks in many cases, as for our own e-mails.
        alternatives, message.alternatives = getattr(message, "alternatives", []), []
        for content, mimetype in alternatives:
            message.attach_alternative(
                inline_css(content) if mimetype == "text/html" else content, mimetype
            )
        return message
