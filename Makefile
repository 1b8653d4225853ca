# Two commands for people: `make demo` and `make test`. The rest are steps they use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := .tools/bin/uv
# Never fetch a Python build: the machine's python3 (>= 3.11) is the one to use.
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3
CI ?=

.PHONY: help install install-dev demo serve test test-sqlite lint bench bundle clean

help:
	@echo "make demo   install what is needed and run warnflow with demo data on http://127.0.0.1:8000"
	@echo "make test   install the dev tools and run the whole suite (SQLite and PostgreSQL)"

$(UV):
	@bash infra/setup/ensure-uv.sh

# --inexact keeps the dev tools a developer already installed.
install: $(UV)
	@bash infra/setup/system-packages.sh runtime
	@$(UV) sync --frozen --inexact --quiet

install-dev: $(UV)
	@bash infra/setup/system-packages.sh test
	@$(UV) sync --frozen --extra dev --quiet

demo: install
	@$(UV) run --frozen --no-sync warnflow demo

# The import rule first: a wrong-way import fails the suite before any test runs.
test: install-dev
	@$(UV) run --frozen --no-sync lint-imports --no-cache
	@$(UV) run --frozen --no-sync pytest $(PYTEST_ARGS)

# Quicker loop while developing; CI always runs `make test`.
test-sqlite: install-dev
	@WARNFLOW_TEST_BACKENDS=sqlite $(UV) run --frozen --no-sync pytest -m "not slow" $(PYTEST_ARGS)

# ruff, then the import rule (the contracts in pyproject.toml [tool.importlinter]).
lint: install-dev
	@$(UV) run --frozen --no-sync ruff check .
	@$(UV) run --frozen --no-sync lint-imports --no-cache

bench: install-dev
	@$(UV) run --frozen --no-sync python bench/generate.py --cases 1000000
	@$(UV) run --frozen --no-sync python bench/transitions.py

# The offline installer for machines that reach no registry (infra/README.md): builds
# var/bundle/warnflow-bundle-<version>.tar.gz; WITH_TEST_PACKAGES=1 adds chromium, poppler-utils.
bundle: $(UV)
	@bash infra/bundle.sh

clean:
	rm -rf .venv .tools var .pytest_cache .hypothesis
