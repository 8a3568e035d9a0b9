# flowbt: `make demo` and `make test` each create the virtual environment they need, from nothing.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Reinstall when pyproject.toml changes.
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
BENCH_STAMP := $(VENV)/.bench-installed
export MPLBACKEND := Agg
# One numba cache for the project (kernels compile once, then load from disk; CI keeps this folder).
export NUMBA_CACHE_DIR := $(CURDIR)/.numba_cache
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test lint unit regress bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "flowbt needs Python >= 3.11, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(RUNTIME_STAMP) $@

$(BENCH_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $(RUNTIME_STAMP) $(DEV_STAMP) $@

demo: $(RUNTIME_STAMP)
	$(BIN)/flowbt demo

lint: $(DEV_STAMP)
	$(BIN)/ruff check research strategies tests benchmarks

# Two workers (this machine has 2 cores); a test file stays on one worker (module fixtures, shared files).
unit: $(DEV_STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

regress: $(DEV_STAMP)
	$(BIN)/flowbt regress --quiet --junit results/regress-report.xml --markdown results/regress-report.md

# Lint, unit/property/browser tests and the notebooks, then the strategy regressions against results/baselines.
test: lint unit regress

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) results/demo results/runs
