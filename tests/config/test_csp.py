"""A Content-Security-Policy on every page, and nothing inline that it would block."""

import re
from pathlib import Path

import pytest

from digests.models import Kind
from tests.factories import PaperFactory, SubscriberFactory, TopicFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]

PUBLIC = [
    "/",
    "/latest/",
    "/papers/{paper}/",
    "/topics/",
    "/topics/{topic}/",
    "/search/?q=segment",
    "/feed/",
    "/topics/{topic}/feed/atom/",
    "/digests/",
    "/subscribe/",
    "/subscribe/check-your-inbox/",
    "/confirm/not-a-token/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/no-such-page/",
    "/admin/login/",
]
ADMIN = [
    "/admin/",
    "/admin/reader-preview/",
    "/admin/reader-preview/{subscriber_pk}/",
    "/admin/subscriptions/subscriber/",
    "/admin/papers/paper/",
    "/admin/papers/paper/{paper_pk}/change/",
    "/admin/digests/edition/",
    f"/admin/digests/edition/preview/?kind={Kind.DAILY}",
]


def _directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.fixture
def site():
    topic = TopicFactory(slug="vision")
    paper = PaperFactory(slug="segment-anything")
    paper.topics.add(topic)
    subscriber = SubscriberFactory()
    return {
        "paper": paper.slug,
        "topic": topic.slug,
        "paper_pk": paper.pk,
        "subscriber_pk": subscriber.pk,
    }


def _assert_strict(response, url):
    assert "Content-Security-Policy" in response, url
    policy = _directives(response)
    assert policy["script-src"] == ["'self'"], url
    assert policy["default-src"] == ["'self'"], url
    assert policy["object-src"] == ["'none'"], url
    assert policy["frame-ancestors"] == ["'none'"], url


@pytest.mark.django_db
@pytest.mark.parametrize("url", PUBLIC)
def test_every_public_page_has_a_strict_policy(client, site, url):
    url = url.format(**site)

    response = client.get(url)

    assert response.status_code in (200, 400, 404), url
    _assert_strict(response, url)
    assert "'unsafe-inline'" not in _directives(response)["style-src"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ADMIN)
def test_every_admin_page_has_a_strict_policy(client, site, url):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = url.format(**site)

    response = client.get(url)

    assert response.status_code == 200, url
    _assert_strict(response, url)


@pytest.mark.django_db
def test_only_the_digest_preview_allows_inline_style(client, site):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    preview = client.get(f"/admin/digests/edition/preview/?kind={Kind.DAILY}")
    changelist = client.get("/admin/digests/edition/")

    # The e-mail's own HTML keeps its styles in the sandboxed frame; scripts stay 'self'.
    assert "'unsafe-inline'" in _directives(preview)["style-src"]
    assert "'unsafe-inline'" not in _directives(changelist)["style-src"]


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_site_template_has_inline_script_or_style():
    # E-mail templates are exempt: mail clients need inline CSS, and no page serves them.
    found = []
    for path in (ROOT / "templates").rglob("*.html"):
        if "emails" in path.parts:
            continue
        text = path.read_text()
        for pattern, what in INLINE:
            if pattern.search(text):
                found.append(f"{path.relative_to(ROOT)}: {what}")
    assert found == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_browser_reports_no_policy_violation_on_the_site_or_the_admin(page, site):
    UserFactory(username="editor", is_staff=True, is_superuser=True, password="pw-42-editor")
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    for url in ["/", "/papers/{paper}/", "/topics/", "/subscribe/", "/accounts/login/"]:
        page.goto(page.base_url + url.format(**site))
    page.goto(page.base_url + "/admin/login/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", "pw-42-editor")
    page.click("input[type=submit]")
    for url in ADMIN:
        page.goto(page.base_url + url.format(**site))
        page.wait_for_load_state("networkidle")

    assert refused == []
