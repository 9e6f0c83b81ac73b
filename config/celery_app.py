"""The Celery app: `celery -A config worker` and `celery -A config beat`."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("paperboy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _ensure_local_broker_dirs(sender=None, **kwargs) -> None:
    # The embedded default (no REDIS_URL) keeps the queue and results in folders under
    # var/; kombu's filesystem transport and the file result backend expect them to exist.
    if not str(app.conf.broker_url).startswith("filesystem://"):
        return
    options = app.conf.broker_transport_options
    folders = [options.get(key) for key in ("data_folder_in", "data_folder_out", "control_folder")]
    backend = str(app.conf.result_backend or "")
    if backend.startswith("file://"):
        folders.append(backend.removeprefix("file://"))
    for folder in filter(None, folders):
        Path(folder).mkdir(parents=True, exist_ok=True)


app.on_after_configure.connect(_ensure_local_broker_dirs)


@app.task(name="paperboy.healthcheck")
def healthcheck() -> str:
    """Run by operators (and the tests) to prove a worker is up and reaches the database."""
    from config.health import check_database

    check_database()
    return "ok"
