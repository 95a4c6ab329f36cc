# Advocate CRM. `make run` to try it, `make test` to test it, `make check` for lint, format and layer contracts.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test check format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/crm migrate
	$(BIN)/crm demo
	$(BIN)/crm serve

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff (lint and format) and import-linter (the layer contracts in pyproject.toml); CI runs this before the tests.
check: install
	$(BIN)/ruff check crm tests piccolo_conf.py
	$(BIN)/ruff format --check crm tests piccolo_conf.py
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff check --fix crm tests piccolo_conf.py
	$(BIN)/ruff format crm tests piccolo_conf.py

# The benchmark (README "Performance"): the import rate against the engine's raw bulk floor (bench/import_rate.py,
# on BENCH_IMPORT_URL, which it empties), then `crm bench run` at BENCH_SIZE (S, M or L) on BENCH_ENGINE (sqlite
# or postgres: BENCH_POSTGRES_URL), generated first when that database is empty; results in var/bench-*.json.
BENCH_ROWS ?= 100000 1000000
BENCH_SIZE ?= S
BENCH_ENGINE ?= sqlite
BENCH_IMPORT_URL ?= sqlite:///var/bench-import.sqlite
BENCH_POSTGRES_URL ?= postgresql://crm@127.0.0.1:5432/crm_bench
BENCH_URL = $(if $(filter postgres,$(BENCH_ENGINE)),$(BENCH_POSTGRES_URL),sqlite:///var/bench-$(BENCH_SIZE).sqlite)
bench: install
	CRM_DATABASE_URL=$(BENCH_IMPORT_URL) $(BIN)/python bench/import_rate.py $(BENCH_ROWS)
	CRM_DATABASE_URL=$(BENCH_URL) $(BIN)/crm migrate
	CRM_DATABASE_URL=$(BENCH_URL) $(BIN)/crm bench run --size $(BENCH_SIZE) --json var/bench-$(BENCH_ENGINE)-$(BENCH_SIZE).json

clean:
	rm -rf $(VENV) var .pytest_cache
