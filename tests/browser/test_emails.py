"""Each e-mail's HTML part in Chromium at a phone's width (390 px) and a mail client's
usual column (600 px): nothing may scroll sideways. Screenshots go to test-artifacts/."""

import base64
import datetime as dt
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from digests import rendering
from digests.models import Kind
from digests.services import edition_get_or_compose
from subscriptions import emails
from tests.digests.conftest import make_trending, send_to
from tests.factories import SubscriberFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

WIDTHS = (390, 600)
PASSWORD = "a long enough passphrase 42"
LONG_ADDRESS = "someone.with.a.really-quite-long-address@subdomain.example.org"
# A one-pixel PNG: a thumbnail that loads without any network.
PIXEL = (
    "data:image/png;base64,"
    + base64.b64encode(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082"
        )
    ).decode()
)


def _html(message) -> str:
    return message.alternatives[0][0]


def _digest() -> str:
    papers = make_trending(
        10,
        title="Supercalifragilisticexpialidociousnessoftransformersatscale in $\\mathcal{O}(n)$",
        abstract="An abstract that goes on and on about results. " * 10,
    )
    thumbs = {papers[0].pk: PIXEL}
    edition = edition_get_or_compose(day=dt.date(2026, 11, 27), kind=Kind.DAILY)[0]
    mail.outbox.clear()
    with mock.patch.object(rendering, "_thumbnail_url", lambda p: thumbs.get(p.pk, "")):
        send_to(edition, SubscriberFactory(email="reader." + LONG_ADDRESS))
    return _html(mail.outbox[-1])


def _allauth(client, on_commit) -> dict[str, str]:
    """The HTML parts of allauth's verification, login code and password reset e-mails
    (recorded, then sent by a task after commit: `on_commit` runs it)."""

    def post(path, data):
        with on_commit(execute=True):
            client.post(path, data)

    mail.outbox.clear()
    post(
        "/accounts/signup/",
        {"email": "account." + LONG_ADDRESS, "password1": PASSWORD, "password2": PASSWORD},
    )
    verification = _html(mail.outbox[-1])
    user = UserFactory(email="ada@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    post("/accounts/login/code/", {"email": user.email})
    login_code = _html(mail.outbox[-1])
    client.logout()
    post("/accounts/password/reset/", {"email": user.email})
    reset = _html(mail.outbox[-1])
    return {"verification": verification, "login-code": login_code, "password-reset": reset}


@pytest.fixture
def all_emails(client, django_capture_on_commit_callbacks):
    subscriber = SubscriberFactory(status="pending", email=LONG_ADDRESS)
    return {
        "confirm": _html(emails.confirmation(subscriber)),
        "already-subscribed": _html(emails.already_subscribed(subscriber)),
        "digest": _digest(),
        **_allauth(client, django_capture_on_commit_callbacks),
    }


def _open(browser, html: str, width: int, **context):
    page = browser.new_context(viewport={"width": width, "height": 900}, **context).new_page()
    page.set_content(html, wait_until="load")
    return page


def test_no_e_mail_scrolls_sideways_on_a_phone_or_in_a_mail_client(
    browser, all_emails, artifacts_dir
):
    overflowing = []
    for name, html in all_emails.items():
        for width in WIDTHS:
            page = _open(browser, html, width)
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            page.screenshot(path=artifacts_dir / f"email-{name}-{width}.png", full_page=True)
            if scroll_width > width:
                overflowing.append((name, width, scroll_width))
            page.context.close()
    assert overflowing == []


def test_the_digest_keeps_separators_and_buttons_visible_in_dark_mode(
    browser, all_emails, artifacts_dir
):
    page = _open(browser, all_emails["digest"], 390, color_scheme="dark")
    page.screenshot(path=artifacts_dir / "email-digest-390-dark.png", full_page=True)
    colours = page.evaluate(
        """() => {
          const style = (selector) => getComputedStyle(document.querySelector(selector));
          return {
            page: style(".inner").backgroundColor,
            button: style(".btn").backgroundColor,
            buttonText: style(".btn").color,
            rule: style(".rule").borderTopColor,
          };
        }"""
    )
    page.context.close()

    def lightness(rgb: str) -> int:
        return sum(int(n) for n in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3])

    assert lightness(colours["page"]) < 150  # dark background
    assert lightness(colours["button"]) < 250 < lightness(colours["buttonText"])
    assert lightness(colours["rule"]) != lightness(colours["page"])  # the separator shows


def test_the_thumbnail_has_its_width_before_it_loads(browser, all_emails):
    page = _open(browser, all_emails["digest"], 390)
    box = page.locator("td.thumb img").bounding_box()
    page.context.close()
    assert 88 <= box["width"] <= 90  # 88 px and its border
