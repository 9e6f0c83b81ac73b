import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from digests import selection
from digests.models import Delivery, Kind
from digests.services import edition_get_or_compose
from subscriptions.models import Subscriber
from tests.digests.conftest import POSTMARK, make_trending, postmark_ok, send_to
from tests.factories import PaperFactory, SubscriberFactory, TopicFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 27)


def _choose(subscriber, edition):
    choices = selection.choices_for(
        edition=edition,
        subscribers=[subscriber],
        candidates=selection.edition_candidates(edition),
    )
    return choices[subscriber.pk]


def test_it_cuts_the_ranking_to_the_chosen_count_in_order():
    papers = make_trending(12)
    edition, _ = edition_get_or_compose(day=DAY, kind=Kind.DAILY)
    choice = _choose(SubscriberFactory(papers_per_email=5), edition)
    assert choice.paper_ids == [p.pk for p in papers[:5]]


def test_it_keeps_only_papers_in_the_chosen_topics():
    vision, nlp = TopicFactory(slug="vision"), TopicFactory(slug="nlp")
    papers = make_trending(6)
    for paper in papers[::2]:
        paper.topics.add(vision)
    papers[1].topics.add(nlp)
    edition, _ = edition_get_or_compose(day=DAY, kind=Kind.DAILY)
    subscriber = SubscriberFactory()
    subscriber.topics.add(vision)
    assert _choose(subscriber, edition).paper_ids == [papers[0].pk, papers[2].pk, papers[4].pk]


def test_it_applies_keywords_in_and_out_and_only_with_code():
    diffusion = PaperFactory(title="Diffusion models for proteins")
    make_trending(0)
    noisy = PaperFactory(title="Diffusion of noise", abstract="A survey.")
    nocode = PaperFactory(title="Diffusion without code")
    from django.utils import timezone

    from papers.models import Trend

    for rank, paper in enumerate([diffusion, noisy, nocode]):
        Trend.objects.create(
            paper=paper, window="today", score=10 - rank, computed_at=timezone.now()
        )
    diffusion.has_code = noisy.has_code = True
    diffusion.save()
    noisy.save()
    edition, _ = edition_get_or_compose(day=DAY, kind=Kind.DAILY)
    subscriber = SubscriberFactory(
        keywords_include=["DIFFUSION"], keywords_exclude=["survey"], only_with_code=True
    )
    assert _choose(subscriber, edition).paper_ids == [diffusion.pk]


def test_it_never_sends_a_paper_twice_across_days(postmark):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    papers = make_trending(8)
    subscriber = SubscriberFactory(papers_per_email=5)
    first, _ = edition_get_or_compose(day=DAY, kind=Kind.DAILY)
    send_to(first, subscriber)
    second, _ = edition_get_or_compose(day=DAY + dt.timedelta(days=1), kind=Kind.DAILY)
    send_to(second, subscriber)

    sent = Delivery.objects.get(edition=second, subscriber=subscriber)
    assert sent.paper_ids == [p.pk for p in papers[5:8]]
    third, _ = edition_get_or_compose(day=DAY + dt.timedelta(days=2), kind=Kind.DAILY)
    send_to(third, subscriber)
    skipped = Delivery.objects.get(edition=third, subscriber=subscriber)
    assert skipped.status == Delivery.Status.SKIPPED
    assert skipped.skip_reason == Delivery.SkipReason.ALL_SEEN
    assert len(postmark.calls) == 2


def test_it_skips_with_a_reason_when_nothing_matches(postmark):
    make_trending(3)
    edition, _ = edition_get_or_compose(day=DAY, kind=Kind.DAILY)
    subscriber = SubscriberFactory(keywords_include=["quantum gravity"])
    result = send_to(edition, subscriber)
    delivery = Delivery.objects.get(subscriber=subscriber)
    assert (delivery.status, delivery.skip_reason) == ("skipped", "no_match")
    assert result.skipped == {"no_match": 1}
    assert len(postmark.calls) == 0


def test_it_finds_who_is_due_at_their_own_hour_and_date():
    tokyo = SubscriberFactory(timezone="Asia/Tokyo", delivery_hour=7)
    lima = SubscriberFactory(timezone="America/Lima", delivery_hour=17)
    SubscriberFactory(timezone="UTC", delivery_hour=7)  # 22:00 UTC is not their hour
    SubscriberFactory(timezone="Asia/Tokyo", delivery_hour=7, status=Subscriber.Status.PENDING)
    SubscriberFactory(timezone="Asia/Tokyo", delivery_hour=7, paused_until=DAY + dt.timedelta(2))
    now = dt.datetime(2026, 11, 26, 22, 30, tzinfo=dt.UTC)  # 07:30 27 Nov in Tokyo, 17:30 in Lima

    due = {key: set(qs) for key, qs in selection.due_now(now=now).items()}
    assert due[(DAY, Kind.DAILY)] == {tokyo}
    assert due[(DAY - dt.timedelta(days=1), Kind.DAILY)] == {lima}
    assert not any(due[key] for key in due if key[1] == Kind.WEEKLY)


def test_it_sends_weekly_digests_on_the_chosen_weekday_only():
    friday = SubscriberFactory(frequency="weekly", weekday=4, delivery_hour=7)
    SubscriberFactory(frequency="weekly", weekday=0, delivery_hour=7)
    assert list(selection.due_on_date(day=DAY, kind=Kind.WEEKLY)) == [friday]  # 27 Nov: Friday
    now = dt.datetime(2026, 11, 27, 7, 0, tzinfo=dt.UTC)
    assert set(selection.due_now(now=now)[(DAY, Kind.WEEKLY)]) == {friday}


