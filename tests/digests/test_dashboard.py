"""The dashboard's figures, each checked against data whose answer is known."""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from config.celery_app import app as celery_app
from digests.models import Delivery, Edition, Kind
from digests.services import delivery_record_event, edition_get_or_compose
from papers.importers.base import PaperRecord
from papers.models import Paper
from papers.tasks import _import_fetched
from subscriptions import services as subs
from subscriptions.models import Subscriber, SubscriberDay
from subscriptions.services.stats import list_size_record
from tests.digests.conftest import make_trending, send_to
from tests.factories import PaperFactory, SubscriberFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 27, 12, 30, tzinfo=dt.UTC)
TODAY = NOW.date()


@pytest.fixture
def staff(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def figure(body: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]*)<', body)
    assert match, f"no figure {name}"
    return match.group(1).strip()


def part(body: str, name: str) -> str:
    """The HTML of the element carrying data-testid=`name`, up to its closing tag."""
    start = body.index(f'data-testid="{name}"')
    return body[start : start + 3000]


def test_it_shows_the_dashboard_to_staff_only(client):
    client.force_login(UserFactory(is_staff=False))
    assert client.get("/admin/").status_code == 302


def test_it_counts_the_lists_events_and_totals_as_they_happen(staff):
    for n in range(4):
        subs.subscriber_subscribe(email=f"new{n}@example.org", source="/papers/x/")
    subs.subscriber_subscribe(email="home@example.org", source="/")
    first = Subscriber.objects.get(email="new0@example.org")
    second = Subscriber.objects.get(email="new1@example.org")
    subs.subscriber_confirm(subscriber=first, nonce=first.confirm_nonce)
    subs.subscriber_confirm(subscriber=second, nonce=second.confirm_nonce)
    subs.subscriber_unsubscribe(subscriber=second, source="unsubscribe page")
    subs.subscriber_suppress(subscriber=SubscriberFactory(), status=Subscriber.Status.BOUNCED)
    list_size_record(now=timezone.now())

    body = staff.get("/admin/").content.decode()

    assert figure(body, "signups") == "5"
    assert figure(body, "confirmations") == "2"
    assert figure(body, "confirmation-rate") == "40.0%"
    assert figure(body, "unsubscribes") == "1"
    assert figure(body, "suppressions") == "1 / 0"
    assert figure(body, "confirmed") == "1"
    assert figure(body, "pending") == "3"
    sources = part(body, "sources")
    assert re.search(r"<td>/papers/x/</td><td>4</td>.*<td>/</td><td>1</td>", sources, re.S)


def test_it_keeps_the_period_to_the_chosen_days(staff):
    SubscriberDay.objects.create(day=TODAY - dt.timedelta(days=60), signups=7)
    SubscriberDay.objects.create(day=TODAY - dt.timedelta(days=200), signups=100)

    assert figure(staff.get("/admin/").content.decode(), "signups") == "0"
    assert figure(staff.get("/admin/?days=90").content.decode(), "signups") == "7"
    assert figure(staff.get("/admin/?days=365").content.decode(), "signups") == "107"
    assert figure(staff.get("/admin/?days=nonsense").content.decode(), "signups") == "0"


def test_it_charts_the_status_totals_per_day_with_a_text_alternative(staff):
    for back, confirmed in ((2, 100), (1, 120), (0, 150)):
        SubscriberDay.objects.create(
            day=TODAY - dt.timedelta(days=back), confirmed=confirmed, pending=5, counted_at=NOW
        )

    body = staff.get("/admin/").content.decode()

    assert "Confirmed subscribers went from 100 to 150 over the last 30 days." in body
    figures = re.findall(r'<figure class="chart".*?</figure>', body, re.S)
    assert len(figures) == 3 and all("<svg" in f for f in figures)
    # works under a strict CSP: no script and no inline style in any chart
    assert not any("<script" in f or "style=" in f or "<style" in f for f in figures)
    assert re.search(r"<th scope=\"row\">27 Nov</th><td>150</td><td>5</td>", body)


def test_it_counts_skips_by_reason_on_the_edition():
    make_trending(3, title="Graph networks")
    edition = edition_get_or_compose(day=TODAY, kind=Kind.DAILY)[0]
    reader = SubscriberFactory()
    picky = SubscriberFactory(keywords_include=["protein folding"])
    gone = SubscriberFactory()
    Delivery.objects.create(edition=edition, subscriber=gone)
    gone.status = Subscriber.Status.UNSUBSCRIBED
    gone.save()

    send_to(edition, reader, picky, gone)

    edition.refresh_from_db()
    assert (edition.sent_count, edition.skipped_count) == (1, 2)
    assert (edition.skipped_no_match, edition.skipped_all_seen, edition.skipped_inactive) == (
        1,
        0,
        1,
    )


