# The README's commands. Each target installs what it needs into .venv first, from a lock file
# with hashes: `make plan` only the plan's (requirements-plan.lock), `make test` everything
# (requirements-dev.lock). `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
STACK ?= prod
BIN := $(VENV)/bin
# One stamp per lock: a target reinstalls only when its own lock is newer than its stamp.
PLAN_STAMP := $(VENV)/.installed-plan
DEV_STAMP := $(VENV)/.installed-dev
# Exactly what a lock says: every file checked against its hash, wheels only (nothing is built).
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --only-binary=:all:
# Extra arguments for `uv pip compile`, e.g. LOCK_ARGS=--upgrade or LOCK_ARGS='--upgrade-package pulumi-aws'.
LOCK_ARGS ?=
# Extra arguments for `make plan`, e.g. PLAN_ARGS='--markdown "$$GITHUB_STEP_SUMMARY"' in CI.
PLAN_ARGS ?=
LOCK := $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock' $(LOCK_ARGS)

.DEFAULT_GOAL := help
.PHONY: help venv plan test lint bench lock clean

## help: list the targets
help:
	@sed -n 's/^## \([^:]*\): \(.*\)/\1\t\2/p' $(MAKEFILE_LIST) | awk -F '\t' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(PLAN_STAMP): requirements-plan.lock | $(BIN)/python
	$(PIP_INSTALL) -r requirements-plan.lock
	touch $@

# The dev lock holds the plan lock's pins (`make lock` compiles the one within the other), so
# installing it satisfies the plan too.
$(DEV_STAMP): requirements-dev.lock requirements-plan.lock | $(BIN)/python
	$(PIP_INSTALL) -r requirements-dev.lock
	touch $@ $(PLAN_STAMP)

## venv: create .venv with everything (program, policy pack, tests, linters), as `make test` does
venv: $(DEV_STAMP)

## plan: synthesize STACK (default prod) offline and print its plan (tree, counts, policy results)
plan: $(PLAN_STAMP)
	$(BIN)/python -m blueprint plan $(STACK) $(PLAN_ARGS)

## test: lint, type-check, then the whole test suite on every core
test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/basedpyright --project pyproject.toml
	$(BIN)/python -m pytest -n auto

## lint: ruff and the type checker only
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/basedpyright --project pyproject.toml

## bench: synthesis time per stack against the mock engine's floor, and each stack's deploy critical path
bench: $(PLAN_STAMP)
	$(BIN)/python benchmarks/synth.py
	$(BIN)/python benchmarks/critical_path.py

## lock: rewrite requirements-dev.lock and requirements-plan.lock from the requirements files (needs PyPI)
lock: $(DEV_STAMP)
	$(LOCK) requirements-dev.txt -o requirements-dev.lock
	$(LOCK) requirements-plan.txt --constraint requirements-dev.lock -o requirements-plan.lock

## clean: delete .venv and the tools' caches
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
