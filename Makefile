# ParkFlow: `make demo` runs the platform, `make test` runs the whole test suite.
# Both set everything up first: a virtualenv in .venv with the pinned dependencies.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PIP    := $(BIN)/python -m pip --disable-pip-version-check

.DEFAULT_GOAL := help
.PHONY: help install browser test lint format demo bench bench-more bench-reliability bench-demo lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -c constraints.txt -e ".[dev,bench]"
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install ParkFlow with pinned dependencies

# The dashboards' browser tests drive Debian's chromium (never `playwright install`).
CHROMIUM := /usr/bin/chromium
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(CHROMIUM):
	$(SUDO) apt-get install -y -qq chromium || \
	  ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

browser: $(CHROMIUM)  ## install Debian's chromium for the browser tests (when missing)

test: install $(CHROMIUM)  ## run the whole test suite (unit, integration, end-to-end)
	$(BIN)/python -m pytest --ignore=tests/dashboards
	@# Playwright's sync API keeps an event loop running in the main thread for the whole
	@# session (asyncio.run then fails in later tests): the browser tests get their own process
	$(BIN)/python -m pytest tests/dashboards

lint: install  ## ruff check + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install  ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

demo: install  ## run the whole platform on the embedded defaults (Ctrl-C stops it)
	$(BIN)/parkflow up --history 28 --simulate

bench: install $(CHROMIUM)  ## the performance targets, measured, in one table (18-25 min)
	$(BIN)/python benchmarks/targets.py

bench-more: install $(CHROMIUM)  ## the other speed figures: import, parsing, Faust per message, dbt at 1M-50M, dashboards at 10M
	$(BIN)/python benchmarks/import_speed.py
	$(BIN)/python benchmarks/parse.py
	$(BIN)/python benchmarks/faust_hop.py
	$(BIN)/python benchmarks/dbt_scale.py
	$(BIN)/python benchmarks/dbt_floor.py --events 50000000 --base data/benchmarks/dashboard/base
	$(BIN)/python benchmarks/dashboard.py

bench-reliability: install  ## crash recovery (10 kills) and the 30-minute soak
	$(BIN)/python benchmarks/crash_recovery.py
	$(BIN)/python benchmarks/soak.py

bench-demo: install $(CHROMIUM)  ## `make demo` started for 5 seeds: time to lag 0 and to every page with data (about 1 h)
	$(BIN)/python benchmarks/demo_settle.py --runs 5

lock:  ## re-resolve the dependencies into constraints.txt (in a scratch venv)
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e ".[dev,bench]"
	.lock-venv/bin/pip freeze --exclude-editable | grep -v '^-e ' > constraints.txt
	rm -rf .lock-venv

clean:  ## remove the venv, caches and generated data
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis data
