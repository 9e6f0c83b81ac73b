"""Every e-mail of the sign-up and account flows, on both parts: the site's style in HTML,
a text part wrapped at 78 columns, and a greeting from the site, never a username."""

import re

import pytest
from allauth.account.models import EmailAddress

from subscriptions import emails
from tests.factories import SubscriberFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough passphrase 42"
URL = re.compile(r"^\s*https?://\S+$")


def _parts(message) -> tuple[str, str]:
    (html, mimetype), *_ = message.alternatives
    assert mimetype == "text/html"
    return message.body, html


def _assert_site_style(text: str, html: str) -> None:
    # CSS inlined (Gmail drops <style>), the system fonts, the site's name at the top.
    body_style = re.search(r'<body[^>]*style="([^"]*)"', html).group(1)
    assert "-apple-system" in body_style
    assert re.search(r'<td class="brand"[^>]*><a href="http://127.0.0.1:8000/"', html)
    assert "prefers-color-scheme: dark" in html
    assert all(len(line) <= 78 or URL.match(line) for line in text.splitlines()), text


def _assert_no_username(text: str, html: str, user) -> None:
    for part in (text, html):
        assert user.username not in part.replace(user.email, "")
        assert "Hello from Paperboy!" in part


def test_the_confirmation_e_mail_wraps_its_long_fallback_link():
    subscriber = SubscriberFactory(status="pending", email="a-rather-long-address@example.org")

    text, html = _parts(emails.confirmation(subscriber))

    _assert_site_style(text, html)
    link = re.search(r"https?://\S+/confirm/\S+/", text).group(0)
    assert f"\n{link}\n" in text
    # The fallback link may break anywhere, so a phone shows it without sideways scrolling.
    fallback = re.search(r'<a class="link" href="([^"]+)" style="([^"]*)">([^<]+)</a>', html)
    assert fallback.group(1) == fallback.group(3) == link
    assert "word-break: break-all" in fallback.group(2)
    assert '<div class="preheader"' in html


def test_the_already_subscribed_e_mail_links_the_preferences():
    subscriber = SubscriberFactory(email="ada@example.org")

    text, html = _parts(emails.already_subscribed(subscriber))

    _assert_site_style(text, html)
    link = re.search(r"https?://\S+/preferences/\S+/", text).group(0)
    assert f'href="{link}"' in html
    assert "It is already subscribed, so nothing changed." in text
    assert "It is already subscribed, so nothing changed." in html


def test_the_verification_e_mail_greets_with_the_site_name(post, outbox):
    post(
        "/accounts/signup/",
        {"email": "ada@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )

    (message,) = outbox
    text, html = _parts(message)
    user = EmailAddress.objects.get().user
    _assert_site_style(text, html)
    _assert_no_username(text, html, user)
    assert message.subject == "[Paperboy] Confirm your e-mail address"
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", text).group(0)
    assert f'<a class="button" href="{link}"' in html
    assert f'<a class="link" href="{link}"' in html


def test_the_login_code_e_mail_shows_the_code_on_both_parts(post, outbox):
    user = UserFactory(email="ada@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    post("/accounts/login/code/", {"email": "ada@example.org"})

    (message,) = outbox
    text, html = _parts(message)
    _assert_site_style(text, html)
    _assert_no_username(text, html, user)
    assert message.subject == "[Paperboy] Your sign-in code"
    code = re.search(r"^([A-Z0-9-]{4,})$", text, re.M).group(1)
    assert re.search(rf'<p class="code"[^>]*>{code}</p>', html)


def test_the_password_reset_e_mail_never_shows_the_generated_username(post, outbox):
    user = UserFactory(username="ada7f3k2x", email="ada@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    post("/accounts/password/reset/", {"email": "ada@example.org"})

    (message,) = outbox
    text, html = _parts(message)
    _assert_site_style(text, html)
    _assert_no_username(text, html, user)
    assert "username" not in text.lower() and "username" not in html.lower()
    assert message.subject == "[Paperboy] Reset your password"
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+/", text).group(0)
    assert f'<a class="button" href="{link}"' in html


def test_the_unknown_account_e_mail_offers_to_sign_up(post, outbox):
    post("/accounts/password/reset/", {"email": "nobody@example.org"})

    (message,) = outbox
    text, html = _parts(message)
    _assert_site_style(text, html)
    assert "there is no account for this address" in text
    assert "there is no account for this address" in html
    assert re.search(r'<a class="button" href="https?://\S+/accounts/signup/"', html)


def test_the_account_already_exists_e_mail_offers_a_new_password(post, outbox):
    user = UserFactory(email="ada@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    post(
        "/accounts/signup/",
        {"email": "ada@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )

    (message,) = outbox
    text, html = _parts(message)
    _assert_site_style(text, html)
    _assert_no_username(text, html, user)
    assert message.subject == "[Paperboy] You already have an account"
    link = re.search(r"https?://\S+/accounts/password/reset/\S*", text).group(0)
    assert f'<a class="button" href="{link}"' in html
