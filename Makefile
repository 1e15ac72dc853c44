# Peerdesk — `make run` starts the product with demo content; `make test` runs the whole test suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ADDR ?= 127.0.0.1:8000
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run web worker migrate demo test test-fast test-integration test-e2e lint format services browser clean

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) ## Create the virtualenv and install pinned dependencies

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate ## Load the Lumen Home demo community and build the search index
	$(PY) manage.py load_demo
	$(PY) manage.py rebuild_index

run: demo ## Set up everything and run the web server and a background worker (SQLite, local Whoosh, no external server)
	@echo
	@echo "  Peerdesk is starting at http://$(ADDR)/   (API docs: http://$(ADDR)/api/v1/docs/)"
	@echo "  Demo accounts (password: peerdesk-demo): maria@lumen.example (member), erik@lumen.example (certified expert),"
	@echo "  carla@lumen.example (CSR), mo@lumen.example (moderator), admin@lumen.example (admin)."
	@echo "  Stop with Ctrl-C."
	@echo
	@trap 'kill 0' EXIT INT TERM; \
	$(VENV)/bin/celery -A config worker --beat --queues celery,search --concurrency 1 \
	    --schedule var/celerybeat-schedule --loglevel INFO & \
	$(PY) manage.py runserver $(ADDR)

test: install ## Run the whole test suite: fast suite, integration (PostgreSQL, Redis, real worker) and browser tests
	$(MAKE) --no-print-directory test-fast
	$(MAKE) --no-print-directory test-integration
	$(MAKE) --no-print-directory test-e2e

test-fast: install ## The fast default suite (SQLite in memory, in-memory search, eager tasks)
	$(PY) manage.py makemigrations --check --dry-run --settings tests.settings
	$(VENV)/bin/pytest -q

test-integration: install services ## Integration tests against PostgreSQL, Redis and a real Celery worker
	$(VENV)/bin/pytest -q -m integration --ds tests.settings_integration -s

test-e2e: install browser ## Browser tests: Playwright driving Debian's Chromium
	$(VENV)/bin/pytest -q -m e2e

services: ## Start PostgreSQL, Redis and RabbitMQ on loopback if they are installed but not running
	@bash .ci/services.sh

browser: ## Install Debian's Chromium for the browser tests if it is missing
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

lint: install ## Ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean: ## Remove local state (database, index, uploads, mail) — not the virtualenv
	rm -rf var staticfiles
