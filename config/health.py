"""What /healthz checks: each dependency the site and the e-mails cannot work without."""

from django.core.cache import cache
from django.db import connection

from config.celery_app import app


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def check_cache() -> None:
    """The page cache and rate-limit counters. lib.redis_cache hides an outage from pages
    (they render without it), so this asks Redis directly."""
    client = getattr(cache, "_cache", None)
    if hasattr(client, "get_client"):
        client.get_client(write=True).ping()
        return
    cache.set("healthz", "ok", 10)
    if cache.get("healthz") != "ok":
        raise RuntimeError("the cache does not keep what it is given")


CHECKS = {"database": check_database, "broker": check_broker, "cache": check_cache}


def run_checks() -> dict[str, str]:
    """{name: "ok" | error text} for every check; never raises."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # any failure means "down"; the text tells the operator why
            results[name] = f"down: {exc.__class__.__name__}: {exc}"[:300]
        else:
            results[name] = "ok"
    return results


def search_index() -> str:
    """Which index serves search ("rum", "gin" or "fts5"; see papers/search.py), or
    "unknown" when the database cannot say."""
    from papers.search import search_index_path

    try:
        return search_index_path()
    except Exception:  # the database check reports the failure itself
        return "unknown"