def test_it_traces_an_unsubscribe_to_the_last_edition_sent():
    make_trending(3, title="Graph networks")
    edition = edition_get_or_compose(day=TODAY, kind=Kind.DAILY)[0]
    reader = SubscriberFactory()
    send_to(edition, reader)

    subs.subscriber_unsubscribe(subscriber=reader, source="unsubscribe page")
    subs.subscriber_unsubscribe(subscriber=reader, source="unsubscribe page")  # no change

    edition.refresh_from_db()
    assert edition.unsubscribed_count == 1


def test_it_lists_the_last_editions_with_every_figure(staff):
    Edition.objects.create(date=TODAY - dt.timedelta(days=40), sent_count=1)
    for back in range(31):
        Edition.objects.create(
            date=TODAY - dt.timedelta(days=back),
            sent_count=1000 + back,
            skipped_count=31,
            skipped_no_match=20,
            skipped_all_seen=7,
            skipped_inactive=3,
            skipped_feed=1,
            failed_count=2,
            delivered_count=990,
            opened_count=400,
            clicked_count=90,
            unsubscribed_count=4,
        )

    body = staff.get("/admin/").content.decode()
    table = part(body, "editions")

    row = re.search(r"Daily digest of 27 Nov 2026</a></th>(.*?)</tr>", table, re.S).group(1)
    cells = re.findall(r"<td>([^<]*)</td>", row)
    assert cells == ["1,000", "31: 20 / 7 / 3 / 1", "2", "990", "400", "90", "4"]
    # the 31st and the 40-day-old editions are left out
    assert len(re.findall(r'<a href="/admin/digests/edition/\d+/change/">', body)) == 30
    assert "More / Less" not in table  # no feedback yet: no column
    assert "went to 1,000 readers: 400 opened it and 90 clicked" in body


def test_it_shows_more_and_less_once_they_exist(staff):
    Edition.objects.create(date=TODAY, sent_count=10, more_count=3, less_count=1)

    table = part(staff.get("/admin/").content.decode(), "editions")

    assert "More / Less" in table and "<td>3 / 1</td>" in table


def _editions_with_rates(*, recent_bounces, recent_complaints, old_bounces=0):
    Edition.objects.create(
        date=TODAY - dt.timedelta(days=2),
        kind=Kind.DAILY,
        sent_count=10_000,
        bounced_count=recent_bounces,
        complained_count=recent_complaints,
    )
    Edition.objects.create(
        date=TODAY - dt.timedelta(days=20),
        kind=Kind.DAILY,
        sent_count=10_000,
        bounced_count=old_bounces,
    )


def test_it_computes_bounce_and_complaint_rates_over_7_and_30_days(staff):
    _editions_with_rates(recent_bounces=100, recent_complaints=5, old_bounces=300)

    body = staff.get("/admin/").content.decode()

    assert re.search(r'data-testid="bounce-7".*?<dd>1%</dd>', body, re.S) or (
        re.search(r'data-testid="bounce-7".*?<dd>1.0%</dd>', body, re.S)
    )
    assert re.search(r'data-testid="bounce-30".*?<dd>2.0%</dd>', body, re.S)
    assert re.search(r'data-testid="complaint-7".*?<dd>0.05%</dd>', body, re.S)
    assert re.search(r'data-testid="complaint-30".*?<dd>0.03%</dd>', body, re.S)
    assert "Above the" not in body
    assert "Gmail&#x27;s 0.3% spam line" in body or "Gmail's 0.3% spam line" in body


def test_it_warns_when_a_rate_crosses_its_threshold(staff, settings):
    _editions_with_rates(recent_bounces=600, recent_complaints=12)  # 6% and 0.12%

    body = staff.get("/admin/").content.decode()

    assert re.search(r'data-testid="bounce-7"><dt>.*?Above the 5.0% warning line', body)
    assert re.search(r'data-testid="complaint-7"><dt>.*?Above the 0.1% warning line', body)
    # over 30 days: 3% bounces and 0.06% complaints, both under their lines
    assert body.count('role="alert"') == 2

    settings.DASHBOARD_BOUNCE_RATE_WARNING = 10.0
    settings.DASHBOARD_COMPLAINT_RATE_WARNING = 0.3
    assert "Above the" not in staff.get("/admin/").content.decode()


def test_it_shows_the_age_of_the_oldest_pending_delivery(staff):
    edition = Edition.objects.create(date=TODAY)
    old = Delivery.objects.create(edition=edition, subscriber=SubscriberFactory())
    Delivery.objects.filter(pk=old.pk).update(created_at=NOW - dt.timedelta(hours=3))
    Delivery.objects.create(edition=edition, subscriber=SubscriberFactory())
    sent = Delivery.objects.create(
        edition=edition, subscriber=SubscriberFactory(), status=Delivery.Status.SENT
    )
    Delivery.objects.filter(pk=sent.pk).update(created_at=NOW - dt.timedelta(days=3))

    body = staff.get("/admin/").content.decode()

    assert re.search(r'data-testid="oldest-pending">.*?<dd>3\xa0hours old</dd>', body, re.S)


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")  # meant to queue
def test_it_shows_the_length_of_the_celery_queue(staff):
    celery_app.control.purge()
    try:
        for _ in range(3):
            celery_app.send_task("paperboy.healthcheck")
        body = staff.get("/admin/").content.decode()
    finally:
        celery_app.control.purge()

    assert re.search(r'data-testid="queue-celery">.*?<dd>3 waiting</dd>', body, re.S)


class _Click:
    """An Anymail tracking event, as the webhook hands it to the service."""

    def __init__(self, delivery, url):
        self.event_type = "clicked"
        self.metadata = {"delivery_id": str(delivery.pk)}
        self.message_id = ""
        self.timestamp = NOW
        self.recipient = ""
        self.esp_event = {}
        self.click_url = url


def test_it_ranks_papers_by_digest_clicks_this_week(staff, settings):
    make_trending(3, title="Graph networks")
    edition = edition_get_or_compose(day=TODAY, kind=Kind.DAILY)[0]
    reader = SubscriberFactory()
    send_to(edition, reader)
    delivery = Delivery.objects.get(subscriber=reader)
    first, second = (Paper.objects.get(pk=pk) for pk in delivery.paper_ids[:2])
    repo = second.repositories.first()

    delivery_record_event(event=_Click(delivery, f"{settings.SITE_URL}/papers/{first.slug}/"))
    delivery_record_event(event=_Click(delivery, f"{repo.url}/blob/main/README.md"))
    delivery_record_event(event=_Click(delivery, f"{repo.url}"))
    delivery_record_event(event=_Click(delivery, f"{settings.SITE_URL}/preferences/"))

    top = part(staff.get("/admin/").content.decode(), "top-clicked")
    assert re.search(
        rf"{second.title}</a> <span class=\"help\">2 clicks.*"
        rf"{first.title}</a> <span class=\"help\">1 click<",
        top,
        re.S,
    )


def test_it_bounds_the_count_of_drafts(staff, monkeypatch):
    from digests.dashboard import selectors

    monkeypatch.setattr(selectors, "DRAFTS_COUNTED", 2)
    PaperFactory.create_batch(3, status=Paper.Status.DRAFT)

    body = staff.get("/admin/").content.decode()

    assert '<span data-testid="draft-count">more than 2</span>' in body


def test_it_counts_drafts_and_fetched_papers_per_source_and_day(staff):
    PaperFactory.create_batch(3, status=Paper.Status.DRAFT)
    PaperFactory(status=Paper.Status.PUBLISHED)
    _import_fetched(
        [PaperRecord(source="hf", location="hf:1", title="A fetched paper", arxiv_id="2411.55555")],
        source="hf",
    )
    _import_fetched(
        [PaperRecord(source="hf", location="hf:1", title="A fetched paper", arxiv_id="2411.55555")],
        source="hf",
    )

    body = staff.get("/admin/").content.decode()

    assert '<span data-testid="draft-count">3</span>' in body
    fetches = part(body, "fetches")
    assert re.search(r'<th scope="row">hf</th>(<td>\u2013</td>){13}<td>1 / ', fetches)


def test_it_ranks_papers_by_more_and_less_feedback_this_week(staff):
    from digests.services.stats import paper_count_feedback

    liked, mixed, old = PaperFactory.create_batch(3)
    edition = Edition.objects.create(date=TODAY)
    for _ in range(3):
        paper_count_feedback(paper_id=liked.pk, edition_id=edition.pk, more=True)
    paper_count_feedback(paper_id=mixed.pk, edition_id=edition.pk, more=True)
    paper_count_feedback(paper_id=mixed.pk, edition_id=edition.pk, more=False)
    paper_count_feedback(
        paper_id=old.pk, edition_id=None, more=True, when=NOW - dt.timedelta(days=8)
    )

    body = staff.get("/admin/").content.decode()

    top = part(body, "top-feedback")
    assert re.search(rf"{liked.title}</a> <span class=\"help\">3 more, 0 less", top)
    assert re.search(rf"{mixed.title}</a> <span class=\"help\">1 more, 1 less", top)
    assert old.title not in top
    edition.refresh_from_db()
    assert (edition.more_count, edition.less_count) == (4, 1)


def test_it_counts_the_list_by_status_in_the_hourly_beat_job():
    from subscriptions.tasks import record_list_size

    SubscriberFactory.create_batch(3)
    SubscriberFactory(status=Subscriber.Status.COMPLAINED)

    record_list_size.delay()

    row = SubscriberDay.objects.get(day=TODAY)
    assert (row.confirmed, row.complained, row.pending, row.counted_at) == (3, 1, 0, NOW)
