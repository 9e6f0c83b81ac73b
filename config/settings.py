"""Paperboy settings: one module, every value from the environment.

Defaults are for a first run on a laptop (SQLite, a filesystem broker, e-mail written to
files under var/). Production differs only by the values of the variables listed in the
README; nothing here branches on an environment name.
"""

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_prefixed,
    env_str,
    env_timezone,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PAPERBOY_VAR_DIR", str(BASE_DIR / "var")))

# --- Core --------------------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", False)
# Anyone can read this key in the repository: config.checks refuses it in production.
DEVELOPMENT_SECRET_KEY = "insecure-local-only-key-set-DJANGO_SECRET_KEY-in-production"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
# Django's test runner adds "testserver" itself; outside tests it is not a host we serve.
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
TIME_ZONE = env_timezone("TIME_ZONE", "UTC")
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en-gb"

# Absolute base for links that leave the site (e-mails, feeds, List-Unsubscribe).
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000", schemes=("http", "https")).rstrip("/")
SITE_NAME = env_str("SITE_NAME", "Paperboy")
_HTTPS = SITE_URL.startswith("https://")

INSTALLED_APPS = [
    # First, so its `createsuperuser` (e-mail and password only) replaces Django's.
    "subscriptions",
    "digests.dashboard.apps.DashboardAdminConfig",  # django.contrib.admin with the dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "csp",
    "allauth",
    "allauth.account",
    "anymail",
    "papers",
    "digests",
    "config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "config.middleware.BrandedNotFoundMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------------------
_DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'paperboy.sqlite3'}"
try:
    DATABASES = {
        "default": dj_database_url.parse(
            env_str("DATABASE_URL", _DEFAULT_DATABASE_URL),
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=True,
        )
    }
except ValueError as exc:
    raise ImproperlyConfigured(
        f"DATABASE_URL is not a database URL Django can use: {exc}"
    ) from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for locks instead of failing, and take the
    # write lock up front so two writers never deadlock upgrading read locks.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker, cache and locks --------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    env_url("REDIS_URL", REDIS_URL, schemes=("redis", "rediss", "unix"))
    CACHES = {
        "default": {
            "BACKEND": "lib.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "paperboy",
            "TIMEOUT": 300,
            # A Redis that stops answering must cost a page seconds, not a worker forever
            # (lib.redis_cache then serves without it for a while).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # acks_late tasks are redelivered after this long if a worker dies mid-task; it must
    # exceed the longest task (see CELERY_TASK_TIME_LIMIT).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    # No Redis: a real broker on the filesystem, so the worker and beat still run for real,
    # and a file cache that every process (web, worker) shares.
    _BROKER_DIR = VAR_DIR / "broker"
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "TIMEOUT": 300,
        }
    }
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'results'}"

# --- Celery (read by config/celery_app.py under the CELERY_ namespace) ---------------------
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 900, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 840, minimum=1)
# Tasks are written to be idempotent, so a message is acknowledged only once it is done:
# a worker killed mid-task gives its message back to the queue instead of losing it.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TRACK_STARTED = True
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_ALWAYS_EAGER = False

# The beat schedule lives here, in code; the minutes are settings so operators can move them.
CELERY_BEAT_SCHEDULE = {
    "recompute-trending": {
        "task": "papers.tasks.recompute_trending",
        "schedule": crontab(minute=env_int("TRENDING_RECOMPUTE_MINUTE", 5, minimum=0)),
    },
    "refresh-github-stars": {
        "task": "papers.tasks.refresh_github_stars",
        "schedule": crontab(minute=env_int("GITHUB_REFRESH_MINUTE", 50, minimum=0)),
    },
    "fetch-arxiv": {
        "task": "papers.tasks.fetch_arxiv",
        "schedule": crontab(
            minute=env_int("ARXIV_FETCH_MINUTE", 20, minimum=0),
            hour=env_str("ARXIV_FETCH_HOURS", "*/6"),
        ),
    },
    "fetch-huggingface-daily": {
        "task": "papers.tasks.fetch_huggingface_daily",
        "schedule": crontab(
            minute=env_int("HF_FETCH_MINUTE", 35, minimum=0),
            hour=env_str("HF_FETCH_HOURS", "*/3"),
        ),
    },
    "render-thumbnails": {
        "task": "papers.tasks.render_missing_thumbnails",
        "schedule": crontab(minute="*/15"),
    },
    "resume-paused-subscribers": {
        "task": "subscriptions.tasks.resume_paused",
        "schedule": crontab(minute=15, hour=0),
    },
    "send-due-emails": {
        # Confirmations and account e-mails whose ESP call failed, retried with backoff.
        "task": "subscriptions.tasks.send_due_emails",
        "schedule": crontab(),
    },
    "purge-unconfirmed-subscribers": {
        "task": "subscriptions.tasks.purge_unconfirmed",
        "schedule": crontab(minute=25, hour=0),
    },
    "record-list-size": {
        "task": "subscriptions.tasks.record_list_size",
        # The dashboard's subscriber totals per status, counted once an hour, not per view.
        "schedule": crontab(minute=58),
    },
    "train-reader-models": {
        # Nightly: a fresh vocabulary, then every model; signals also retrain their reader
        # within seconds (digests.services.reader.reader_model_mark_stale).
        "task": "digests.tasks.train_reader_models_nightly",
        "schedule": crontab(minute=40, hour=1),
    },
    "paper-update-alerts": {
        # Hourly, for readers who asked for updates on their papers by e-mail as they happen.
        "task": "digests.tasks.send_update_alerts",
        "schedule": crontab(minute=30),
    },
    "send-due-digests": {
        "task": "digests.tasks.send_due_digests",
        # Hourly: each subscriber is due at their own delivery hour in their own time zone.
        "schedule": crontab(minute=env_int("DIGEST_SEND_MINUTE", 0, minimum=0)),
    },
}

