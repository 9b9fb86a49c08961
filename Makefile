# Everything runs from the project's own virtualenv, created on first use, so a
# fresh clone needs only the machine's python3 (and, for tests, PostgreSQL's binaries).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench seed

install: $(STAMP)

# Re-installs whenever pyproject.toml changes (new dependency, new entry point).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -e '.[dev]'
	touch $(STAMP)

# HOST and PORT come from the environment (default 127.0.0.1:8000); data lives
# in the embedded SQLite file var/ledger.sqlite unless LEDGER_DATABASE_URL is set.
run: $(STAMP)
	mkdir -p var
	$(BIN)/ledger serve

# Two workers (the machines have two cores); each starts its own throwaway PostgreSQL.
# loadgroup keeps each xdist_group (the fault suite's) on one worker, in one go.
test: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadgroup --cov --cov-report=term:skip-covered

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy domain application infrastructure
	$(BIN)/codespell

# Each prints figures as ratios against a baseline measured in the same run, and a JSON line.
bench: $(STAMP)
	$(BIN)/python benchmarks/write_path.py
	$(BIN)/python benchmarks/decisions.py
	$(BIN)/python benchmarks/http_check.py

# Development only: appends a generated history to the configured (development) store.
seed: $(STAMP)
	$(BIN)/python -m tools.seed
