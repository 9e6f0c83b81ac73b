import datetime
import json
import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils import timezone

from subscriptions.models import ConsentRecord, OutboundEmail, Subscriber
from subscriptions.tasks import send_due_emails, send_outbound_email
from tests.factories import SubscriberFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough passphrase 42"


@pytest.fixture
def post(client, run_on_commit):
    """POST as a browser would, then run what the request enqueued on commit (the e-mails
    it recorded are sent by then)."""

    def do(path, data, **extra):
        with run_on_commit():
            return client.post(path, data, **extra)

    return do


def _sign_up(post, email):
    return post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})


def _verify(client, message):
    path = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", message.body).group(1)
    return client.post(path)


@pytest.fixture
def verified_user():
    user = UserFactory(email="ada@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def test_signing_up_needs_only_an_email_and_a_verification(client, post, outbox):
    response = _sign_up(post, "Ada@Example.org")

    assert response.status_code == 302
    user = get_user_model().objects.get()
    assert user.email.lower() == "ada@example.org"
    assert not EmailAddress.objects.get().verified
    # Mandatory verification: not signed in until the link is used.
    assert "_auth_user_id" not in client.session
    assert len(outbox) == 1
    assert "/accounts/confirm-email/" in outbox[0].body
    # Recorded and sent through the same path as every transactional e-mail.
    recorded = OutboundEmail.objects.get()
    assert recorded.kind == "account/email/email_confirmation_signup"
    assert (recorded.to, recorded.status) == ("ada@example.org", OutboundEmail.Status.SENT)


def test_verifying_links_an_existing_email_only_subscription(client, post, outbox):
    subscriber = SubscriberFactory(email="ada@example.org", status=Subscriber.Status.PENDING)
    _sign_up(post, "ada@example.org")

    _verify(client, outbox[-1])

    subscriber.refresh_from_db()
    user = get_user_model().objects.get()
    assert subscriber.user == user
    # The verified address proves the mailbox: the pending opt-in is confirmed.
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert subscriber.consents.get().source == "account e-mail verification"


def test_an_unverified_sign_up_does_not_claim_a_subscription(client, post):
    subscriber = SubscriberFactory(email="ada@example.org")

    _sign_up(post, "ada@example.org")

    subscriber.refresh_from_db()
    assert subscriber.user is None


def test_linking_keeps_an_unsubscribe(client, post, outbox):
    subscriber = SubscriberFactory(email="ada@example.org", status=Subscriber.Status.UNSUBSCRIBED)
    _sign_up(post, "ada@example.org")

    _verify(client, outbox[-1])

    subscriber.refresh_from_db()
    assert subscriber.user is not None
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED


def test_sign_up_does_not_reveal_existing_accounts(client, post, outbox, verified_user):
    response = _sign_up(post, "ada@example.org")

    # allauth's enumeration prevention: same redirect, the owner gets a notice instead.
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert get_user_model().objects.count() == 1


def test_login_by_code(client, post, outbox, verified_user):
    post("/accounts/login/code/", {"email": "ada@example.org"})
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", outbox[-1].body, re.M).group(1)

    response = client.post("/accounts/login/code/confirm/", {"code": code})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(verified_user.pk)


def test_account_emails_speak_with_the_site_name_not_the_host(client, post, outbox, verified_user):
    post("/accounts/login/code/", {"email": "ada@example.org"})

    message = outbox[-1]
    assert message.subject.startswith("[Paperboy] ")
    assert message.body.startswith("Hello from Paperboy!")
    assert "testserver" not in message.body


def test_login_by_password(client, verified_user):
    verified_user.set_password(PASSWORD)
    verified_user.save()

    client.post("/accounts/login/", {"login": "ada@example.org", "password": PASSWORD})

    assert client.session["_auth_user_id"] == str(verified_user.pk)


def test_password_reset_sends_a_link(client, post, outbox, verified_user):
    response = post("/accounts/password/reset/", {"email": "ada@example.org"})

    assert response.status_code == 302
    assert "/accounts/password/reset/key/" in outbox[-1].body


@pytest.mark.parametrize(
    "path",
    ["/accounts/login/", "/accounts/signup/", "/accounts/login/code/", "/accounts/password/reset/"],
)
def test_allauth_pages_use_the_site_layout(client, path):
    body = client.get(path).content.decode()

    assert 'class="site-header"' in body
    assert '<body class="page-account">' in body  # the account pages' narrow column
    assert 'class="form"' in body
    assert 'class="field' in body
    assert "<strong>Menu:</strong>" not in body  # allauth's bare default layout


def test_a_signed_in_user_without_subscription_can_subscribe_in_one_click(client, verified_user):
    client.force_login(verified_user)
    assert "not subscribed yet" in client.get("/accounts/preferences/").content.decode()

    client.post("/accounts/subscribe/", {"timezone": "Asia/Tokyo"})

    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.user) == ("ada@example.org", verified_user)
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert subscriber.timezone == "Asia/Tokyo"
    assert set(subscriber.consents.values_list("kind", flat=True)) == {
        ConsentRecord.Kind.OPT_IN,
        ConsentRecord.Kind.CONFIRM,
    }


