# Blockbuilders Workbench — the two commands are `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
UV := $(PY) -m uv
export NUMBA_CACHE_DIR ?= $(CURDIR)/.cache/numba
# Byte-code caches make every process (CLI, kernels, papermill ticks) start faster.
export PYTHONDONTWRITEBYTECODE :=


.PHONY: demo test install warm system-deps js lint pytest docs docs-build dist bench lock clean

## install: .venv with the pinned lock (requirements.lock) and the package itself (editable)
install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@$(UV) --version >/dev/null 2>&1 || $(PY) -m pip install --quiet uv
	@test -x $(VPY) || $(UV) venv --quiet -p $(PY) $(VENV)
	$(UV) pip install --quiet --compile-bytecode -p $(VPY) -r requirements.lock
	$(UV) pip install --quiet -p $(VPY) --no-deps -e .
	$(VPY) -m compileall -q workbench
	@touch $@

## warm: compile every numba kernel once into NUMBA_CACHE_DIR (later processes load it)
warm: install
	$(VPY) -m workbench.engine.warmup

## lock: re-pin every dependency, every extra and the dev group (after editing pyproject.toml)
lock:
	$(UV) pip compile pyproject.toml --all-extras --group dev -p 3.11 -o requirements.lock --no-header --quiet
	$(PY) tools/sync_environment.py

## system-deps: Debian packages the tests need (Chromium, PostgreSQL 15 + pgTAP)
system-deps:
	@if ! command -v chromium >/dev/null || ! test -x /usr/lib/postgresql/15/bin/initdb || ! command -v pg_prove >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    chromium postgresql-15 postgresql-15-pgtap >/dev/null; \
	fi

## js: build the front ends (needs Node for developers and CI only; users get them prebuilt)
js: install
	@if [ -f extensions/canvas/package.json ]; then $(MAKE) -C extensions/canvas build; fi
	@if [ -f extensions/jupyterlab/package.json ]; then $(MAKE) -C extensions/jupyterlab build VPY=$(abspath $(VPY)); fi

## docs-build: the documentation site into site/ (mkdocs --strict: warnings fail it)
docs-build: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

## docs: serve the documentation site locally (http://127.0.0.1:8000)
docs: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve

## dist: sdist, then the wheel built FROM the sdist (what users install), into dist/
dist: js
	rm -rf dist && $(UV) build --sdist --out-dir dist && $(UV) build --wheel --out-dir dist dist/*.tar.gz

lint: install
	$(VENV)/bin/ruff check workbench tests bench tools
	$(VENV)/bin/mypy workbench

pytest: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## test: everything the tests need, then lint, types and the whole suite
test: install system-deps js lint docs-build warm pytest

## demo: sample candles -> starter strategies -> paper run -> the app (prints its URL)
demo: install js warm
	WORKBENCH_HOME=$${WORKBENCH_HOME:-$(CURDIR)/.workbench} $(VPY) -m workbench.demo

## bench: speed against vectorbt and backtesting.py (figures and ratios; not part of test)
bench: install
	$(VPY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .cache .workbench site dist
