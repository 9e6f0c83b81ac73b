"""What /healthz checks: each dependency the site and the e-mails cannot work without."""

from django.db import connection

from config.celery_app import app


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


CHECKS = {"database": check_database, "broker": check_broker}


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
