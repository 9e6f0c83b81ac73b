import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k" * 20 + "-production-only-9f2c1d7e5b3a8f6c4e2d0b9a7c5e3f1d",
    "DJANGO_ALLOWED_HOSTS": "paperboy.example.org",
    "SITE_URL": "https://paperboy.example.org",
}


def _manage(*args, **env):
    # The browser fixture sets DJANGO_ALLOW_ASYNC_UNSAFE for this process (Playwright's
    # sync API); a production-like `check --deploy` must not inherit it.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_fails_at_start_naming_a_bad_variable():
    result = _manage("check", DJANGO_DEBUG="maybe")

    assert result.returncode != 0
    assert "DJANGO_DEBUG='maybe' is not a boolean" in result.stderr


def test_it_rejects_a_bad_database_url():
    result = _manage("check", DATABASE_URL="nosuchdb://x")

    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_it_passes_the_deploy_checks_with_production_values():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _production_without(*names, **extra):
    env = {k: v for k, v in os.environ.items() if k not in names}
    env = {k: v for k, v in env.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**env, **{k: v for k, v in PRODUCTION.items() if k not in names}, **extra},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deploy_check_fails_without_a_secret_key():
    result = _production_without("DJANGO_SECRET_KEY")

    assert result.returncode != 0
    assert "config.E001" in result.stderr + result.stdout
    assert "DJANGO_SECRET_KEY is not set" in result.stderr + result.stdout


def test_the_deploy_check_fails_with_the_development_key_set_explicitly():
    from django.conf import settings

    result = _production_without(
        "DJANGO_SECRET_KEY", DJANGO_SECRET_KEY=settings.DEVELOPMENT_SECRET_KEY
    )

    assert result.returncode != 0
    assert "config.E001" in result.stderr + result.stdout


def test_the_development_key_is_fine_with_debug_on(settings):
    from config.checks import secret_key

    settings.DEBUG = True
    settings.SECRET_KEY = settings.DEVELOPMENT_SECRET_KEY
    assert secret_key(None) == []

    settings.DEBUG = False
    assert [error.id for error in secret_key(None)] == ["config.E001"]


def test_testserver_is_not_an_allowed_host_outside_tests():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOWED_HOSTS"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.ALLOWED_HOSTS)",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "testserver" not in result.stdout
    assert "localhost" in result.stdout


def test_behind_a_proxy_the_client_is_the_last_forwarded_hop_everywhere():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.BEHIND_PROXY, settings.ALLAUTH_TRUSTED_PROXY_COUNT, "
            "settings.SECURE_PROXY_SSL_HEADER)",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_BEHIND_PROXY": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.stdout.split()[:2] == ["True", "1"], result.stderr


def test_templates_are_compiled_once_per_process_with_production_values():
    # Every page renders partials in loops (a card per paper); without the cached loader
    # each {% include %} would read and compile its template again.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.template import engines; "
            "print(type(engines['django'].engine.template_loaders[0]).__module__)",
        ],
        cwd=ROOT,
        env={**inherited, **PRODUCTION, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.template.loaders.cached"