# --- Papers: live sources and trending (see README "Papers") ------------------------------
# Optional: with a token GitHub allows 5,000 requests an hour instead of 60.
GITHUB_TOKEN = env_str("GITHUB_TOKEN", "")
GITHUB_REFRESH_BATCH = env_int("GITHUB_REFRESH_BATCH", 1000, minimum=1)
ARXIV_FETCH_CATEGORIES = env_list(
    "ARXIV_FETCH_CATEGORIES", ["cs.LG", "cs.CL", "cs.CV", "cs.AI", "stat.ML"]
)
ARXIV_FETCH_MAX_RESULTS = env_int("ARXIV_FETCH_MAX_RESULTS", 200, minimum=1)
# arXiv asks API clients to wait 3 seconds between calls.
ARXIV_API_SPACING_SECONDS = env_int("ARXIV_API_SPACING_SECONDS", 3, minimum=3)
# Imports fetched by beat are published at once unless this says they wait for an editor.
PAPERS_FETCH_AS_DRAFT = env_bool("PAPERS_FETCH_AS_DRAFT", False)

# --- E-mail --------------------------------------------------------------------------------
# Default: an Anymail backend that writes each message as an .eml file under var/mail/, so
# a first run sends nothing yet keeps every message where a person can open it.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "lib.mailbox.EmailBackend")
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Paperboy <digest@paperboy.localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# Every ANYMAIL_<KEY> variable becomes ANYMAIL["<KEY>"], so any ESP is configured by values.
ANYMAIL = env_prefixed("ANYMAIL_")

# --- Digests -------------------------------------------------------------------------------
# Subscribers per fan-out task, and at most that many per batch API call (Postmark's Bulk
# API takes up to 50 MB a call; Mailgun's batch limit is 1,000).
DIGEST_CHUNK_SIZE = env_int("DIGEST_CHUNK_SIZE", 1000, minimum=1)
# Papers an edition keeps from the trending ranking; each reader's filters pick from these.
DIGEST_CANDIDATES = env_int("DIGEST_CANDIDATES", 100, minimum=1)
# Retries of a chunk on transient ESP errors (timeouts, 5xx, 429), with backoff and jitter.
DIGEST_MAX_RETRIES = env_int("DIGEST_MAX_RETRIES", 5, minimum=0)
# Batch sends: with Postmark, its Bulk API (or /email/batch where the Bulk API is refused);
# with another ESP, its batch API once DIGEST_MERGE_FIELD_FORMAT is set. See docs/digests.md.
DIGEST_BATCH_SEND = env_bool("DIGEST_BATCH_SEND", True)
# Readers one batch call carries at most; also what one claim covers (a kill -9 costs one).
DIGEST_BATCH_SIZE = env_int("DIGEST_BATCH_SIZE", 500, minimum=1)
# Postmark message stream of the digest: its broadcast stream, kept apart from the
# transactional one that confirmations and login codes use.
DIGEST_MESSAGE_STREAM = env_str("DIGEST_MESSAGE_STREAM", "broadcast")
# Off: every claim is flushed to disk before its ESP call, so even a crash of the database
# server cannot lead to a second copy. On: faster one-by-one sends (docs/digests.md).
DIGEST_ASYNC_COMMIT = env_bool("DIGEST_ASYNC_COMMIT", False)
# Merge-field syntax of an ESP other than Postmark's Bulk API, e.g. "%recipient.{name}%".
DIGEST_MERGE_FIELD_FORMAT = env_str("DIGEST_MERGE_FIELD_FORMAT", "")

