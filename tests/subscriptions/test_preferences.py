import datetime
import re

import pytest
import time_machine
from django.utils import timezone

from subscriptions import tokens
from subscriptions.models import Subscriber
from subscriptions.services import subscribers_resume_paused
from subscriptions.tasks import resume_paused
from tests.factories import SubscriberFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscriber():
    return SubscriberFactory(email="ada@example.org")


@pytest.fixture
def path(subscriber, settings):
    return tokens.manage_url(subscriber).removeprefix(settings.SITE_URL)


def _choices(**overrides):
    data = {
        "schedule": "weekly",
        "weekday": "4",
        "paused_until": "",
        "keywords_include": "diffusion, Protein folding\nagents",
        "keywords_exclude": "survey",
        "only_with_code": "on",
        "papers_per_email": "20",
        "delivery_hour": "18",
        "timezone": "America/New_York",
        "email_format": "text",
        "ranking": "interests",
    }
    data.update(overrides)
    return data


def test_a_new_subscriber_has_the_documented_defaults():
    subscriber = Subscriber.objects.create(email="new@example.org")

    assert subscriber.frequency == Subscriber.Frequency.DAILY
    assert subscriber.topics.count() == 0  # all topics
    assert subscriber.papers_per_email == 10
    assert subscriber.delivery_hour == 7
    assert subscriber.timezone == "UTC"
    assert subscriber.email_format == Subscriber.Format.HTML
    assert subscriber.ranking == Subscriber.Ranking.BALANCED


def test_the_signed_link_opens_the_preferences_without_login(client, path):
    response = client.get(path)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Your preferences" in body
    assert "ada@example.org" in body
    assert 'value="daily" required id="id_schedule_0" checked' in body
    assert "/unsubscribe/" in body


def test_it_saves_every_choice(client, path, subscriber):
    robotics, vision = TopicFactory(name="Robotics"), TopicFactory(name="Vision")
    TopicFactory(name="Unwanted")

    response = client.post(path, _choices(topics=[robotics.pk, vision.pk]))

    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.frequency == Subscriber.Frequency.WEEKLY
    assert subscriber.weekday == 4
    assert set(subscriber.topics.all()) == {robotics, vision}
    assert subscriber.keywords_include == ["diffusion", "Protein folding", "agents"]
    assert subscriber.keywords_exclude == ["survey"]
    assert subscriber.only_with_code is True
    assert subscriber.papers_per_email == 20
    assert subscriber.delivery_hour == 18
    assert subscriber.timezone == "America/New_York"
    assert subscriber.email_format == Subscriber.Format.TEXT
    assert subscriber.ranking == Subscriber.Ranking.INTERESTS
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert "Preferences saved" in client.get(path).content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("papers_per_email", "4"),
        ("papers_per_email", "31"),
        ("papers_per_email", "ten"),
        ("delivery_hour", "24"),
        ("timezone", "Mars/Olympus_Mons"),
        ("schedule", "hourly"),
        ("email_format", "pdf"),
        ("topics", "999999"),
    ],
)
def test_it_refuses_out_of_range_choices(client, path, subscriber, field, value):
    response = client.post(path, _choices(**{field: value}))

    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.papers_per_email == 10
    assert subscriber.frequency == Subscriber.Frequency.DAILY


@time_machine.travel(datetime.datetime(2026, 3, 10, 12, tzinfo=datetime.UTC), tick=False)
def test_pausing_until_a_date_and_resuming(client, path, subscriber):
    client.post(path, _choices(schedule="paused", paused_until="2026-03-20"))

    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PAUSED
    assert subscriber.paused_until == datetime.date(2026, 3, 20)
    assert subscriber.frequency == Subscriber.Frequency.DAILY  # what resumes afterwards

    client.post(path, _choices(schedule="daily"))

    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert subscriber.paused_until is None


@time_machine.travel(datetime.datetime(2026, 3, 10, 12, tzinfo=datetime.UTC), tick=False)
@pytest.mark.parametrize("until", ["", "2026-03-09", "2027-06-01"])
def test_a_pause_needs_a_sensible_end(client, path, subscriber, until):
    response = client.post(path, _choices(schedule="paused", paused_until=until))

    assert response.status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED


def test_paused_subscribers_receive_again_after_the_date():
    today = datetime.date(2026, 3, 21)
    still = SubscriberFactory(status=Subscriber.Status.PAUSED, paused_until=today)
    over = SubscriberFactory(status=Subscriber.Status.PAUSED, paused_until=today.replace(day=20))
    confirmed = SubscriberFactory()
    SubscriberFactory(status=Subscriber.Status.UNSUBSCRIBED)
    SubscriberFactory(status=Subscriber.Status.PENDING)

    assert set(Subscriber.objects.receiving(on=today)) == {over, confirmed}
    assert subscribers_resume_paused(today=today) == 1
    over.refresh_from_db()
    still.refresh_from_db()
    assert (over.status, over.paused_until) == (Subscriber.Status.CONFIRMED, None)
    assert still.status == Subscriber.Status.PAUSED


def test_the_nightly_task_resumes_pauses(settings):
    over = SubscriberFactory(
        status=Subscriber.Status.PAUSED,
        paused_until=timezone.localdate() - datetime.timedelta(days=1),
    )

    assert resume_paused.delay().get() == 1
    over.refresh_from_db()
    assert over.status == Subscriber.Status.CONFIRMED
    assert "resume-paused-subscribers" in settings.CELERY_BEAT_SCHEDULE


def test_saving_preferences_does_not_resubscribe(client, path, subscriber):
    Subscriber.objects.filter(pk=subscriber.pk).update(status=Subscriber.Status.UNSUBSCRIBED)

    client.post(path, _choices())

    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.papers_per_email == 20


@pytest.mark.parametrize("token", ["nonsense", "WzEsImFAYi5jIl0:1abc:xyz"])
def test_a_bad_link_is_refused(client, token):
    assert client.get(f"/preferences/{token}/").status_code == 400


def test_an_unsubscribe_token_does_not_open_the_preferences(client, subscriber):
    token = tokens.make_token(subscriber, tokens.UNSUBSCRIBE)

    assert client.get(f"/preferences/{token}/").status_code == 400


def test_the_account_menu_leads_to_the_preferences(client, subscriber):
    user = UserFactory(email="ada@example.org")
    subscriber.user = user
    subscriber.save()
    client.force_login(user)

    home = client.get("/subscribe/").content.decode()
    assert 'href="/accounts/preferences/"' in home
    response = client.get("/accounts/preferences/")

    assert response.status_code == 200
    assert "ada@example.org" in response.content.decode()
    assert "Download everything we hold about you" in response.content.decode()
    assert client.post("/accounts/preferences/", _choices()).status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.papers_per_email == 20


def test_the_account_preferences_need_a_login(client):
    response = client.get("/accounts/preferences/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_preference_labels_are_sentences_without_trailing_colons(client, path):
    page = client.get(path).content.decode()

    labels = re.findall(r"<label[^>]*>([^<]+)</label>", page)
    labels += re.findall(r"<legend>([^<]+)</legend>", page)
    assert "Time zone" in labels and "Last day of the pause" in labels
    assert labels and not [label for label in labels if label.rstrip().endswith(":")]
    title_case = [
        label for label in labels if len(label.split()) > 1 and label.split()[1][0].isupper()
    ]
    assert title_case == []


def test_the_time_zone_is_a_searchable_list_enhanced_by_a_static_script(client, path):
    page = client.get(path).content.decode()

    assert re.search(
        r'<input type="text" name="timezone" value="UTC"[^>]*list="timezone-list"', page
    )
    assert page.count("<option value=") >= 400 and '<option value="Europe/Paris">' in page
    # Progressive enhancement from a static file: a strict CSP allows no inline script.
    assert re.search(r'<script src="/static/subscriptions/preferences.js" defer>', page)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert 'data-field="weekday"' in page and 'data-field="paused_until"' in page


def test_a_time_zone_not_on_the_list_gets_a_clear_error(client, path, subscriber):
    response = client.post(path, _choices(timezone="Europe/Atlantis"))

    assert response.status_code == 400
    assert "Choose a time zone from the list, like Europe/Paris." in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.timezone == "UTC"
