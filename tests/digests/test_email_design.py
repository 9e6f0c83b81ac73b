# ruff: noqa: RUF001 (maths rendered as Unicode)
"""What the digest looks like, on both parts, as a reader receives it."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.core import mail

from digests import rendering
from digests.models import Edition, Kind
from digests.services import edition_get_or_compose
from subscriptions.tokens import MANAGE, UNSUBSCRIBE, read_token
from tests.digests.conftest import make_trending, send_to
from tests.factories import (
    PaperFactory,
    PaperRepositoryFactory,
    SubscriberFactory,
    TrendFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 27)  # a Friday
# A line may run past 78 columns only for a link: alone, or after its short label
# ("More like this: <link>", whose link is merged in per reader after the wrap).
URL = re.compile(r"^\s*(?:[A-Z][\w ]{0,20}: )?https?://\S+$")


def _digest(**subscriber):
    """The digest e-mail one subscriber gets for DAY: (text part, HTML part)."""
    mail.outbox.clear()
    edition = edition_get_or_compose(day=DAY, kind=Kind.DAILY)[0]
    send_to(edition, SubscriberFactory(**subscriber))
    (message,) = mail.outbox
    return message.body, message.alternatives[0][0]


def _words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _body_text(html: str) -> str:
    return _words(html.split("<body", 1)[1].split(">", 1)[1])


def test_it_opens_with_a_branded_header_and_a_preheader():
    make_trending(12, title="Noise2Recon")

    text, html = _digest()

    top = Edition.objects.get().entries.select_related("paper").first().paper.title
    # Inbox previews show the first text of the body: the preheader, not "view on the web".
    assert _body_text(html).startswith(f"{top} · and 9 more")
    assert re.search(r'<div class="preheader" style="[^"]*display: ?none', html)
    header = _words(html.split('class="preheader"', 1)[1].split("</div>", 1)[1])
    assert header.startswith("Paperboy Friday 27 November 2026 · 10 papers trending today #1")
    assert text.startswith("Paperboy · Friday 27 November 2026\n10 papers trending today\n\n1. ")
    assert "VIEW ON THE WEB" not in html.upper().split("<BODY", 1)[1][:2000]


def test_it_says_this_week_in_a_weekly_digest():
    make_trending(3, window="week")
    edition = edition_get_or_compose(day=DAY, kind=Kind.WEEKLY)[0]
    send_to(edition, SubscriberFactory(frequency="weekly"))

    message = mail.outbox[-1]
    for part in (message.body, message.alternatives[0][0]):
        assert "3 papers trending this week" in part


def test_it_uses_the_system_font_stack():
    make_trending(1)

    _, html = _digest()

    body_style = re.search(r'<body[^>]*style="([^"]*)"', html).group(1)
    assert "-apple-system" in body_style and "Segoe UI" in body_style
    assert "Georgia" not in html and "serif;" not in body_style.replace("sans-serif", "")


def test_it_shows_arxiv_pdf_and_code_buttons_with_stars():
    paper = PaperFactory(arxiv_id="2401.01234", abstract_url="", pdf_url="")
    PaperRepositoryFactory(
        paper=paper, repository__stars=12345, repository__url="https://github.com/a/b"
    )
    TrendFactory(paper=paper)

    text, html = _digest()

    buttons = {
        re.sub(r"<[^>]+>", "", label).strip(): href
        for href, label in re.findall(r'<a class="btn" href="([^"]+)"[^>]*>(.*?)</a>', html)
    }
    assert buttons == {
        "arXiv": "https://arxiv.org/abs/2401.01234",
        "PDF": "https://arxiv.org/pdf/2401.01234",
        "Code ★ 12,345": "https://github.com/a/b",
    }
    assert "   arXiv: https://arxiv.org/abs/2401.01234\n" in text
    assert "   PDF: https://arxiv.org/pdf/2401.01234\n" in text
    assert "   Code (★ 12,345): https://github.com/a/b\n" in text


def test_it_calls_a_non_arxiv_abstract_page_abstract():
    paper = PaperFactory(
        arxiv_id=None, abstract_url="https://openreview.net/forum?id=x", pdf_url=""
    )
    TrendFactory(paper=paper)

    text, html = _digest()

    assert re.search(
        r'<a class="btn" href="https://openreview.net/forum\?id=x"[^>]*>Abstract</a>', html
    )
    assert "   Abstract: https://openreview.net/forum?id=x\n" in text
    assert "PDF" not in text and ">PDF<" not in html  # no PDF known, no button


def test_it_shows_no_stars_when_they_are_unknown():
    paper = PaperFactory()
    PaperRepositoryFactory(paper=paper, repository__stars=0)
    TrendFactory(paper=paper)

    text, html = _digest()

    assert "★" not in text and "★" not in html
    assert re.search(r'<a class="btn" href="https://github.com/[^"]+"[^>]*>Code</a>', html)
    assert re.search(r"^   Code: https://github.com/\S+$", text, re.M)


def test_it_has_no_empty_author_lines():
    TrendFactory(paper=PaperFactory(title="Anonymous work", authors=[]))

    text, html = _digest()

    assert "1. Anonymous work\n   Why trending: " in text  # straight to the reason
    assert not re.search(r"\n[ \t]+\n", text)  # no line of only spaces anywhere
    assert 'class="meta"' not in html


def test_it_shows_the_first_lines_of_the_abstract():
    TrendFactory(paper=PaperFactory(abstract="Long sentence about results. " * 40))

    text, html = _digest()

    abstract = re.search(r'<p class="abstract"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert len(abstract) <= rendering.ABSTRACT_CHARS + 1 and abstract.endswith("…")
    assert abstract.split("…")[0] in " ".join(text.split())


def test_it_wraps_the_text_part_at_78_columns():
    make_trending(
        3,
        title="An extraordinarily long title about scaling laws for retrieval augmented generation",
        abstract="We present a method that outperforms everything before it by a margin. " * 8,
        authors=["Ada Lovelace", "Alan Turing", "Grace Hopper", "Barbara Liskov", "Kurt Gödel"],
    )

    text, _ = _digest()

    long_lines = [line for line in text.splitlines() if len(line) > 78]
    assert long_lines and all(URL.match(line) for line in long_lines), long_lines
    # A numbered title continues under its first word, not under the number.
    assert re.search(r"^1\. An extraordinarily.*\n   \S", text, re.M)


def test_it_shows_latex_as_readable_text():
    TrendFactory(
        paper=PaperFactory(
            title=r"Sorting in $\mathcal{O}(n^2)$ time with $\alpha$-nets",
            abstract=r"We show $\frac{1}{2}$-approximations over $\mathbb{R}^{d}$ for $k \leq 10$.",
        )
    )

    text, html = _digest()

    for part in (text, html):
        assert "Sorting in O(n²) time with α-nets" in part
        assert "1/2-approximations over R^d for k ≤ 10" in part
        assert "\\mathcal" not in part and "$" not in part


def test_it_shows_a_thumbnail_with_its_size_where_there_is_one():
    papers = make_trending(2)
    papers[0].thumbnail.name = "thumbnails/first-page.png"  # as render_thumbnail stores it
    papers[0].thumbnail_width, papers[0].thumbnail_height = 600, 776
    papers[0].save()

    _, html = _digest()

    images = re.findall(r"<img [^>]*>", html)
    assert len(images) == 1  # the paper without one has no broken image
    assert 'src="http://127.0.0.1:8000/media/thumbnails/first-page.png"' in images[0]
    assert 'width="88" height="114"' in images[0] and 'alt="' in images[0]


def test_it_makes_a_relative_thumbnail_url_absolute(settings):
    settings.SITE_URL = "https://paperboy.example.org"
    image = mock.Mock(url="/media/thumbnails/1.png")
    assert (
        rendering._thumbnail_url(mock.Mock(thumbnail=image))
        == "https://paperboy.example.org/media/thumbnails/1.png"
    )
    assert rendering._thumbnail_url(mock.Mock(thumbnail=None)) == ""


def test_it_reserves_no_height_when_the_thumbnails_size_is_unknown():
    assert rendering._thumbnail_height(mock.Mock(thumbnail_width=600, thumbnail_height=776)) == 114
    assert rendering._thumbnail_height(mock.Mock(thumbnail_width=None, thumbnail_height=None)) == 0


def test_it_keeps_dark_mode_colours_for_separators_and_buttons():
    make_trending(2)

    _, html = _digest()

    dark = html.split("@media (prefers-color-scheme: dark)", 1)[1]
    assert re.search(r"\.rule \{ border-top-color: #\w+ !important", dark)
    assert re.search(r"\.btn \{ background: #\w+ !important; border-color: #\w+ !important", dark)


def test_it_previews_in_the_admin_with_real_looking_links(client):
    make_trending(3)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    body = client.get("/admin/digests/edition/preview/").content.decode()

    assert "manage_url/" not in body and "xxxx" not in body
    manage = re.search(r"/preferences/([\w:.-]+)/", body).group(1)
    unsubscribe = re.search(r"/unsubscribe/([\w:.-]+)/", body).group(1)
    assert read_token(manage, MANAGE).email == "a.long-reader-address@example.org"
    assert read_token(unsubscribe, UNSUBSCRIBE).email == "a.long-reader-address@example.org"
