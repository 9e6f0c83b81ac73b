"""A subscription joins an account only through the account's primary verified address,
or through "link to my account" from the subscription's own preference link."""

import re

import pytest
from allauth.account.models import EmailAddress

from subscriptions import tokens
from subscriptions.models import Subscriber
from tests.factories import SubscriberFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mallory(client):
    user = UserFactory(email="mallory@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client.force_login(user)
    return user


@pytest.fixture
def victim():
    subscriber = SubscriberFactory(email="victim@example.org")
    subscriber.consents.create(kind="opt_in", source="/", ip_address="198.51.100.9")
    return subscriber


def _add_and_verify_secondary(client, outbox, run_on_commit, email):
    with run_on_commit():  # the verification e-mail is recorded, then sent after commit
        client.post("/accounts/email/", {"action_add": "", "email": email})
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", outbox[-1].body)
    client.post(link.group(1))


def test_verifying_a_secondary_address_does_not_take_the_subscription(
    client, outbox, run_on_commit, mallory, victim
):
    _add_and_verify_secondary(client, outbox, run_on_commit, "victim@example.org")

    assert EmailAddress.objects.get(email="victim@example.org").verified
    victim.refresh_from_db()
    assert victim.user is None
    data = client.get("/accounts/data/").json()
    assert data["subscription"] is None
    assert "198.51.100.9" not in str(data)
    # The account's preference page offers a subscription of its own, not the victim's.
    page = client.get("/accounts/preferences/")
    assert "subscriptions/account_subscribe.html" in [t.name for t in page.templates]


def test_making_it_primary_later_does_not_take_it_either(
    client, outbox, run_on_commit, mallory, victim
):
    _add_and_verify_secondary(client, outbox, run_on_commit, "victim@example.org")

    client.post("/accounts/email/", {"action_primary": "", "email": "victim@example.org"})

    victim.refresh_from_db()
    assert victim.user is None


def test_the_subscriptions_own_link_offers_to_link_it(client, mallory, victim):
    manage = "/preferences/" + tokens.make_token(victim, tokens.MANAGE) + "/"

    page = client.get(manage).content.decode()
    response = client.post(f"{manage}link/")

    assert "Link this subscription to my account" in page
    assert response.status_code == 302
    victim.refresh_from_db()
    assert victim.user == mallory
    assert client.get("/accounts/data/").json()["subscription"]["email"] == "victim@example.org"


def test_linking_needs_a_sign_in_and_a_valid_link(client, victim):
    manage = "/preferences/" + tokens.make_token(victim, tokens.MANAGE) + "/"

    assert client.post(f"{manage}link/").status_code == 302  # to the login page
    user = UserFactory(email="ada@example.org")
    client.force_login(user)
    unsubscribe_token = tokens.make_token(victim, tokens.UNSUBSCRIBE)
    assert client.post(f"/preferences/{unsubscribe_token}/link/").status_code == 400
    victim.refresh_from_db()
    assert victim.user is None


def test_a_linked_subscription_is_not_offered_or_moved(client, mallory):
    owner = UserFactory(email="owner@example.org")
    theirs = SubscriberFactory(email="owner@example.org", user=owner)
    manage = "/preferences/" + tokens.make_token(theirs, tokens.MANAGE) + "/"

    page = client.get(manage).content.decode()
    client.post(f"{manage}link/")

    assert "Link this subscription" not in page
    assert Subscriber.objects.get(pk=theirs.pk).user == owner
