"""Typed readers for environment variables.

Every reader names the variable in its error, so a bad deployment value fails at
start-up with a message an operator can act on instead of a traceback deep in Django.
"""

import os
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use 1/0, true/false, yes/no.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def env_float(name: str, default: float) -> float:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name: str, default: str, *, schemes: tuple[str, ...]) -> str:
    value = env_str(name, default)
    parts = urlsplit(value)
    if parts.scheme not in schemes or not (parts.netloc or parts.path):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a URL with scheme {' or '.join(schemes)}."
        )
    return value


def env_timezone(name: str, default: str) -> str:
    value = env_str(name, default)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name}={value!r} is not an IANA time zone.") from None
    return value


_WORD_BOOLEANS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def env_prefixed(prefix: str) -> dict[str, str | bool]:
    """Every variable named PREFIX<KEY>, as {KEY: value} (e.g. ANYMAIL_POSTMARK_SERVER_TOKEN).

    true/false, yes/no and on/off become booleans, so a switch such as
    ANYMAIL_POSTMARK_USE_BULK_API=false is off rather than a truthy string. Digits stay
    strings: tokens and keys may be all digits.
    """
    return {
        key.removeprefix(prefix): _WORD_BOOLEANS.get(value.strip().lower(), value)
        for key, value in os.environ.items()
        if key.startswith(prefix) and len(key) > len(prefix)
    }
