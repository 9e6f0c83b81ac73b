"""Two workers meeting at a barrier right after the claim's SELECT, each still holding its
transaction: the rows one of them locked are skipped by the other, never claimed twice
(SELECT ... FOR UPDATE SKIP LOCKED). On PostgreSQL the claim is one statement whose
SELECT is a subquery, so the barrier sits right after that statement, before the commit."""

import datetime as dt
import threading

import pytest
from django.conf import settings
from django.db import connection, transaction

from digests.models import Delivery, Edition, Kind
from digests.services.deliveries import delivery_claim
from tests.factories import SubscriberFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="row locks need PostgreSQL; SQLite locks the whole database per write",
    ),
]


def _claim_meeting_at_barrier(ids, barrier, results, name):
    try:
        with transaction.atomic():
            results[name] = delivery_claim(delivery_ids=ids)
            barrier.wait()  # both have selected and locked before either commits
    except Exception as exc:  # reported by the assertions below
        results[name] = exc
    finally:
        connection.close()


def test_it_never_lets_two_workers_claim_the_same_rows():
    edition = Edition.objects.create(date=dt.date(2026, 11, 27), kind=Kind.DAILY)
    ids = [
        Delivery.objects.create(edition=edition, subscriber=SubscriberFactory()).pk
        for _ in range(20)
    ]
    barrier = threading.Barrier(2, timeout=10)
    results = {}
    threads = [
        threading.Thread(target=_claim_meeting_at_barrier, args=(ids, barrier, results, name))
        for name in ("a", "b")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    a, b = results["a"], results["b"]
    assert isinstance(a, set) and isinstance(b, set), (a, b)
    assert not (a & b)
    assert a | b == set(ids)
    assert Delivery.objects.filter(status="sending", attempts=1).count() == 20
