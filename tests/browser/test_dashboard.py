"""The dashboard and a star history in Chromium, at desktop and phone widths."""

import datetime as dt

import pytest
from django.utils import timezone

from digests.models import Edition, JobRun
from papers.models import StarSnapshot, Window
from subscriptions.models import SignupSourceDay, SubscriberDay
from tests.factories import PaperRepositoryFactory, TrendFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def shoot(page, artifacts_dir, name):
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(artifacts_dir / f"{name}-{label}.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"] + 1, f"{name} scrolls sideways at {size['width']} px"


def _history():
    today = timezone.localdate()
    for back in range(30):
        day = today - dt.timedelta(days=back)
        SubscriberDay.objects.create(
            day=day,
            signups=20 + back % 7,
            confirmations=12 + back % 5,
            confirmed=5000 - back * 40,
            pending=300 + back,
            unsubscribed=200 + back // 2,
            bounced=40,
            complained=3,
            counted_at=timezone.now(),
        )
        Edition.objects.create(
            date=day,
            status=Edition.Status.SENT,
            sent_count=4800 - back * 40,
            delivered_count=4700 - back * 40,
            opened_count=2100 - back * 10,
            clicked_count=600 - back * 5,
            bounced_count=20 + back % 3,
            complained_count=back % 2,
        )
    SignupSourceDay.objects.create(day=today, source="/", signups=400)
    JobRun.objects.create(
        task="papers.tasks.recompute_trending",
        last_success_at=timezone.now() - dt.timedelta(hours=5),
        last_error_at=timezone.now() - dt.timedelta(hours=1),
        last_error="OperationalError: could not connect to server",
    )


def test_it_shows_the_dashboard_at_desktop_and_phone_widths(page, artifacts_dir):
    _history()
    admin = UserFactory(username="editor", is_staff=True, is_superuser=True)
    page.goto(page.base_url + "/admin/login/?next=/admin/")
    page.fill("#id_username", admin.email)  # the admin login asks for the e-mail
    page.fill("#id_password", "correct horse battery staple")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")

    assert page.get_by_role("img", name="Subscribers by status, last 30 days").is_visible()
    assert page.get_by_test_id("machinery-status").inner_text().startswith("Machinery: something")
    page.get_by_text("Data table: the last 30 editions").click()
    assert page.locator("#editions table").first.is_visible()
    shoot(page, artifacts_dir, "dashboard")
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=str(artifacts_dir / "dashboard-dark-phone.png"), full_page=True)


def test_it_shows_a_star_history_on_the_paper_page(page, artifacts_dir):
    link = PaperRepositoryFactory(
        paper__slug="fast-sam",
        paper__title="Segment Anything, Faster",
        repository__owner="lab",
        repository__name="fast-sam",
    )
    now = timezone.now()
    for hours_ago in range(0, 7 * 24, 6):
        StarSnapshot.objects.create(
            repository=link.repository,
            taken_at=now - dt.timedelta(hours=hours_ago),
            stars=4000 - hours_ago * 2 - (300 if hours_ago >= 24 else 0),
        )
    TrendFactory(paper=link.paper, window=Window.TODAY, stars_gained=412)

    page.goto(page.base_url + "/papers/fast-sam/")

    assert page.get_by_role("img", name="Stars of lab/fast-sam").is_visible()
    assert page.get_by_text("+348 stars in 24 h").first.is_visible()
    page.locator(".star-history").scroll_into_view_if_needed()
    shoot(page, artifacts_dir, "star-history")
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=str(artifacts_dir / "star-history-dark-phone.png"), full_page=True)
