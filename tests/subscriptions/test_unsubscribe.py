import pytest
from django.core import signing
from django.test import Client

from subscriptions import tokens
from subscriptions.models import ConsentRecord, Subscriber
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

ONE_CLICK = "List-Unsubscribe=One-Click"


@pytest.fixture
def subscriber():
    return SubscriberFactory(email="ada@example.org")


@pytest.fixture
def path(subscriber, settings):
    return tokens.unsubscribe_url(subscriber).removeprefix(settings.SITE_URL)


@pytest.fixture
def mail_provider():
    """A client like Gmail's one-click POSTer: no cookies, no CSRF token, CSRF enforced."""
    return Client(enforce_csrf_checks=True)


def _one_click(client, path):
    return client.post(
        path,
        ONE_CLICK,
        content_type="application/x-www-form-urlencoded",
        REMOTE_ADDR="209.85.220.41",
        HTTP_USER_AGENT="Google-Mail-Unsubscribe",
    )


def test_a_one_click_post_unsubscribes_without_cookie_or_csrf(mail_provider, path, subscriber):
    response = _one_click(mail_provider, path)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert not response.cookies  # nothing for a machine that never comes back
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.unsubscribed_at is not None
    consent = subscriber.consents.get()
    assert consent.kind == ConsentRecord.Kind.UNSUBSCRIBE
    assert consent.source == "one-click (RFC 8058)"
    assert consent.ip_address == "209.85.220.41"
    assert consent.user_agent == "Google-Mail-Unsubscribe"


def test_a_one_click_post_is_idempotent(mail_provider, path, subscriber):
    first = _one_click(mail_provider, path)
    subscriber.refresh_from_db()
    unsubscribed_at = subscriber.unsubscribed_at

    second = _one_click(mail_provider, path)

    assert first.status_code == second.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at == unsubscribed_at
    assert subscriber.consents.count() == 1


def test_a_get_never_unsubscribes(client, path, subscriber):
    for _ in range(3):  # link scanners, previews, the person
        response = client.get(path)

    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert not subscriber.consents.exists()


def test_the_page_has_one_button_and_a_way_to_the_preferences(client, path, subscriber):
    body = client.get(path).content.decode()
    main = body.split('<main id="main"', 1)[1].split("</main>", 1)[0]

    assert main.count("<button") == 1
    assert ">Unsubscribe</button>" in body
    assert "/preferences/" in body
    assert "ada@example.org" in body


def test_the_button_unsubscribes_and_shows_the_goodbye_page(client, path, subscriber):
    response = client.post(path)

    assert response.status_code == 200
    body = response.content.decode()
    assert "You're unsubscribed" in body
    assert "resubscribe" in body
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.consents.get().source == "unsubscribe page"


def test_resubscribing_is_one_click_from_the_goodbye_page(client, path, subscriber):
    client.post(path)
    page = client.get(path).content.decode()
    assert f'action="{path}undo/"' in page

    response = client.post(f"{path}undo/")

    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert subscriber.unsubscribed_at is None
    kinds = list(subscriber.consents.order_by("created_at", "pk").values_list("kind", flat=True))
    assert kinds == [ConsentRecord.Kind.UNSUBSCRIBE, ConsentRecord.Kind.RESUBSCRIBE]


def test_resubscribing_needs_the_csrf_token(path, subscriber):
    client = Client(enforce_csrf_checks=True)
    client.post(path)

    assert client.post(f"{path}undo/").status_code == 403
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED


def test_a_bounced_address_cannot_resubscribe_itself(client, path, subscriber):
    Subscriber.objects.filter(pk=subscriber.pk).update(status=Subscriber.Status.BOUNCED)

    client.post(f"{path}undo/")

    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.BOUNCED


@pytest.mark.parametrize("status", [Subscriber.Status.COMPLAINED, Subscriber.Status.BOUNCED])
def test_the_unsubscribe_page_never_turns_a_suppressed_address_into_unsubscribed(
    client, mail_provider, path, subscriber, status
):
    # Unsubscribed could be undone from the goodbye page; a complaint must not be.
    Subscriber.objects.filter(pk=subscriber.pk).update(status=status)

    page = client.post(path)
    _one_click(mail_provider, path)

    subscriber.refresh_from_db()
    assert subscriber.status == status
    assert "resubscribe" not in page.content.decode()
    assert not subscriber.consents.filter(kind=ConsentRecord.Kind.UNSUBSCRIBE).exists()


@pytest.mark.parametrize(
    "make_path",
    [
        lambda path: path[:-6] + "/",  # truncated
        lambda path: path.replace(path.split("/")[2], path.split("/")[2][::-1]),  # scrambled
        lambda path: "/unsubscribe/x/",
    ],
)
def test_a_forged_or_truncated_token_is_refused(mail_provider, client, path, subscriber, make_path):
    bad = make_path(path)

    assert _one_click(mail_provider, bad).status_code == 400
    assert client.post(bad).status_code == 400
    assert client.get(bad).status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED


def test_another_subscribers_id_in_a_token_is_refused(mail_provider, subscriber):
    other = SubscriberFactory(email="other@example.org")
    # Swap the id inside a token without the key: the signature no longer matches.
    forged = signing.dumps([other.pk, subscriber.email], key="x", salt=tokens.UNSUBSCRIBE)
    # A validly signed token naming one subscriber's id with another's address.
    mixed = signing.dumps([other.pk, subscriber.email], salt=tokens.UNSUBSCRIBE, compress=True)

    for token in (forged, mixed):
        assert _one_click(mail_provider, f"/unsubscribe/{token}/").status_code == 400
    assert Subscriber.objects.filter(status=Subscriber.Status.UNSUBSCRIBED).count() == 0


def test_a_confirm_or_manage_token_cannot_unsubscribe(mail_provider, subscriber):
    for purpose in (tokens.CONFIRM, tokens.MANAGE):
        token = tokens.make_token(subscriber, purpose)
        assert _one_click(mail_provider, f"/unsubscribe/{token}/").status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED


def test_the_list_unsubscribe_headers(subscriber, settings):
    settings.SITE_URL = "https://papers.example.org"
    settings.UNSUBSCRIBE_MAILTO = "unsubscribe@papers.example.org"

    headers = tokens.list_unsubscribe_headers(subscriber)

    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url, mailto = [part.strip(" <>") for part in headers["List-Unsubscribe"].split(",")]
    assert url.startswith("https://papers.example.org/unsubscribe/")
    assert mailto.startswith("mailto:unsubscribe@papers.example.org?subject=unsubscribe%20")
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert tokens.read_token(token, tokens.UNSUBSCRIBE).subscriber_id == subscriber.pk
