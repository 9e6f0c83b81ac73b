"""Signing up for an account offers the digest; one e-mail verifies both."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from subscriptions.models import ConsentRecord, Subscriber
from tests.factories import SubscriberFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough passphrase 42"


def _sign_up(post, email, **extra):
    data = {"email": email, "password1": PASSWORD, "password2": PASSWORD, **extra}
    return post("/accounts/signup/", data, REMOTE_ADDR="203.0.113.9")


def _verify(client, message):
    path = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", message.body).group(1)
    return client.post(path)


def test_the_sign_up_page_offers_the_digest_ticked_and_one_email_field(client):
    page = client.get("/accounts/signup/").content.decode()

    assert re.search(r'<input type="checkbox" name="digest"[^>]* checked', page)
    assert "Send me the daily digest of trending papers" in page
    # The banner's field would come first and catch the browser's autofill.
    assert page.count('type="email"') == 1
    assert 'id="banner-email"' not in page
    assert 'name="timezone"' in page and "data-browser-timezone" in page


def test_the_sign_in_page_holds_one_email_field(client):
    page = client.get("/accounts/login/").content.decode()

    assert page.count('type="email"') == 1
    assert 'id="banner-email"' not in page


def test_ticking_the_digest_subscribes_with_the_one_verification_e_mail(client, post, outbox):
    _sign_up(post, "ada@example.org", digest="on", timezone="Europe/Paris")

    subscriber = Subscriber.objects.get(email="ada@example.org")
    assert subscriber.status == Subscriber.Status.PENDING  # nothing is sent before proof
    assert subscriber.timezone == "Europe/Paris"
    opt_in = subscriber.consents.get()
    assert (opt_in.kind, opt_in.source) == (ConsentRecord.Kind.OPT_IN, "account sign-up")
    assert opt_in.ip_address == "203.0.113.9"
    assert len(outbox) == 1  # allauth's verification only, no confirmation of our own

    _verify(client, outbox[0])

    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert subscriber.user == get_user_model().objects.get()
    assert len(outbox) == 1


def test_leaving_the_digest_unticked_subscribes_nobody(client, post, outbox):
    _sign_up(post, "ada@example.org")
    _verify(client, outbox[0])

    assert not Subscriber.objects.exists()


def test_signing_up_never_changes_an_existing_unsubscribe(client, post, outbox):
    SubscriberFactory(email="ada@example.org", status=Subscriber.Status.UNSUBSCRIBED)

    _sign_up(post, "ada@example.org", digest="on")
    _verify(client, outbox[0])

    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert not subscriber.consents.exists()


def test_a_verified_signed_in_reader_subscribes_from_the_banner_with_one_click(
    client, outbox, run_on_commit
):
    user = UserFactory(email="ada@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client.force_login(user)

    page = client.get("/").content.decode()
    assert re.search(r'<input id="banner-email"[^>]* value="ada@example.org">', page)

    with run_on_commit():
        response = client.post(
            "/subscribe/", {"email": "Ada@example.org", "source": "/", "timezone": "Europe/Berlin"}
        )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/preferences/"
    subscriber = Subscriber.objects.get(user=user)
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert subscriber.timezone == "Europe/Berlin"
    assert outbox == []  # no second confirmation e-mail


def test_a_signed_in_reader_subscribing_another_address_confirms_it_by_e_mail(
    client, outbox, run_on_commit
):
    user = UserFactory(email="ada@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client.force_login(user)

    with run_on_commit():
        client.post("/subscribe/", {"email": "bob@example.org", "source": "/"})

    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
    assert Subscriber.objects.get().user is None
    assert len(outbox) == 1 and "/confirm/" in outbox[0].body


def test_the_admin_login_asks_for_the_e_mail_address(client):
    user = UserFactory(email="editor@example.org", is_staff=True)

    page = client.get("/admin/login/").content.decode()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "editor@example.org", "password": "correct horse battery staple"},
    )

    assert re.search(r'<label[^>]*for="id_username"[^>]*>E-mail:?</label>', page)
    assert re.search(r'<input type="email" name="username"[^>]*autocomplete="email"', page)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_the_subscribe_page_offers_a_signed_in_reader_one_click(client):
    client.force_login(UserFactory(email="ada@example.org"))

    page = client.get("/subscribe/").content.decode()

    main = page.split('id="main"', 1)[1]
    assert 'action="/accounts/subscribe/"' in main and "ada@example.org" in main
    assert 'type="email"' not in main
