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

# Import rate against the engine's raw bulk floor (bench/import_rate.py); empties the database it is given.
BENCH_ROWS ?= 100000 1000000
bench: install
	$(BIN)/python bench/import_rate.py $(BENCH_ROWS)

clean:
	rm -rf $(VENV) var .pytest_cache
