import datetime as dt
import json
import logging
from io import StringIO
from unittest import mock

import pytest
import time_machine
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from django.utils import timezone

from digests import services
from digests.models import Delivery, Edition, Kind
from digests.services import (
    EditionEmpty,
    compose,
    delivery_fail_stale,
    digest_send_due,
    edition_get_or_compose,
)
from papers.models import Trend
from tests.digests.conftest import POSTMARK, make_trending, postmark_ok, sent_payloads
from tests.factories import PaperFactory, SubscriberFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 27)


def test_it_composes_an_edition_once_per_date_and_kind():
    papers = make_trending(3)
    week = make_trending(1, window="week", title="Of the week")
    first, created = edition_get_or_compose(day=DAY, kind=Kind.DAILY)
    again, created_again = edition_get_or_compose(day=DAY, kind=Kind.DAILY)
    weekly, _ = edition_get_or_compose(day=DAY, kind=Kind.WEEKLY)
    assert created and not created_again and again == first and weekly != first
    assert [e.paper_id for e in first.entries.all()] == [p.pk for p in papers + week]
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


# --- Import, then send (issue 9, point 1) ------------------------------------------------------


def _write_papers(path, *titles, published="2026-11-26"):
    lines = [
        json.dumps({"title": t, "abstract": "Fresh results.", "published": published})
        for t in titles
    ]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture
def morning():
    with time_machine.travel(dt.datetime(2026, 11, 27, 5, tzinfo=dt.UTC), tick=True):
        yield


def test_it_mails_readers_the_papers_of_an_import_made_just_before(postmark, tmp_path, morning):
    reader = SubscriberFactory()
    path = _write_papers(tmp_path / "today.jsonl", "Fresh paper one", "Fresh paper two")
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)

    call_command("import_papers", path, "--no-progress", stdout=StringIO(), stderr=StringIO())
    out = StringIO()
    call_command("send_digest", "--date", "2026-11-27", stdout=out, stderr=StringIO())

    [mail] = sent_payloads(postmark)
    assert mail["To"] == reader.email
    assert "Fresh paper one" in mail["TextBody"] and "Fresh paper two" in mail["TextBody"]
    assert Delivery.objects.get().status == Delivery.Status.SENT
    assert "sent: 1" in out.getvalue()


def test_it_recomputes_missing_scores_before_composing(morning):
    paper = PaperFactory(published_on=DAY)  # never scored: no recompute ran since

    edition, created = edition_get_or_compose(day=DAY, kind=Kind.DAILY)

    assert created
    assert [e.paper_id for e in edition.entries.all()] == [paper.pk]


def test_it_recomputes_scores_older_than_the_last_change_to_papers(morning):
    scored = make_trending(1, title="Scored earlier")[0]
    added = PaperFactory(published_on=DAY, title="Added after the recompute")

    edition, _ = edition_get_or_compose(day=DAY, kind=Kind.DAILY)

    assert {e.paper_id for e in edition.entries.all()} >= {added.pk}
    assert Trend.objects.filter(paper=scored).exists()


def test_it_leaves_fresh_scores_alone(morning):
    make_trending(2)
    with mock.patch("papers.services.papers_refresh_scores") as refresh:
        edition_get_or_compose(day=DAY, kind=Kind.DAILY)
    refresh.assert_not_called()


def test_it_refuses_to_store_an_edition_without_papers_and_composes_it_later(morning):
    with pytest.raises(EditionEmpty, match="Nothing to send in the daily digest of 2026-11-27"):
        edition_get_or_compose(day=DAY, kind=Kind.DAILY)
    assert not Edition.objects.exists()

    paper = PaperFactory(published_on=DAY)
    edition, created = edition_get_or_compose(day=DAY, kind=Kind.DAILY)

    assert created and [e.paper_id for e in edition.entries.all()] == [paper.pk]


def test_send_digest_exits_non_zero_with_the_reason_when_there_is_nothing_to_send(morning):
    SubscriberFactory()
    with pytest.raises(CommandError, match="no published paper has a trending score"):
        call_command("send_digest", "--date", "2026-11-27", stdout=StringIO(), stderr=StringIO())
    assert not Edition.objects.exists() and not Delivery.objects.exists()


def test_beat_logs_an_error_and_composes_at_the_next_run_once_there_are_papers(caplog):
    reader = SubscriberFactory(delivery_hour=7)
    at_seven = dt.datetime(2026, 11, 27, 7, tzinfo=dt.UTC)
    with time_machine.travel(at_seven, tick=True), caplog.at_level(logging.ERROR):
        summary = digest_send_due(now=timezone.now(), enqueue=lambda *a: None)
    assert summary.editions == [] and not Edition.objects.exists()
    assert any(
        r.levelno == logging.ERROR and "Nothing to send" in r.getMessage() for r in caplog.records
    )

    PaperFactory(published_on=DAY)
    with time_machine.travel(at_seven + dt.timedelta(minutes=30), tick=True):
        summary = digest_send_due(now=timezone.now(), enqueue=lambda *a: None)
    assert [e.date for e in summary.editions] == [DAY]
    assert Delivery.objects.get().subscriber == reader


def test_a_dry_run_picks_from_fresh_scores_as_the_real_send_would(morning):
    SubscriberFactory()
    PaperFactory(published_on=DAY, title="Not scored yet")
    out = StringIO()

    call_command("send_digest", "--date", "2026-11-27", "--dry-run", stdout=out)

    assert "would send: 1" in out.getvalue()
    assert not Edition.objects.exists()
