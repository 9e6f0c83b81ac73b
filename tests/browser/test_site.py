"""The public site in headless Chromium: tabs, search, a paper page, the banner form."""

import datetime
import re

import pytest

from papers.models import Window
from tests.factories import (
    PaperFactory,
    PaperRepositoryFactory,
    RepositoryFactory,
    TopicFactory,
    TrendFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def papers():
    vision = TopicFactory(name="Computer Vision", slug="computer-vision")
    today = PaperFactory(
        title="Segment Anything, Faster",
        slug="segment-anything-faster",
        arxiv_id="2411.99901",
        authors=["Grace Hopper", "Alan Turing", "Ada Lovelace"],
        abstract="We make promptable segmentation ten times faster on a phone. " * 3,
        published_on=datetime.date(2026, 11, 20),
    )
    today.topics.add(vision)
    PaperRepositoryFactory(
        paper=today,
        repository=RepositoryFactory(owner="lab", name="fast-sam", stars=4321, framework="PyTorch"),
    )
    week = PaperFactory(title="Weekly Graph Transformers", slug="weekly-graph-transformers")
    TrendFactory(paper=today, window=Window.TODAY, score=9, reason="+412 stars in 24 h")
    TrendFactory(paper=week, window=Window.WEEK, score=5, reason="+90 stars this week")
    related = PaperFactory(title="Segmentation Benchmarks Revisited")
    related.topics.add(vision)
    return today


def shoot(page, artifacts_dir, name):
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(artifacts_dir / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def test_it_shows_trending_papers_and_switches_tabs_by_keyboard(page, papers, artifacts_dir):
    page.goto(page.base_url + "/")

    main = page.locator("main ol.paper-list")
    assert page.get_by_role("heading", level=1).inner_text() == "Trending papers"
    assert main.get_by_role("link", name="Segment Anything, Faster", exact=True).is_visible()
    assert main.get_by_text("+412 stars in 24 h").is_visible()
    assert page.get_by_role("link", name="Today").get_attribute("aria-current") == "page"
    shoot(page, artifacts_dir, "home")

    page.get_by_role("link", name="This week").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"window=week"))

    assert page.get_by_role("link", name="This week").get_attribute("aria-current") == "page"
    trending = page.locator("main ol.paper-list")
    assert trending.get_by_role("link", name="Weekly Graph Transformers", exact=True).is_visible()
    assert trending.get_by_text("Segment Anything, Faster").count() == 0


def test_it_searches_and_highlights_matches(page, papers):
    page.goto(page.base_url + "/")

    page.get_by_role("searchbox", name="Search papers").fill("segment")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q=segment"))

    results = page.locator("main ol.paper-list")
    assert results.get_by_role("link", name="Segment Anything, Faster", exact=True).is_visible()
    assert results.locator("mark").first.inner_text().lower().startswith("segment")
    # The filters are labelled form fields.
    page.get_by_label("Only papers with code").check()
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"has_code=on"))


def test_it_opens_a_paper_page(page, papers, artifacts_dir):
    page.goto(page.base_url + "/")

    page.locator("main ol.paper-list").get_by_role(
        "link", name="Segment Anything, Faster", exact=True
    ).click()
    page.wait_for_url(re.compile(r"/papers/segment-anything-faster/$"))

    assert page.get_by_role("heading", level=1).inner_text() == "Segment Anything, Faster"
    assert page.get_by_role("link", name="Abstract on arXiv").get_attribute("href") == (
        "https://arxiv.org/abs/2411.99901"
    )
    assert page.get_by_role("link", name="lab/fast-sam").is_visible()
    assert page.get_by_text("PyTorch").is_visible()
    related = page.locator("section", has=page.get_by_role("heading", name="Related papers"))
    assert related.get_by_role("link", name="Segmentation Benchmarks Revisited").is_visible()
    shoot(page, artifacts_dir, "paper")


def test_its_phone_layout_has_no_horizontal_scroll(page, papers):
    page.set_viewport_size(PHONE)
    for path in ("/", "/papers/segment-anything-faster/", "/search/?q=segment", "/topics/"):
        page.goto(page.base_url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"


def test_it_submits_the_banner_form_to_the_subscription_flow(page, papers):
    page.goto(page.base_url + "/papers/segment-anything-faster/")

    banner = page.get_by_role("region", name="Get trending papers in your email inbox once a day!")
    banner.get_by_label("Email address").fill("reader@example.org")
    with page.expect_request(re.compile(r"/subscribe/$")) as request_info:
        banner.get_by_role("button", name="Subscribe").click()
    page.wait_for_load_state()

    request = request_info.value
    assert request.method == "POST"
    assert "email=reader%40example.org" in request.post_data
    response = request.response()
    assert response.status < 400, f"the subscribe POST answered {response.status}"


UNLABELLED = """
() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, img')]
  .filter(el => el.tagName === 'IMG'
    ? !el.hasAttribute('alt')
    : !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
  .map(el => el.outerHTML)
"""


def test_its_fields_have_labels_and_images_alt_text(page, papers):
    for path in ("/", "/papers/segment-anything-faster/", "/search/?q=segment", "/nope/"):
        page.goto(page.base_url + path)
        assert page.evaluate(UNLABELLED) == [], path
        assert page.locator("main").count() == 1
        assert page.locator("h1").count() == 1, f"{path} should have exactly one h1"
