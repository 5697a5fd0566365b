# critmat — two commands: `make run` and `make test` (each sets everything up first).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CRITMAT := $(BIN)/critmat
STAMP := $(VENV)/.installed-stamp

.PHONY: run test setup data lint typecheck pytest bench report clean

run: setup data  ## set up, pull the default data if absent, write the HTML report
	$(CRITMAT) report

test: setup data lint typecheck pytest  ## set up, then ruff, mypy and the whole pytest suite

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "critmat needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

data: setup  ## pull and import the default dataset (no-op when already current)
	$(CRITMAT) data ensure

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest -n 2 --dist loadfile -q

bench: setup data  ## benchmarks (figures are printed, not asserted)
	$(BIN)/python benchmarks/indicators.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
