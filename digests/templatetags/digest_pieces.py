"""Where digests.rendering cuts the digest e-mail into the pieces it joins per reader."""

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def cut(context, name: str) -> str:
    """An HTML comment naming the place, when the digest is rendered to be cut into pieces
    (`cutting` in the context); nothing in any other render, so the e-mail is unchanged.

    A comment, not text: between table rows text would be moved out of the table by the
    HTML parser of the CSS inliner, and a comment stays where it is."""
    return mark_safe(f"<!--PBCUT_{name}_PBCUT-->") if context.get("cutting") else ""
