import pytest
from django.core.cache import cache

from config.celery_app import app as celery_app


@pytest.fixture(autouse=True)
def _isolated_cache():
    # Rate limits, locks and page caches live in the cache: no test may see another's.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run inline by default; tests that need a real worker use `celery_worker`."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_eager_propagates = False


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker thread consuming from the configured broker (Redis in CI)."""
    from celery.contrib.testing.worker import start_worker

    celery_app.conf.task_always_eager = False
    celery_app.conf.task_eager_propagates = False
    celery_app.control.purge()  # messages left by earlier runs are not this test's
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30
    ) as worker:
        yield worker
