import pytest
from django.conf import settings

from config.celery_app import app, healthcheck

pytestmark = pytest.mark.worker


def test_it_reads_celery_settings_from_django():
    assert app.conf.timezone == settings.TIME_ZONE
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.task_time_limit == settings.CELERY_TASK_TIME_LIMIT
    assert app.conf.broker_url == settings.CELERY_BROKER_URL


def test_it_runs_a_task_through_a_real_worker(celery_worker):
    result = healthcheck.delay()

    assert result.get(timeout=30) == "ok"
    assert result.successful()
