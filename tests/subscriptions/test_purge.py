import datetime as dt

import pytest
import time_machine

from subscriptions.models import ConsentRecord, Subscriber
from subscriptions.services import subscribers_purge_unconfirmed
from subscriptions.tasks import purge_unconfirmed
from tests.factories import SubscriberFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 27, 0, 25, tzinfo=dt.UTC)


def _made(days_ago: int, **fields) -> Subscriber:
    with time_machine.travel(NOW - dt.timedelta(days=days_ago), tick=False):
        subscriber = SubscriberFactory(**fields)
        ConsentRecord.objects.create(subscriber=subscriber, kind=ConsentRecord.Kind.OPT_IN)
    return subscriber


def test_it_deletes_sign_ups_never_confirmed_after_the_retention(settings):
    settings.SUBSCRIPTION_PENDING_DAYS = 30
    stale = _made(31, status=Subscriber.Status.PENDING)
    recent = _made(29, status=Subscriber.Status.PENDING)

    assert subscribers_purge_unconfirmed(now=NOW) == 1

    assert not Subscriber.objects.filter(pk=stale.pk).exists()
    assert not ConsentRecord.objects.filter(subscriber_id=stale.pk).exists()
    assert Subscriber.objects.filter(pk=recent.pk).exists()


def test_it_keeps_anyone_who_ever_confirmed_or_has_an_account(settings):
    settings.SUBSCRIPTION_PENDING_DAYS = 30
    was_confirmed = _made(
        90, status=Subscriber.Status.PENDING, confirmed_at=NOW - dt.timedelta(days=80)
    )
    with_account = _made(90, status=Subscriber.Status.PENDING, user=UserFactory())
    confirmed = _made(90, status=Subscriber.Status.CONFIRMED)
    unsubscribed = _made(90, status=Subscriber.Status.UNSUBSCRIBED)

    assert subscribers_purge_unconfirmed(now=NOW) == 0

    kept = {was_confirmed.pk, with_account.pk, confirmed.pk, unsubscribed.pk}
    assert set(Subscriber.objects.values_list("pk", flat=True)) == kept


def test_the_nightly_task_purges(settings):
    _made(365, status=Subscriber.Status.PENDING)

    assert purge_unconfirmed.delay().get() == 1
    assert not Subscriber.objects.exists()
    schedule = settings.CELERY_BEAT_SCHEDULE["purge-unconfirmed-subscribers"]
    assert schedule["task"] == "subscriptions.tasks.purge_unconfirmed"
