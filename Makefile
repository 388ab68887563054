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

# Lint and types first (seconds), then the suite. The test apps are synthesized up front,
# as many at once as there are cores (CDK_EXPORT_GUARD_SYNTH_JOBS), and cached by content
# (CDK_EXPORT_GUARD_TEST_CACHE to share the cache). Locally: 100 fuzz inputs, no corpus;
# CI=true: 10,000 fuzz inputs and the corpus (docs/performance.md). pytest exits 5 when it
# collects nothing; say so plainly instead of failing opaquely.
test: setup
	$(PY) -m ruff check bot tests scripts bench
	$(PY) -m mypy
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
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

clean:
	rm -rf $(VENV) node_modules build tests/.cache
