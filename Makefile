# The README's two commands: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run test install install-dev migrate sample web worker beat lint check-deploy clean reset

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(PIP) install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	mkdir -p "$${PAPERBOY_VAR_DIR:-var}"
	$(PY) manage.py migrate --noinput

# Loads the bundled sample papers only into an empty database.
sample: migrate
	$(PY) manage.py load_sample_papers

# Web server, Celery worker and Celery beat together; Ctrl-C stops all three.
# Debug pages on for a local run only; production sets DJANGO_DEBUG=0 (the default).
run: export DJANGO_DEBUG ?= 1
run: sample
	@echo "Paperboy on http://127.0.0.1:8000  (Ctrl-C stops web, worker and beat)"
	@bash -c 'trap "kill -TERM \$$(jobs -p) 2>/dev/null; wait" INT TERM; \
	  $(VENV)/bin/celery -A config worker --loglevel=INFO --concurrency=2 & \
	  $(VENV)/bin/celery -A config beat --loglevel=INFO & \
	  $(PY) manage.py runserver 127.0.0.1:8000 & \
	  wait -n; kill -TERM $$(jobs -p) 2>/dev/null; wait'

test: install-dev
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check-deploy: install
	DJANGO_DEBUG=0 SITE_URL=https://paperboy.example.org DJANGO_ALLOWED_HOSTS=paperboy.example.org \
	DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	$(PY) manage.py check --deploy --fail-level WARNING

clean:
	d="$${PAPERBOY_VAR_DIR:-var}"; rm -rf "$$d/broker" "$$d/results" "$$d/cache" "$$d/mail"

# Start over: an empty database with the sample loaded afresh (dates relative to today).
# The embedded SQLite database and var/ go; with DATABASE_URL set, its tables are flushed.
reset: install
	@if [ -n "$$DATABASE_URL" ]; then $(PY) manage.py flush --noinput; fi
	rm -rf "$${PAPERBOY_VAR_DIR:-var}"
	$(MAKE) sample