def test_the_data_export_holds_everything(client, verified_user):
    subscriber = SubscriberFactory(
        email="ada@example.org", user=verified_user, keywords_include=["diffusion"]
    )
    subscriber.topics.add(TopicFactory(slug="robotics"))
    ConsentRecord.objects.create(
        subscriber=subscriber, kind="opt_in", source="/", ip_address="192.0.2.5"
    )
    client.force_login(verified_user)

    response = client.get("/accounts/data/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["account"]["email"] == "ada@example.org"
    assert data["account"]["email_addresses"] == [
        {"email": "ada@example.org", "verified": True, "primary": True}
    ]
    subscription = data["subscription"]
    assert subscription["email"] == "ada@example.org"
    assert subscription["status"] == "confirmed"
    assert subscription["keywords_include"] == ["diffusion"]
    assert subscription["topics"] == ["robotics"]
    assert subscription["consents"][0]["ip_address"] == "192.0.2.5"
    assert "confirm_nonce" not in subscription


def test_the_data_export_needs_a_login(client):
    assert client.get("/accounts/data/").status_code == 302


def test_deleting_the_account_removes_the_person(client, verified_user):
    subscriber = SubscriberFactory(email="ada@example.org", user=verified_user)
    ConsentRecord.objects.create(subscriber=subscriber, kind="opt_in", ip_address="192.0.2.5")
    other = SubscriberFactory(email="other@example.org")
    client.force_login(verified_user)

    response = client.post("/accounts/delete/", {"email": "ADA@example.org"})

    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=verified_user.pk).exists()
    assert not EmailAddress.objects.exists()
    assert list(Subscriber.objects.all()) == [other]
    assert not ConsentRecord.objects.exists()
    assert "_auth_user_id" not in client.session


def test_deletion_keeps_anonymous_delivery_counts(client, verified_user):
    Delivery = apps.get_model("digests", "Delivery")
    Edition = apps.get_model("digests", "Edition")
    subscriber = SubscriberFactory(email="ada@example.org", user=verified_user)
    edition = Edition.objects.create(date=datetime.date(2026, 3, 1))
    delivery = Delivery.objects.create(edition=edition, subscriber=subscriber, status="sent")
    client.force_login(verified_user)
    exported = json.loads(client.get("/accounts/data/").content)
    assert [d["edition"] for d in exported["subscription"]["deliveries"]] == [edition.pk]

    client.post("/accounts/delete/", {"email": "ada@example.org"})

    delivery.refresh_from_db()
    assert delivery.subscriber is None
    assert Delivery.objects.filter(edition=edition, status="sent").count() == 1


def test_deletion_needs_the_address_typed(client, verified_user):
    SubscriberFactory(email="ada@example.org", user=verified_user)
    client.force_login(verified_user)

    response = client.post("/accounts/delete/", {"email": "someone@example.org"})

    assert response.status_code == 400
    assert "not the address of this account" in response.content.decode()
    assert Subscriber.objects.exists()
    assert get_user_model().objects.exists()


def test_deletion_is_not_a_get(client, verified_user):
    client.force_login(verified_user)

    assert client.get("/accounts/delete/").status_code == 200
    assert get_user_model().objects.exists()


