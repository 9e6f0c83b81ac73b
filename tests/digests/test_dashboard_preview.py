"""Preview what a reader will get: the next digest, and why each paper is in or out."""

import datetime as dt

import pytest
import time_machine

from digests.dashboard.preview import next_send, reader_preview
from digests.models import Delivery, Edition, EditionPaper, Kind
from digests.services import edition_get_or_compose
from papers.models import Paper, PaperRepository
from tests.digests.conftest import make_trending, send_to
from tests.factories import SubscriberFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 27, 12, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def papers():
    """Eight trending papers; #2 has no code, #3 is about diffusion, #4 is off-topic."""
    vision = TopicFactory(name="Computer Vision", slug="cv")
    papers = make_trending(8, title="Vision transformers")
    for paper in papers:
        paper.topics.add(vision)
    PaperRepository.objects.filter(paper=papers[1]).delete()
    Paper.objects.filter(pk=papers[1].pk).update(has_code=False)
    Paper.objects.filter(pk=papers[2].pk).update(abstract="A diffusion model.")
    papers[3].topics.clear()
    return papers


def _reasons(preview):
    return {v.entry.id: (v.place, v.reasons) for v in preview.verdicts}


def test_it_explains_every_paper_by_the_readers_preferences(papers):
    reader = SubscriberFactory(
        only_with_code=True, keywords_exclude=["diffusion"], papers_per_email=5
    )
    reader.topics.add(papers[0].topics.first())

    preview = reader_preview(subscriber=reader)
    why = _reasons(preview)

    assert [v.entry.id for v in preview.chosen] == [p.pk for p in (papers[0], *papers[4:8])]
    assert why[papers[0].pk] == (1, ["Passes every preference and was never sent to this reader"])
    assert why[papers[1].pk] == (None, ["No code, and the reader wants papers with code only"])
    assert why[papers[2].pk] == (None, ["Mentions a word the reader excluded (diffusion)"])
    assert why[papers[3].pk] == (None, ["Not in the reader's topics (Computer Vision)"])


def test_it_says_what_was_sent_before_and_what_the_count_cut(papers):
    yesterday = edition_get_or_compose(day=dt.date(2026, 11, 26), kind=Kind.DAILY)[0]
    EditionPaper.objects.filter(edition=yesterday).exclude(paper=papers[0]).delete()
    reader = SubscriberFactory(papers_per_email=5, delivery_hour=7)
    send_to(yesterday, reader)

    why = _reasons(reader_preview(subscriber=reader))

    assert why[papers[0].pk] == (None, ["Already sent to this reader in an earlier digest"])
    assert [why[p.pk][0] for p in papers[1:6]] == [1, 2, 3, 4, 5]
    assert why[papers[6].pk] == (None, ["Beyond the reader's 5 papers per e-mail"])


def test_it_records_nothing_and_sends_nothing(papers, mailoutbox):
    reader = SubscriberFactory()
    editions, deliveries = Edition.objects.count(), Delivery.objects.count()

    preview = reader_preview(subscriber=reader)

    assert preview.chosen and not preview.edition.pk
    assert (Edition.objects.count(), Delivery.objects.count()) == (editions, deliveries)
    assert mailoutbox == []
    assert papers[0].title in preview.text


def test_it_finds_the_next_send_in_the_readers_time_zone():
    tokyo = SubscriberFactory(timezone="Asia/Tokyo", delivery_hour=7)  # 21:30 there now
    weekly = SubscriberFactory(frequency=Kind.WEEKLY, weekday=0, delivery_hour=7)  # Monday
    paused = SubscriberFactory(paused_until=dt.date(2026, 12, 3), delivery_hour=7)

    assert next_send(tokyo, now=NOW)[:2] == (dt.date(2026, 11, 28), Kind.DAILY)
    assert next_send(weekly, now=NOW)[:2] == (dt.date(2026, 11, 30), Kind.WEEKLY)
    assert next_send(paused, now=NOW)[0] == dt.date(2026, 12, 4)


def test_it_warns_that_an_unsubscribed_address_gets_nothing(papers):
    reader = SubscriberFactory(status="unsubscribed")

    preview = reader_preview(subscriber=reader)

    assert "unsubscribed" in preview.note and "gets no digest" in preview.note


def test_it_shows_the_preview_in_the_admin(client, papers):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    reader = SubscriberFactory(email="picky@example.org", keywords_exclude=["diffusion"])

    by_email = client.get("/admin/reader-preview/", {"subscriber": "picky@example.org"})
    change = client.get(f"/admin/subscriptions/subscriber/{reader.pk}/change/")
    unknown = client.get("/admin/reader-preview/", {"subscriber": "nobody@example.org"})

    body = by_email.content.decode()
    assert "Next digest for picky@example.org" in body
    assert "Mentions a word the reader excluded (diffusion)" in body
    assert f'href="/admin/reader-preview/{reader.pk}/"' in change.content.decode()
    assert unknown.status_code == 200
    assert "No subscriber with that address or id." in unknown.content.decode()


def test_it_keeps_the_preview_from_staff_who_may_not_view_readers(client):
    client.force_login(UserFactory(is_staff=True))
    reader = SubscriberFactory()

    assert client.get(f"/admin/reader-preview/{reader.pk}/").status_code == 403


def test_it_shows_the_relevance_reason_and_muted_topics(papers):
    from digests.models import ReaderSignal, TopicMute
    from digests.services import reader as reader_services

    muted = TopicFactory(name="Robotics", slug="robotics")
    papers[5].topics.add(muted)
    Paper.objects.filter(pk=papers[6].pk).update(
        title="Sparse attention kernels", abstract="Sparse attention for long context."
    )
    liked = Paper.objects.create(
        title="Sparse attention, the original", slug="sparse-original", abstract="Sparse attention."
    )
    subscriber = SubscriberFactory(papers_per_email=5)
    TopicMute.objects.create(subscriber=subscriber, topic=muted)
    ReaderSignal.objects.create(subscriber=subscriber, paper=liked, kind="more")
    reader_services.vocabulary_build()
    reader_services.reader_models_train(subscriber_ids=[subscriber.pk])

    why = _reasons(reader_preview(subscriber=subscriber))

    place, reasons = why[papers[6].pk]
    assert place == 1  # lifted from 7th by the reader's More like this
    assert reasons[-1] == "Placed by relevance: Like papers you marked More like this"
    assert why[papers[5].pk] == (None, ["In a topic the reader muted"])
