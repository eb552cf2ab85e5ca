# The commands the README names. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run serve test test-fast lint fmt seed seed-large bench messages assets venv dev-deps browser clean help

help:
	@echo "make run    - install, migrate, load demo data, start web + Celery worker + beat"
	@echo "make test   - install test dependencies and run the whole suite"
	@echo "make bench  - load (or reuse) the large data set on PostgreSQL and time the hot paths"
	@echo "make lint   - ruff check and format check"

# --- Installation (each step re-runs only when its inputs change) ------------------------------------------------------
$(VENV)/.app-installed: pyproject.toml
	@test -x $(PY) || { py=$$(scripts/find-python) && echo "Creating $(VENV) with $$py" && "$$py" -m venv $(VENV); }
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet --disable-pip-version-check --group app
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.app-installed
	$(PY) -m pip install --quiet --disable-pip-version-check --group dev
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed to install Bootstrap and HTMX (apt install npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

venv: $(VENV)/.app-installed
dev-deps: $(VENV)/.dev-installed
assets: node_modules/.installed

browser:
	@scripts/ensure-chromium

# --- Running -------------------------------------------------------------------------------------------------------
run: venv assets
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_workshop
	$(PY) manage.py seed_demo_work
	@$(PY) manage.py banner --address "http://$(HOST):$(PORT)/"
	@$(MAKE) --no-print-directory serve

# The web server, a Celery worker and beat (Procfile.dev), with the virtualenv's programs first on PATH.
serve:
	PATH="$(abspath $(VENV))/bin:$$PATH" HOST=$(HOST) PORT=$(PORT) exec $(VENV)/bin/honcho --no-prefix -f Procfile.dev start

seed: venv
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_workshop
	$(PY) manage.py seed_demo_work

# --- Quality -------------------------------------------------------------------------------------------------------
test: dev-deps assets browser
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

test-fast: dev-deps assets
	$(PY) -m pytest -p no:cacheprovider -m "not browser and not slow" $(PYTEST_ARGS)

lint: dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: dev-deps
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: dev-deps
	$(PY) manage.py makemessages -l ru -l en --ignore=node_modules --ignore=.venv --ignore=var --ignore=tests --ignore=bench --no-obsolete
	$(PY) manage.py compilemessages --ignore=node_modules --ignore=.venv

# --- Benchmark (PostgreSQL) ------------------------------------------------------------------------------------------
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/clientdesk_bench
bench: dev-deps assets
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) scripts/ensure-database
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py migrate --noinput
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py seed_large --reuse
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py seed_large_bookings --reuse
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py seed_large_tasks --reuse
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache
