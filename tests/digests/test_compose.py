import datetime as dt
from unittest import mock

import pytest
from django.core.checks import run_checks
from django.utils import timezone

from digests import services
from digests.models import Delivery, Edition, Kind
from digests.services import compose, delivery_fail_stale, edition_get_or_compose
from tests.digests.conftest import make_trending
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 27)


def test_it_composes_an_edition_once_per_date_and_kind():
    papers = make_trending(3)
    first, created = edition_get_or_compose(day=DAY, kind=Kind.DAILY)
    again, created_again = edition_get_or_compose(day=DAY, kind=Kind.DAILY)
    weekly, _ = edition_get_or_compose(day=DAY, kind=Kind.WEEKLY)
    assert created and not created_again and again == first and weekly != first
    assert [e.paper_id for e in first.entries.all()] == [p.pk for p in papers]
    assert first.subject == f"Trending papers, 27 Nov: {papers[0].title}"
    assert first.status == Edition.Status.COMPOSING  # until a fan-out starts sending it


def test_it_reads_the_winners_edition_when_a_second_beat_races_it():
    make_trending(2)
    real_pick = services.edition_pick_papers

    def pick_while_another_beat_commits(**kwargs):
        Edition.objects.create(date=DAY, kind=Kind.DAILY, subject="the other beat's")
        return real_pick(**kwargs)

    with mock.patch.object(compose, "edition_pick_papers", pick_while_another_beat_commits):
        edition, created = edition_get_or_compose(day=DAY, kind=Kind.DAILY)
    assert not created and edition.subject == "the other beat's"
    assert Edition.objects.count() == 1


def test_it_tops_a_quiet_day_up_from_the_weeks_ranking():
    today = make_trending(2, title="Today")
    week = make_trending(3, window="week", title="Week")
    edition, _ = edition_get_or_compose(day=DAY, kind=Kind.DAILY)
    assert [e.paper_id for e in edition.entries.all()] == [p.pk for p in today + week]
    assert edition.entries.last().reason.startswith("+")


def test_it_fails_deliveries_left_claimed_by_a_dead_worker_instead_of_resending():
    make_trending(1)
    edition, _ = edition_get_or_compose(day=DAY, kind=Kind.DAILY)
    stale = Delivery.objects.create(
        edition=edition,
        subscriber=SubscriberFactory(),
        status=Delivery.Status.SENDING,
        claimed_at=timezone.now() - dt.timedelta(hours=3),
    )
    fresh = Delivery.objects.create(
        edition=edition,
        subscriber=SubscriberFactory(),
        status=Delivery.Status.SENDING,
        claimed_at=timezone.now(),
    )
    assert delivery_fail_stale() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == "failed" and "interrupted" in stale.error
    assert fresh.status == "sending"
    assert Edition.objects.get().failed_count == 1


def test_it_keeps_anonymous_counts_when_a_subscriber_is_deleted():
    make_trending(1)
    edition, _ = edition_get_or_compose(day=DAY, kind=Kind.DAILY)
    subscriber = SubscriberFactory()
    Delivery.objects.create(edition=edition, subscriber=subscriber, status="sent")
    subscriber.delete()
    assert Delivery.objects.get().subscriber is None


def test_it_refuses_a_real_esp_without_a_webhook_secret_at_deploy_check(settings):
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "x"}
    ids = [e.id for e in run_checks(include_deployment_checks=True)]
    assert "digests.E001" in ids
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "x", "WEBHOOK_SECRET": "a:b"}
    assert "digests.E001" not in [e.id for e in run_checks(include_deployment_checks=True)]
