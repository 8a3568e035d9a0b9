# flowbt: `make demo` and `make test` each create the virtual environment they need, from nothing.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Every install is pinned by requirements.lock (each transitive package, for Python 3.11 on Linux), so a new release
# on the registry cannot change a result; pyproject.toml keeps ranges for library users. `make lock` refreshes it.
# PIP_CONSTRAINT (not -c) so the pins also hold in pip's isolated build environment (setuptools, wheel).
LOCK := requirements.lock
PIN := PIP_CONSTRAINT=$(CURDIR)/$(LOCK)
# Reinstall when pyproject.toml or the lock changes.
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
BENCH_STAMP := $(VENV)/.bench-installed
export MPLBACKEND := Agg
# One numba cache for the project (kernels compile once, then load from disk; CI keeps this folder).
export NUMBA_CACHE_DIR := $(CURDIR)/.numba_cache
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test lint unit regress bench calibrate clean lock

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "flowbt needs Python >= 3.11, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(PIN) $(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml $(LOCK) | $(BIN)/python
	$(PIN) $(BIN)/python -m pip install --quiet -e .
	@touch $@

$(DEV_STAMP): pyproject.toml $(LOCK) | $(BIN)/python
	$(PIN) $(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(RUNTIME_STAMP) $@

$(BENCH_STAMP): pyproject.toml $(LOCK) | $(BIN)/python
	$(PIN) $(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $(RUNTIME_STAMP) $(DEV_STAMP) $@

# Resolve pyproject.toml's ranges afresh (every extra) in a throw-away venv and pin the result.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	.lock-venv/bin/python -m pip install --quiet -e '.[dev,bench,dask]'
	{ echo "# Pinned environment of flowbt (Python 3.11, Linux x86-64): every package of .[dev,bench,dask], transitively."; \
	  echo "# Written by \`make lock\` from pyproject.toml's ranges; \`make demo\`/\`make test\` install with these pins."; \
	  .lock-venv/bin/python -m pip freeze --all --exclude-editable | grep -v '^flowbt' | LC_ALL=C sort -f; } > $(LOCK)
	rm -rf .lock-venv

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

# The sweep verdict's false-positive rate and power over 100 seeds x 3 strengths x 4 strategies (~15 min).
calibrate: $(DEV_STAMP)
	$(BIN)/python -m benchmarks.calibration --seeds 1000:1100

clean:
	rm -rf $(VENV) results/demo results/runs
