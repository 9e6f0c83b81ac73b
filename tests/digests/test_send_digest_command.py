import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from digests.models import Delivery, Edition
from tests.digests.conftest import POSTMARK, make_trending, postmark_ok, sent_payloads
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command("send_digest", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def readers():
    make_trending(6)
    return [
        SubscriberFactory(delivery_hour=3),
        SubscriberFactory(delivery_hour=21, timezone="Asia/Tokyo"),
        SubscriberFactory(keywords_include=["nothing-matches-this"]),
        SubscriberFactory(frequency="weekly", weekday=0),  # not due on a Friday
    ]


def test_it_sends_to_everyone_due_that_day_whatever_their_hour(postmark, readers):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    output = _run("--date", "2026-11-27")
    assert "3 due" in output and "sent: 2" in output and "skipped: 1 (no_match 1)" in output
    assert "failed: 0" in output
    assert len(postmark.calls) == 2
    assert Edition.objects.get().status == Edition.Status.SENT


def test_it_does_not_send_twice_when_rerun(postmark, readers):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    _run("--date", "2026-11-27")
    output = _run("--date", "2026-11-27")
    assert output == (
        "Daily digest of 27 Nov 2026: already sent to 2 readers; nothing left to send.\n"
    )
    assert len(postmark.calls) == 2


def test_it_only_counts_in_a_dry_run(postmark, readers):
    output = _run("--date", "2026-11-27", "--dry-run")
    assert "would send: 2" in output and "no_match 1" in output
    assert not Edition.objects.exists() and not Delivery.objects.exists()
    assert len(postmark.calls) == 0


def test_it_sends_one_test_copy_with_to(postmark, readers):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    output = _run("--to", "editor@example.org", "--kind", "weekly", "--date", "2026-11-27")
    assert "Test copy sent to editor@example.org" in output
    assert [p["To"] for p in sent_payloads(postmark)] == ["editor@example.org"]
    assert not Edition.objects.exists() and not Delivery.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--date", "27/11/2026"], "is not a date"), (["--to", "nobody"], "not an e-mail address")],
)
def test_it_explains_bad_arguments(args, message, db):
    with pytest.raises(CommandError, match=message):
        _run(*args)


def test_it_uses_the_weekly_ranking_for_weekly_digests(postmark):
    make_trending(3, window="week", title="Weekly star")
    reader = SubscriberFactory(frequency="weekly", weekday=dt.date(2026, 11, 27).weekday())
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    _run("--date", "2026-11-27", "--kind", "weekly")
    mail = sent_payloads(postmark)[0]
    assert mail["To"] == reader.email
    assert mail["Subject"].startswith("This week's trending papers, 27 Nov: Weekly star")


def test_it_reports_in_a_dry_run_exactly_what_the_real_send_then_sends(postmark):
    # The keyword sits past the 320 characters a digest shows of the abstract: choosing
    # reads the whole abstract, in the dry run as in the real send.
    tail = "padding " * 60 + "holography"
    make_trending(4, abstract=tail)
    make_trending(4, title="Plain")
    readers = [
        SubscriberFactory(keywords_include=["holography"]),
        SubscriberFactory(keywords_include=["nothing-matches-this"]),
        SubscriberFactory(keywords_exclude=["holography"], papers_per_email=5),
        SubscriberFactory(only_with_code=True),
    ]
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    from unittest import mock

    from digests import selection

    with mock.patch("digests.selection.choose", wraps=selection.choose) as choose:
        dry = _run("--date", "2026-11-27", "--dry-run")
        assert choose.call_count == len(readers)
        real = _run("--date", "2026-11-27")
        assert choose.call_count == 2 * len(readers)
    assert "4 due" in dry and "would send: 3" in dry and "skipped: 1 (no_match 1)" in dry
    assert "4 due" in real and "sent: 3" in real and "skipped: 1 (no_match 1)" in real
    assert len(postmark.calls) == 3


def test_it_says_how_many_are_left_after_a_partial_send(postmark, readers):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    _run("--date", "2026-11-27")
    late = SubscriberFactory(delivery_hour=9)  # joined after the first run
    output = _run("--date", "2026-11-27")
    assert "already sent by an earlier run: 2" in output and "sent: 1" in output
    assert sent_payloads(postmark)[-1]["To"] == late.email