# --- Dashboard (the admin index) -------------------------------------------------------------
# Warning lines, in percent of sent digests, over the last 7 and 30 days. Bounces: Amazon
# SES reviews an account from 5% (docs.aws.amazon.com/ses/latest/dg/faqs-enforcement.html).
# Complaints: Google asks bulk senders to stay below 0.1% and never reach 0.3%
# (support.google.com/a/answer/81126); the 0.3% line is drawn on the chart regardless.
DASHBOARD_BOUNCE_RATE_WARNING = env_float("DASHBOARD_BOUNCE_RATE_WARNING", 5.0)
DASHBOARD_COMPLAINT_RATE_WARNING = env_float("DASHBOARD_COMPLAINT_RATE_WARNING", 0.1)


# --- Personal relevance (docs/relevance.md) -----------------------------------------------
# Off: nothing is learned and every digest keeps the trending order (the filters still apply).
RELEVANCE_ENABLED = env_bool("RELEVANCE_ENABLED", True)
# The vocabulary (inverse document frequencies) is built nightly from this many latest papers.
RELEVANCE_VOCABULARY_PAPERS = env_int("RELEVANCE_VOCABULARY_PAPERS", 50000, minimum=100)
RELEVANCE_TRAIN_CHUNK = env_int("RELEVANCE_TRAIN_CHUNK", 500, minimum=1)
# "Updates on your papers": at most this many in one digest, found among this many new ones.
DIGEST_UPDATES_SHOWN = env_int("DIGEST_UPDATES_SHOWN", 5, minimum=1)
DIGEST_UPDATES_SCAN = env_int("DIGEST_UPDATES_SCAN", 5000, minimum=1)

# --- Accounts (django-allauth) ---------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_FORMS = {"signup": "subscriptions.account_forms.AccountSignupForm"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if _HTTPS else "http"
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
# allauth's e-mails are recorded and sent like every transactional e-mail (never twice,
# retried through an ESP outage, never an error page for the person who asked).
ACCOUNT_ADAPTER = "subscriptions.adapters.AccountAdapter"
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "account_login"

# --- Subscriptions ------------------------------------------------------------------------------
# How long a confirmation link works, and how many sign-up attempts (each may send an
# e-mail) an address and a client IP get per window before a "try again later" page.
SUBSCRIPTION_CONFIRM_MAX_AGE = env_int("SUBSCRIPTION_CONFIRM_MAX_AGE", 7 * 24 * 3600, minimum=60)
# Sign-ups never confirmed are deleted this many days after they were made (nightly).
SUBSCRIPTION_PENDING_DAYS = env_int("SUBSCRIPTION_PENDING_DAYS", 30, minimum=1)
SUBSCRIBE_LIMIT_PER_ADDRESS = env_int("SUBSCRIBE_LIMIT_PER_ADDRESS", 3, minimum=1)
SUBSCRIBE_LIMIT_PER_IP = env_int("SUBSCRIBE_LIMIT_PER_IP", 10, minimum=1)
SUBSCRIBE_LIMIT_WINDOW = env_int("SUBSCRIBE_LIMIT_WINDOW", 3600, minimum=1)
# The mailto half of List-Unsubscribe; mail to it is read by the Anymail inbound webhook.
UNSUBSCRIBE_MAILTO = env_str(
    "UNSUBSCRIBE_MAILTO", "unsubscribe@" + DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >")
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Static files ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded and generated files (paper thumbnails). The filesystem by default, served by the
# app under MEDIA_URL; for S3-compatible storage set STORAGES["default"] to django-storages'
# S3 backend and its options (docs/site.md): no code reads the filesystem directly.
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Thumbnails (papers.thumbnails) ----------------------------------------------------------
PAPERS_THUMBNAIL_WIDTH = 480  # pixels: twice the widest card image, sharp on a 2x screen
PAPERS_THUMBNAIL_MAX_PDF_BYTES = 40 * 1024 * 1024
PAPERS_THUMBNAIL_BATCH = 20  # papers per beat run (every 15 minutes)

# --- Security: on whenever the site is served over https (SITE_URL) -----------------------------
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", _HTTPS)
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000 if _HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _HTTPS
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", _HTTPS)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [SITE_URL])
# Behind a TLS-terminating proxy only: trusting the headers otherwise lets clients spoof
# https and their address. The client is the last X-Forwarded-For hop (lib.ratelimit and,
# through ALLAUTH_TRUSTED_PROXY_COUNT, allauth's login limits): the one our proxy appended.
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
    ALLAUTH_TRUSTED_PROXY_COUNT = 1

# Content-Security-Policy (django-csp 4): scripts, styles and everything else from our own
# origin only. No inline script or style anywhere, so an injected <script> or on*= handler
# does not run even if escaping ever failed. Pages that need more say so with
# csp.decorators.csp_update (the admin's digest preview shows e-mail HTML with its styles).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- Logging -------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