def test_the_subscription_follows_a_new_verified_primary_address(client, verified_user):
    subscriber = SubscriberFactory(email="ada@example.org", user=verified_user)
    EmailAddress.objects.create(user=verified_user, email="ada@new.example", verified=True)
    client.force_login(verified_user)

    client.post("/accounts/email/", {"action_primary": "", "email": "ada@new.example"})

    subscriber.refresh_from_db()
    assert EmailAddress.objects.get_primary(verified_user).email == "ada@new.example"
    assert subscriber.email == "ada@new.example"
    assert subscriber.status == Subscriber.Status.CONFIRMED


def test_a_new_address_held_by_another_subscription_changes_nothing(client, verified_user):
    subscriber = SubscriberFactory(email="ada@example.org", user=verified_user)
    SubscriberFactory(email="ada@new.example")
    EmailAddress.objects.create(user=verified_user, email="ada@new.example", verified=True)
    client.force_login(verified_user)

    client.post("/accounts/email/", {"action_primary": "", "email": "ada@new.example"})

    subscriber.refresh_from_db()
    assert subscriber.email == "ada@example.org"
    assert Subscriber.objects.by_email("ada@new.example").get().user is None


# --- allauth's e-mails take the recorded path (issue 9, point 10) -------------------------------


def test_a_password_reset_with_the_esp_down_answers_normally_and_is_sent_later(
    post, esp, verified_user
):
    esp.up = False

    response = post("/accounts/password/reset/", {"email": "ada@example.org"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"
    email = OutboundEmail.objects.get()
    assert (email.kind, email.status, email.user) == (
        "account/email/password_reset_key",
        OutboundEmail.Status.PENDING,
        verified_user,
    )
    assert "503" in email.error or "Internal server error" in email.error

    esp.up = True
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=1), tick=False):
        send_due_emails.apply()

    [mail] = esp.accepted
    assert mail["To"] == "ada@example.org"
    assert "/accounts/password/reset/key/" in mail["TextBody"]
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert email.body_text == ""  # the reset link is not kept once sent


def test_a_login_code_is_claimed_before_the_esp_call_and_sent_once(post, esp, verified_user):
    post("/accounts/login/code/", {"email": "ada@example.org"})

    [(payload, statuses_during_the_call)] = esp.calls
    assert statuses_during_the_call == [OutboundEmail.Status.SENDING]
    assert payload["Subject"].startswith("[Paperboy] ")
    email = OutboundEmail.objects.get(kind="account/email/login_code")
    assert email.status == OutboundEmail.Status.SENT and email.esp_message_id
    assert send_outbound_email.apply(args=[email.pk]).get() == "not pending"
    assert len(esp.calls) == 1


@pytest.mark.parametrize("by", ["sweep", "task redelivered late"])
def test_a_login_code_is_dropped_once_it_has_expired(post, esp, verified_user, by):
    esp.up = False
    post("/accounts/login/code/", {"email": "ada@example.org"})
    esp.up = True

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5), tick=False):
        if by == "sweep":
            send_due_emails.apply()
        else:
            send_outbound_email.apply(args=[OutboundEmail.objects.get().pk])

    assert esp.accepted == []
    email = OutboundEmail.objects.get()
    assert email.status == OutboundEmail.Status.FAILED and "expired" in email.error


def test_deleting_the_account_deletes_its_recorded_emails(client, post, esp, verified_user):
    post("/accounts/password/reset/", {"email": "ada@example.org"})
    assert OutboundEmail.objects.exists()
    client.force_login(verified_user)

    client.post("/accounts/delete/", {"email": "ada@example.org"})

    assert not OutboundEmail.objects.exists()


def test_finished_emails_are_deleted_after_thirty_days(post, esp):
    # A password reset for an address without an account: allauth tells that address so.
    post("/accounts/password/reset/", {"email": "stranger@example.org"})
    email = OutboundEmail.objects.get()
    assert (email.kind, email.user) == ("account/email/unknown_account", None)

    with time_machine.travel(timezone.now() + datetime.timedelta(days=29), tick=False):
        send_due_emails.apply()
    assert OutboundEmail.objects.exists()
    with time_machine.travel(timezone.now() + datetime.timedelta(days=31), tick=False):
        send_due_emails.apply()
    assert not OutboundEmail.objects.exists()
