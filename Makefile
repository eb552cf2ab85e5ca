# The commands the README names. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run serve test test-fast lint fmt seed seed-large bench messages assets venv dev-deps browser lock upgrade clean help

help:
	@echo "make run    - install, migrate, load demo data, start web + Celery worker + beat"
	@echo "make test   - install test dependencies and run the whole suite"
	@echo "make bench  - load (or reuse) the large data set on PostgreSQL and time the hot paths"
	@echo "make lint   - ruff check and format check"
	@echo "make lock   - re-lock requirements/*.txt after editing pyproject.toml (make upgrade: newest allowed versions)"

# --- Installation (each step re-runs only when its inputs change) ------------------------------------------------------
# Exactly the locked versions, checked against their hashes: requirements/app.txt (what the app runs on; the
# Dockerfile installs the same file) and requirements/dev.txt (the same pins plus the test tools).
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check --require-hashes
$(VENV)/.app-installed: requirements/app.txt
	@scripts/ensure-pdf-libs
	@test -x $(PY) || { py=$$(scripts/find-python) && echo "Creating $(VENV) with $$py" && "$$py" -m venv $(VENV); }
	$(PIP_INSTALL) -r requirements/app.txt
	@touch $@

$(VENV)/.dev-installed: requirements/dev.txt $(VENV)/.app-installed
	$(PIP_INSTALL) -r requirements/dev.txt
	@touch $@

# The lock is written from pyproject.toml's dependency groups by uv (a resolver only: installs use pip and the hashes),
# for every Python the project supports. `make lock` keeps the pins that still satisfy pyproject.toml; `make upgrade`
# moves every package to the newest version allowed. Commit requirements/ afterwards.
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv
LOCK = UV_NATIVE_TLS=1 $(UV) pip compile pyproject.toml --universal --python-version 3.12 --generate-hashes --quiet \
	--custom-compile-command "make lock" $(LOCK_ARGS)
$(UV): $(VENV)/.app-installed
	$(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

lock: $(UV)
	$(LOCK) --group app -o requirements/app.txt
	$(LOCK) --group dev -c requirements/app.txt -o requirements/dev.txt

upgrade: LOCK_ARGS = --upgrade
upgrade: lock

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
# The demo data, in order (each command adds nothing when run again): users, clients and calls; the workshop; visits,
# handovers and the call queues; then each desk's own.
SEEDS := seed_demo seed_workshop seed_demo_work seed_reception seed_documents seed_fleet seed_claims seed_reports \
	seed_webhooks

run: venv assets
	@if [ -n "$$DATABASE_URL" ]; then $(PY) scripts/ensure-database; fi
	$(PY) manage.py migrate --noinput
	@for command in $(SEEDS); do echo "$(PY) manage.py $$command"; $(PY) manage.py $$command || exit 1; done
	@$(PY) manage.py banner --address "http://$(HOST):$(PORT)/"
	@$(MAKE) --no-print-directory serve

# The web server, a Celery worker and beat (Procfile.dev), with the virtualenv's programs first on PATH. Ctrl-C: honcho
# sends each one SIGTERM (the worker finishes what it runs: threads, no pool processes to kill; scripts/serve gives it
# the 4-5 s it needs on the embedded broker, where honcho's own grace of 5 s killed it under load) and answers 130,
# which is the stop that was asked for, so the recipe reports no error (make itself still ends as interrupted).
serve:
	@PATH="$(abspath $(VENV))/bin:$$PATH" HOST=$(HOST) PORT=$(PORT) $(PY) scripts/serve --no-prefix -f Procfile.dev start; \
	status=$$?; if [ $$status -eq 130 ]; then echo "ClientDesk stopped."; exit 0; fi; exit $$status

seed: venv
	@for command in $(SEEDS); do echo "$(PY) manage.py $$command"; $(PY) manage.py $$command || exit 1; done

# --- Quality -------------------------------------------------------------------------------------------------------
test: dev-deps assets browser
	@if [ -n "$$DATABASE_URL" ]; then $(PY) scripts/ensure-database; fi
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
# The large set: each loader keeps what is there already (the first three reload what no longer matches their
# counts: --reuse), so a second `make bench` goes straight to the timings.
LARGE_SEEDS := "seed_large --reuse" "seed_large_bookings --reuse" "seed_large_tasks --reuse" seed_large_documents \
	seed_large_fleet seed_large_claims
bench: dev-deps assets
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) scripts/ensure-database
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py migrate --noinput
	@for command in $(LARGE_SEEDS); do echo "$$command"; \
		DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py $$command || exit 1; done
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache
