import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough passphrase 42"


def test_it_creates_an_editor_from_an_e_mail_and_a_password(monkeypatch, client):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)

    call_command("createsuperuser", email="Editor@Example.org", interactive=False)

    user = get_user_model().objects.get()
    assert user.is_superuser and user.is_staff
    assert user.email == "editor@example.org"
    assert user.username  # made from the address: the model still needs one
    address = EmailAddress.objects.get(user=user)
    assert address.verified and address.primary
    # The e-mail address is the login, on the admin and the site.
    assert client.login(username="editor@example.org", password=PASSWORD)


def test_it_asks_only_for_the_e_mail_and_the_password(monkeypatch):
    answers = iter(["not an address", "editor@example.org"])
    passwords = iter(["short", "short", PASSWORD, "typo", PASSWORD, PASSWORD])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(passwords))

    call_command("createsuperuser")

    user = get_user_model().objects.get()
    assert user.email == "editor@example.org" and user.check_password(PASSWORD)


def test_it_refuses_an_address_that_already_has_an_account(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command("createsuperuser", email="editor@example.org", interactive=False)

    with pytest.raises(CommandError, match="already exists"):
        call_command("createsuperuser", email="EDITOR@example.org", interactive=False)


def test_it_needs_an_address_when_asking_nothing(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_EMAIL", raising=False)
    with pytest.raises(CommandError, match="DJANGO_SUPERUSER_EMAIL"):
        call_command("createsuperuser", interactive=False)
