# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
# the pages' front-end libraries (ECharts, htmx) come from the npm registry, pinned by package-lock.json
STAMP_NPM := node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

.PHONY: run test lint typecheck pytest migrate demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP_RUN)

$(STAMP_NPM): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

var:
	mkdir -p var

## run: install, migrate the embedded SQLite database, load the demo data once, serve on :8000
run: $(STAMP_RUN) $(STAMP_NPM) | var
	$(BIN)/studio-match migrate
	$(BIN)/studio-match demo
	$(BIN)/studio-match serve --host $(HOST) --port $(PORT)

## test: install the dev extra, lint, type-check, then run the suite against PostgreSQL
test: lint typecheck pytest

lint: $(STAMP_DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP_DEV)
	$(BIN)/mypy

pytest: $(STAMP_DEV) $(STAMP_NPM)
	STUDIO_MATCH_TEST_ADMIN_URL=$(TEST_DATABASE_URL) $(BIN)/pytest

clean:
	rm -rf $(VENV) var node_modules .mypy_cache .ruff_cache .pytest_cache