def test_it_treats_an_unknown_time_zone_as_utc():
    odd = SubscriberFactory(timezone="Mars/Olympus", delivery_hour=7)
    now = dt.datetime(2026, 11, 27, 7, 5, tzinfo=dt.UTC)
    assert set(selection.due_now(now=now)[(DAY, Kind.DAILY)]) == {odd}


# --- One rule for who receives mail on a date (Subscriber.objects.receiving) -------------

SEND = dt.date(2026, 11, 28)  # a Saturday


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Lima"])
@pytest.mark.parametrize("kind", [Kind.DAILY, Kind.WEEKLY])
@pytest.mark.parametrize(
    ("paused_until", "due"), [(SEND, False), (SEND - dt.timedelta(days=1), True)]
)
def test_it_applies_one_pause_rule_at_beat_in_send_digest_and_at_send_time(
    zone, kind, paused_until, due, postmark
):
    postmark.add_callback("POST", f"{POSTMARK}/email", callback=postmark_ok)
    make_trending(3, window="week")
    make_trending(3)
    # Paused as the preference centre leaves them: the nightly job has not flipped the
    # status back (in Tokyo, 07:00 local is 22:00 UTC the day before).
    reader = SubscriberFactory(
        timezone=zone,
        delivery_hour=7,
        frequency=kind,
        weekday=SEND.weekday(),
        status=Subscriber.Status.PAUSED,
        paused_until=paused_until,
    )
    now = dt.datetime.combine(SEND, dt.time(7, 0), ZoneInfo(zone)).astimezone(dt.UTC)

    at_beat = set(selection.due_now(now=now).get((SEND, kind), []))
    by_date = set(selection.due_on_date(day=SEND, kind=kind))
    assert (reader in at_beat) is due
    assert (reader in by_date) is due

    # The re-check at send time: fanned out regardless, the chunk applies the same rule.
    edition, _ = edition_get_or_compose(day=SEND, kind=kind)
    send_to(edition, reader)
    delivery = Delivery.objects.get(subscriber=reader)
    if due:
        assert delivery.status == Delivery.Status.SENT and len(postmark.calls) == 1
    else:
        assert (delivery.status, delivery.skip_reason) == ("skipped", "inactive")
        assert len(postmark.calls) == 0


def test_it_sends_a_tokyo_weekly_reader_on_their_local_weekday():
    friday = SubscriberFactory(
        timezone="Asia/Tokyo", frequency="weekly", weekday=4, delivery_hour=7
    )
    SubscriberFactory(timezone="Asia/Tokyo", frequency="weekly", weekday=3, delivery_hour=7)
    thursday_night_utc = dt.datetime(2026, 11, 26, 22, 0, tzinfo=dt.UTC)  # Fri 07:00 in Tokyo
    due = selection.due_now(now=thursday_night_utc)
    assert set(due[(DAY, Kind.WEEKLY)]) == {friday}
    assert not due.get((DAY - dt.timedelta(days=1), Kind.WEEKLY), Subscriber.objects.none())


def test_it_keeps_choosing_pure_candidates_in_ordered_choice_with_reasons_out():
    candidates = [
        selection.Candidate(1, frozenset({7}), "graph networks", True, "+50 stars in 24 h"),
        selection.Candidate(2, frozenset({8}), "speech models", False, "+40 stars in 24 h"),
        selection.Candidate(3, frozenset({7}), "graph survey", True, "+30 stars in 24 h"),
    ]
    reader = selection.Reader(
        subscriber_id=1,
        topic_ids=frozenset({7}),
        keywords_include=(),
        keywords_exclude=("survey",),
        only_with_code=False,
        papers_per_email=5,
        seen=frozenset(),
    )
    choice = selection.choose(reader=reader, candidates=candidates)
    assert choice.papers == (selection.ChosenPaper(1, "+50 stars in 24 h"),)
    assert choice.paper_ids == [1] and not choice.skip_reason


def test_it_chooses_once_for_readers_alike_and_apart_for_what_sets_them_apart():
    from unittest import mock

    papers = make_trending(12)
    yesterday, _ = edition_get_or_compose(day=DAY - dt.timedelta(days=1), kind=Kind.DAILY)
    edition, _ = edition_get_or_compose(day=DAY, kind=Kind.DAILY)
    alike = [SubscriberFactory(papers_per_email=5) for _ in range(3)]
    got_first = SubscriberFactory(papers_per_email=5)  # yesterday's digest had papers[0]
    Delivery.objects.create(
        edition=yesterday, subscriber=got_first, status="sent", paper_ids=[papers[0].pk]
    )
    vision = TopicFactory(slug="vision")
    papers[3].topics.add(vision)
    muted = SubscriberFactory(papers_per_email=5)
    from digests.models import TopicMute

    TopicMute.objects.create(subscriber=muted, topic=vision)
    readers = [*alike, got_first, muted]
    with mock.patch("digests.selection.choose", wraps=selection.choose) as choose:
        choices = selection.choices_for(
            edition=edition,
            subscribers=readers,
            candidates=selection.edition_candidates(edition),
        )
    first_five = [p.pk for p in papers[:5]]
    assert [choices[r.pk].paper_ids for r in alike] == [first_five] * 3
    assert choices[got_first.pk].paper_ids == [p.pk for p in papers[1:6]]
    assert papers[3].pk not in choices[muted.pk].paper_ids
    assert choose.call_count == 3  # the three alike readers once, each other reader alone
