"""Updates on the papers readers keep: detected once, listed once, alerts on request."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from digests.models import PaperUpdate, ReaderSignal
from digests.services import updates
from papers import library
from papers.models import Trend, Window
from tests.factories import (
    PaperFactory,
    PaperRepositoryFactory,
    SubscriberFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept():
    """A paper without code, saved by one reader and marked More by another."""
    paper = PaperFactory(title="Kept paper", updated_on=dt.date(2026, 11, 1), has_code=False)
    user = UserFactory()
    saver = SubscriberFactory(user=user, email=user.email)
    library.library_save(user=user, paper=paper)
    fan = SubscriberFactory()
    ReaderSignal.objects.create(subscriber=fan, paper=paper, kind="more")
    updates.paper_updates_detect()  # the first sighting records the state only
    return {"paper": paper, "saver": saver, "fan": fan}


def test_the_first_sighting_is_not_an_update(kept):
    assert not PaperUpdate.objects.exists()


def test_code_arriving_is_an_update_once(kept):
    paper = kept["paper"]
    PaperRepositoryFactory(paper=paper, repository__owner="org", repository__name="kept")
    paper.has_code = True
    paper.save()

    assert updates.paper_updates_detect() == 1
    assert updates.paper_updates_detect() == 0

    update = PaperUpdate.objects.get()
    assert (update.kind, update.detail) == ("code", "Code: org/kept")


def test_a_new_arxiv_version_and_trending_again_are_updates(kept):
    paper = kept["paper"]
    paper.updated_on = dt.date(2026, 11, 30)
    paper.save()
    Trend.objects.create(
        paper=paper, window=Window.TODAY, score=5, reason="+5", computed_at=timezone.now()
    )

    updates.paper_updates_detect()

    assert set(PaperUpdate.objects.values_list("kind", flat=True)) == {"version", "trending"}


def test_each_reader_gets_their_updates_and_each_is_listed_once(kept):
    paper = kept["paper"]
    paper.has_code = True
    paper.save()
    updates.paper_updates_detect()
    other = SubscriberFactory()  # keeps nothing

    pending = updates.pending_updates([kept["saver"], kept["fan"], other])

    assert set(pending) == {kept["saver"].pk, kept["fan"].pk}
    until = pending[kept["saver"].pk][-1].id
    assert updates.updates_mark_listed(subscriber_id=kept["saver"].pk, until=until)
    assert not updates.updates_mark_listed(subscriber_id=kept["saver"].pk, until=until)
    assert kept["saver"].pk not in updates.pending_updates([kept["saver"]])


def test_alerts_go_only_to_readers_who_asked_and_only_once(kept, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    updates.reader_updates_set_by_email(subscriber=kept["fan"], by_email=True)
    paper = kept["paper"]
    paper.has_code = True
    paper.save()

    assert updates.update_alerts_send() == 1
    assert updates.update_alerts_send() == 0

    [message] = mail.outbox
    assert message.to == [kept["fan"].email]
    assert message.subject == "Update on a paper you keep: Kept paper"
    assert "Code arrived" in message.body
    html = message.alternatives[0][0]
    assert "Kept paper</a>" in html and "Code arrived" in html
    assert "List-Unsubscribe" in message.extra_headers
