# The README's commands. Each target creates the virtualenv first if it is missing or stale.
PYTHON ?= python3
VENV ?= .venv
STACK ?= prod
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv plan test lint bench clean

$(STAMP): requirements.txt requirements-dev.txt policies/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(STAMP)

## plan: synthesize $(STACK) offline and print its plan (tree, counts, policy results)
plan: $(STAMP)
	$(BIN)/python -m blueprint plan $(STACK)

## test: lint, type-check, then the whole test suite on every core
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/basedpyright --project pyproject.toml
	$(BIN)/python -m pytest -n auto

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/basedpyright --project pyproject.toml

## bench: synthesis time per stack against the mock engine's floor
bench: $(STAMP)
	$(BIN)/python benchmarks/synth.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
