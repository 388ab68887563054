# One entry point for people and CI. `make demo` and `make test` set everything up first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
EXAMPLE_OUT := build/example

.PHONY: setup demo test lint bench clean

$(STAMP): requirements.lock pyproject.toml package.json package-lock.json
	@echo "==> creating $(VENV) and installing pinned Python packages (first run: ~1-2 min)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@echo "==> installing the pinned aws-cdk CLI (npm ci)"
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

setup: $(STAMP)

# Synthesize the bundled example at base and head with the real cdk CLI, then report.
demo: setup
	$(PY) -m bot synth --app-dir examples/app --out $(EXAMPLE_OUT)/base -c variant=base
	$(PY) -m bot synth --app-dir examples/app --out $(EXAMPLE_OUT)/head -c variant=head
	$(PY) -m bot analyze --base $(EXAMPLE_OUT)/base --head $(EXAMPLE_OUT)/head --source examples/app --fail-on never

# Lint and types first (seconds), then the suite. pytest exits 5 when it collects
# nothing; say so plainly instead of failing opaquely.
test: setup
	$(PY) -m ruff check bot tests scripts bench
	$(PY) -m mypy
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

lint: setup
	$(PY) -m ruff check bot tests scripts
	$(PY) -m mypy

# A generated 200-stack app (~40,000 resources): analysis time against the JSON floor and
# the per-stack `cdk diff` loop, peak memory, scaling 1x/4x/16x; several minutes.
# BENCH_ARGS="--quick" for a small run, "--json" for the numbers, "--profile" for hot spots.
bench: setup
	$(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules build tests/.cache
