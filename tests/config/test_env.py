import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env


def test_it_reads_booleans(monkeypatch):
    monkeypatch.setenv("X_FLAG", "yes")
    assert env.env_bool("X_FLAG", False) is True
    monkeypatch.setenv("X_FLAG", "0")
    assert env.env_bool("X_FLAG", True) is False


def test_it_names_the_variable_in_a_bad_boolean(monkeypatch):
    monkeypatch.setenv("DJANGO_DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG='maybe'"):
        env.env_bool("DJANGO_DEBUG", False)


def test_it_names_the_variable_in_a_bad_integer(monkeypatch):
    monkeypatch.setenv("X_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="X_NUMBER='ten' is not a whole number"):
        env.env_int("X_NUMBER", 1)
    monkeypatch.setenv("X_NUMBER", "-1")
    with pytest.raises(ImproperlyConfigured, match="X_NUMBER=-1 must be at least 0"):
        env.env_int("X_NUMBER", 1, minimum=0)


def test_it_rejects_a_url_without_the_right_scheme(monkeypatch):
    monkeypatch.setenv("SITE_URL", "example.org")
    with pytest.raises(ImproperlyConfigured, match=r"SITE_URL='example\.org'"):
        env.env_url("SITE_URL", "http://x", schemes=("http", "https"))


def test_it_rejects_an_unknown_time_zone(monkeypatch):
    monkeypatch.setenv("TIME_ZONE", "Mars/Olympus")
    with pytest.raises(ImproperlyConfigured, match="TIME_ZONE='Mars/Olympus'"):
        env.env_timezone("TIME_ZONE", "UTC")


def test_it_collects_prefixed_variables(monkeypatch):
    monkeypatch.setenv("ANYMAIL_POSTMARK_SERVER_TOKEN", "token-123")
    monkeypatch.setenv("ANYMAIL_WEBHOOK_SECRET", "user:pass")
    collected = env.env_prefixed("ANYMAIL_")
    assert collected["POSTMARK_SERVER_TOKEN"] == "token-123"
    assert collected["WEBHOOK_SECRET"] == "user:pass"


def test_it_turns_word_switches_into_booleans(monkeypatch):
    monkeypatch.setenv("ANYMAIL_POSTMARK_USE_BULK_API", "false")
    monkeypatch.setenv("ANYMAIL_IGNORE_UNSUPPORTED_FEATURES", "Yes")
    monkeypatch.setenv("ANYMAIL_MAILGUN_API_KEY", "0123")
    collected = env.env_prefixed("ANYMAIL_")
    assert collected["POSTMARK_USE_BULK_API"] is False
    assert collected["IGNORE_UNSUPPORTED_FEATURES"] is True
    assert collected["MAILGUN_API_KEY"] == "0123"
