# Leitstand: `make run` starts the platform, `make test` runs the suite.
# Both set up everything they need first (virtualenv, pinned dependencies).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export LEITSTAND_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test setup lint typecheck check lock messages clean scenarios demo

ASSETS := src/leitstand/static/vendor/.built

setup: $(STAMP) $(ASSETS)

# htmx and uPlot, pinned in package-lock.json, copied into static/vendor (never a CDN).
$(ASSETS): package.json package-lock.json scripts/build-assets
	./scripts/build-assets
	touch $(ASSETS)

# Recreate the environment whenever the lock or the project metadata changes.
$(STAMP): requirements.lock pyproject.toml agent/pyproject.toml scripts/setup-debian
	./scripts/setup-debian
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e ./agent -e .
	touch $(STAMP)

run: setup
	LEITSTAND_DEBUG=1 $(BIN)/leitstand migrate --no-input
	LEITSTAND_DEBUG=1 $(BIN)/leitstand demo
	LEITSTAND_DEBUG=1 $(BIN)/leitstand run

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

scenarios: setup
	$(BIN)/leitstand scenarios check ../shared/scenarios/*.yaml

lint: setup
	$(BIN)/ruff check src tests agent
	$(BIN)/ruff format --check src tests agent

typecheck: setup
	$(BIN)/mypy

check: lint typecheck test

# Re-pin every dependency after changing pyproject.toml.
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet -e ./agent -e '.[dev]'
	.lockenv/bin/pip freeze --exclude-editable | sort > requirements.lock
	rm -rf .lockenv

messages: setup
	cd src/leitstand && ../../$(BIN)/leitstand makemessages -l de --no-obsolete --no-location
	cd src/leitstand && ../../$(BIN)/leitstand compilemessages

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
