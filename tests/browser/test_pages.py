"""Issue 12 in headless Chromium: daily pages, thumbnails, dark mode, the phone fold, the
dismissed banner and the "/" shortcut. Screenshots go to test-artifacts/."""

import datetime
import re
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from papers.models import TrendSnapshot, Window
from papers.thumbnails import thumbnail_render
from tests.factories import (
    PaperFactory,
    PaperRepositoryFactory,
    RepositoryFactory,
    TopicFactory,
    TrendFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
PDF = (Path(__file__).parent.parent / "papers" / "data" / "pdf" / "tiny-paper.pdf").read_bytes()
BANNER = "Get trending papers in your email inbox once a day!"


@pytest.fixture
def site(settings, tmp_path):
    """Ten trending papers, the first with a rendered thumbnail, on three recorded days."""
    settings.MEDIA_ROOT = tmp_path
    topic = TopicFactory(name="Computer Vision", slug="computer-vision")
    papers = []
    for n in range(10):
        paper = PaperFactory(
            title=f"Trending paper {n + 1}" + (r" in $\mathcal{O}(n)$" if n == 0 else ""),
            authors=["Grace Hopper", "Alan Turing"],
            abstract="We show what a card looks like with an abstract of a few lines. " * 3,
            published_on=datetime.date(2026, 11, 20),
        )
        paper.topics.add(topic)
        repo = RepositoryFactory(stars=1200 - n * 100)
        PaperRepositoryFactory(paper=paper, repository=repo)
        TrendFactory(
            paper=paper, window=Window.TODAY, score=100 - n, reason=f"+{300 - n} stars in 24 h"
        )
        papers.append(paper)
    image, width, height = thumbnail_render(pdf=PDF, width=480)
    papers[0].thumbnail.save("trending-paper-1.jpg", ContentFile(image), save=False)
    papers[0].thumbnail_width, papers[0].thumbnail_height = width, height
    papers[0].save()
    for day, order in (
        (datetime.date(2026, 11, 22), papers[:5]),
        (datetime.date(2026, 11, 23), list(reversed(papers[:5]))),
        (datetime.date(2026, 11, 24), papers[3:8]),
    ):
        for rank, paper in enumerate(order, start=1):
            TrendSnapshot.objects.create(
                day=day,
                window=Window.TODAY,
                rank=rank,
                paper=paper,
                score=10 - rank,
                reason=f"#{rank} on {day:%d %b}",
            )
    return papers


def test_it_pages_through_days(page, site, artifacts_dir):
    page.goto(page.base_url + "/papers/date/2026-11-23/")

    assert "Monday 23 November 2026" in page.get_by_role("heading", level=1).inner_text()
    cards = page.locator("main ol.paper-list article h2")
    assert cards.first.inner_text() == "Trending paper 5"
    page.screenshot(path=str(artifacts_dir / "daily-page.png"), full_page=True)

    page.get_by_role("link", name="Next day →").click()
    page.wait_for_url(re.compile(r"/papers/date/2026-11-24/$"))
    assert cards.first.inner_text() == "Trending paper 4"

    page.get_by_role("link", name="← Previous day").click()
    page.get_by_role("link", name="← Previous day").click()
    page.wait_for_url(re.compile(r"/papers/date/2026-11-22/$"))
    assert cards.first.inner_text().startswith("Trending paper 1")
    assert page.get_by_text("No earlier day").is_visible()


def test_it_shows_thumbnails_lazily_and_placeholders_otherwise(page, site, artifacts_dir):
    page.goto(page.base_url + "/")

    image = page.locator("main .paper-card__thumb img").first
    image.scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('.paper-card__thumb img').complete")
    assert image.get_attribute("loading") == "lazy"
    assert image.get_attribute("alt") == "First page of the paper"
    assert page.evaluate("document.querySelector('.paper-card__thumb img').naturalWidth") == 480
    assert page.locator("main .thumb-placeholder").count() == 9
    box = page.locator("main .thumb-placeholder").first.bounding_box()
    assert box["width"] > 40 and box["height"] > box["width"], "a tile, not a broken image"
    # Maths in the title is drawn as MathML, not dollar signs.
    assert page.locator("main h2 math").count() == 1
    page.screenshot(path=str(artifacts_dir / "cards-thumbnails.png"), full_page=False)


def test_it_follows_the_dark_colour_scheme(browser, live_server, site, artifacts_dir):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        ink = page.evaluate("getComputedStyle(document.querySelector('main h2 a')).color")
        assert _luminance(background) < 0.1, background
        assert _luminance(ink) > 0.7, ink
        page.screenshot(path=str(artifacts_dir / "home-dark.png"), full_page=False)
    finally:
        context.close()


def test_its_first_card_starts_within_a_phones_first_screen(
    browser, live_server, site, artifacts_dir
):
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    try:
        for path in ("/", "/papers/date/2026-11-24/", "/topics/computer-vision/"):
            page.goto(live_server.url + path)
            top = page.locator("main article.paper-card").first.bounding_box()["y"]
            assert top < PHONE["height"] - 120, f"{path}: the first card starts at {top}px"
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
        page.goto(live_server.url + "/")
        page.screenshot(path=str(artifacts_dir / "home-phone-fold.png"), full_page=False)
    finally:
        context.close()


def test_a_visitor_can_dismiss_the_banner_for_good(page, site, artifacts_dir):
    page.goto(page.base_url + "/")
    banner = page.get_by_role("region", name=BANNER)
    assert banner.is_visible()

    page.get_by_role("button", name="Dismiss the subscription banner").click()

    assert not banner.is_visible()
    page.goto(page.base_url + "/papers/date/2026-11-24/")
    assert page.locator("section.banner").count() == 1, "the cached page is the same for all"
    assert not page.locator("section.banner").is_visible(), "hidden before it is drawn"
    page.screenshot(path=str(artifacts_dir / "banner-dismissed.png"), full_page=False)


def test_slash_focuses_the_search_box(page, site):
    page.goto(page.base_url + "/")

    page.keyboard.press("/")

    assert page.evaluate("document.activeElement.id") == "site-search-q"
    page.keyboard.type("kernel")
    assert page.locator("#site-search-q").input_value() == "kernel", "no stray slash"


def _luminance(css_colour: str) -> float:
    red, green, blue = (int(n) / 255 for n in re.findall(r"\d+", css_colour)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue
