"""The whole sign-up journey in headless Chromium against the live server."""

import re

import pytest
from django.conf import settings
from django.core import mail

from subscriptions.models import ConsentRecord, Subscriber
from tests.factories import TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def berlin_page(browser, live_server):
    """A page whose browser lives in Berlin, to check the time zone guess."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="Europe/Berlin"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _live(url, live_server):
    # E-mails link to SITE_URL; the test server listens elsewhere.
    return url.replace(settings.SITE_URL, live_server.url, 1)


def test_sign_up_confirm_change_preferences_and_unsubscribe(
    berlin_page, live_server, artifacts_dir
):
    page = berlin_page
    TopicFactory(name="Robotics", slug="robotics")
    mail.outbox.clear()

    # 1. The banner on the home page.
    page.goto(f"{live_server.url}/")
    page.fill("#banner-email", "ada@example.org")
    page.click(".banner__form button[type=submit]")
    page.wait_for_selector("text=Check your inbox")
    page.screenshot(path=artifacts_dir / "subscriptions-1-check-inbox.png")
    subscriber = Subscriber.objects.get(email="ada@example.org")
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.timezone == "Europe/Berlin"

    # 2. The confirmation link from the captured e-mail.
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/confirm/\S+/", mail.outbox[0].body).group(0)
    page.goto(_live(link, live_server))
    page.wait_for_selector("text=Confirm your subscription")
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING  # opening the link is not enough
    page.click("main button[type=submit]")
    page.wait_for_selector("text=You're subscribed")
    page.screenshot(path=artifacts_dir / "subscriptions-2-confirmed.png", full_page=True)
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED

    # 3. Preferences.
    page.check("input[name=schedule][value=weekly]")
    page.select_option("select[name=weekday]", "4")
    page.check("text=Robotics")
    page.fill("input[name=keywords_exclude]", "survey, benchmark")
    page.fill("input[name=papers_per_email]", "15")
    page.select_option("select[name=delivery_hour]", "8")
    page.check("input[name=email_format][value=text]")
    page.click("text=Save preferences")
    page.wait_for_selector("text=Preferences saved")
    page.screenshot(path=artifacts_dir / "subscriptions-3-preferences.png", full_page=True)
    subscriber.refresh_from_db()
    assert subscriber.frequency == Subscriber.Frequency.WEEKLY
    assert subscriber.weekday == 4
    assert list(subscriber.topics.values_list("slug", flat=True)) == ["robotics"]
    assert subscriber.keywords_exclude == ["survey", "benchmark"]
    assert (subscriber.papers_per_email, subscriber.delivery_hour) == (15, 8)
    assert subscriber.email_format == Subscriber.Format.TEXT

    # 4. Unsubscribe from the preference centre, then change one's mind.
    page.click("main a:text('Unsubscribe')")
    page.wait_for_selector("h1:text('Unsubscribe?')")
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED  # the GET changed nothing
    page.click("main button:text('Unsubscribe')")
    page.wait_for_selector("text=You're unsubscribed")
    page.screenshot(path=artifacts_dir / "subscriptions-4-goodbye.png")
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED

    page.click("text=resubscribe")
    page.wait_for_selector("text=Welcome back")
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    kinds = list(subscriber.consents.order_by("created_at", "pk").values_list("kind", flat=True))
    assert kinds == [
        ConsentRecord.Kind.OPT_IN,
        ConsentRecord.Kind.CONFIRM,
        ConsentRecord.Kind.UNSUBSCRIBE,
        ConsentRecord.Kind.RESUBSCRIBE,
    ]


def test_the_account_pages_wear_the_site_layout(page, artifacts_dir):
    for name, path in [("login", "/accounts/login/"), ("signup", "/accounts/signup/")]:
        page.goto(f"{page.base_url}{path}")
        assert page.locator(".site-header .brand").is_visible()
        assert page.locator("main form.form .field input").first.is_visible()
        page.screenshot(path=artifacts_dir / f"subscriptions-account-{name}.png")


def test_the_preference_centre_shows_only_the_fields_that_apply(
    berlin_page, live_server, artifacts_dir
):
    from subscriptions import tokens

    page = berlin_page
    subscriber = Subscriber.objects.create(email="ada@example.org", status="confirmed")
    page.goto(_live(tokens.manage_url(subscriber), live_server))
    weekday, pause = page.locator("[data-field=weekday]"), page.locator("[data-field=paused_until]")

    assert not weekday.is_visible() and not pause.is_visible()  # daily: neither applies
    page.check("input[name=schedule][value=weekly]")
    assert weekday.is_visible() and not pause.is_visible()
    page.check("input[name=schedule][value=paused]")
    assert pause.is_visible() and not weekday.is_visible()
    page.screenshot(path=artifacts_dir / "subscriptions-preferences-paused.png", full_page=True)

    # The zone list starts at the browser's own zone.
    first = page.locator("#timezone-list option").first
    assert first.get_attribute("value") == "Europe/Berlin"
    page.click("text=Use this browser's time zone, Europe/Berlin")
    assert page.input_value("input[name=timezone]") == "Europe/Berlin"
    page.check("input[name=schedule][value=daily]")
    page.click("text=Save preferences")
    page.wait_for_selector("text=Preferences saved")
    subscriber.refresh_from_db()
    assert subscriber.timezone == "Europe/Berlin"
