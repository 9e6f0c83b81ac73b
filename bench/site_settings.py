"""Settings for bench/load_test.py's gunicorn: the real settings plus one trivial view."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.site_urls"
