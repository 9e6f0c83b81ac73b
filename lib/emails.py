"""One way to build every e-mail: templates/emails/<name>-subject.txt, -body.txt, -body.html.

The HTML part has its CSS inlined (Gmail and Outlook drop <style> blocks in many cases),
and every message is an AnymailMessage so tags, metadata and merge headers reach the ESP.
"""

import re
import textwrap
from functools import lru_cache

import css_inline
from anymail.message import AnymailMessage
from django.conf import settings
from django.template.loader import render_to_string


@lru_cache(maxsize=1)
def _inliner() -> css_inline.CSSInliner:
    # Remote stylesheets are never fetched: e-mail CSS lives in the template itself.
    return css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=True)


def inline_css(html: str) -> str:
    return _inliner().inline(html)


TEXT_WIDTH = 78  # RFC 5322's line length that every mail client shows unwrapped
_LIST_ITEM = re.compile(r"\s*(?:\d+\.|[-*•])\s+")


def wrap_text(text: str, width: int = TEXT_WIDTH) -> str:
    """`text` with lines longer than `width` broken at spaces, continuing at the line's
    indent (under the text of a numbered item). A word longer than a line, a link, keeps
    a line of its own rather than being cut."""
    lines = []
    for line in text.splitlines():
        if len(line) <= width:
            lines.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        item = _LIST_ITEM.match(line)
        lines.extend(
            textwrap.wrap(
                line.strip(),
                width=width,
                initial_indent=indent,
                subsequent_indent=" " * item.end() if item else indent,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def render_parts(name: str, context: dict) -> tuple[str, str, str]:
    """(subject, text body, inlined HTML body) of template family `name`."""
    context = {"SITE_URL": settings.SITE_URL, "SITE_NAME": settings.SITE_NAME, **context}
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    text = wrap_text(render_to_string(f"emails/{name}-body.txt", context))
    html = inline_css(render_to_string(f"emails/{name}-body.html", context))
    return subject, text, html


def make_message(
    name: str,
    to: list[str],
    context: dict,
    *,
    headers: dict | None = None,
    tags: list[str] | None = None,
    metadata: dict | None = None,
    html: bool = True,
) -> AnymailMessage:
    """An unsent message of type `name` to `to`, with a text part and (by default) HTML."""
    subject, text, html_body = render_parts(name, context)
    return message_from_parts(
        subject=subject,
        text=text,
        html=html_body if html else None,
        to=to,
        headers=headers,
        tags=tags or [name],
        metadata=metadata,
    )


def message_from_parts(
    *,
    subject: str,
    text: str,
    html: str | None,
    to: list[str],
    headers: dict | None = None,
    tags: list[str] | None = None,
    metadata: dict | None = None,
    esp_extra: dict | None = None,
) -> AnymailMessage:
    """An unsent message from parts already rendered (the digest renders once per distinct
    digest and merges each reader's links in afterwards)."""
    message = AnymailMessage(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers=headers or {},
        tags=tags or [],
        metadata=metadata or {},
    )
    if html is not None:
        message.attach_alternative(html, "text/html")
    if esp_extra:
        message.esp_extra = esp_extra
    return message
