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


def test_its_claim_reads_rows_by_primary_key_even_with_statistics_older_than_the_fan_out():
    # A day's fan-out inserts its rows after the table's last ANALYZE. A claim that let the
    # planner pick the partial index of pending rows then read every pending row of the day
    # for each ESP call (27 ms a call at 100,000 readers in bench/send_digest.py).
    from digests.services.deliveries import _claim_sql_postgresql
    from subscriptions.models import Subscriber

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE digests_delivery")  # statistics of an empty table
    edition = Edition.objects.create(date=dt.date(2026, 11, 27), kind=Kind.DAILY)
    readers = Subscriber.objects.bulk_create(
        Subscriber(email=f"reader{i}@example.org", status="confirmed") for i in range(3000)
    )
    pending = Delivery.objects.bulk_create(Delivery(edition=edition, subscriber=r) for r in readers)
    sql, params = _claim_sql_postgresql([d.pk for d in pending[:2]], pending[2:4])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "delivery_pending_created" not in plan
    assert "digests_delivery_pkey" in plan
