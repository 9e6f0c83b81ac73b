"""allauth's e-mails built like the site's own: CSS inlined, text wrapped, site name known."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from lib.emails import inline_css, wrap_text


class AccountAdapter(DefaultAccountAdapter):
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
