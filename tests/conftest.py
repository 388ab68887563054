"""Shared pytest fixtures, and the synth prewarm that runs once per session, also under pytest-xdist."""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.plan_synth import prewarm_plan_states
from tests.synth_cache import APPS_DIR, CACHE_DIR, all_apps, default_workers, missing, prewarm, synth_cached

__all__ = ["APPS_DIR"]

# The moto server fixture (`moto_url`) for the AWS tests.
pytest_plugins = ["tests.aws_fixtures"]


@pytest.fixture(scope="session")
def synth_app() -> Callable[[str, str], Path]:
    """``synth_app(name, variant) -> cdk.out folder`` for ``tests/apps/<name>`` (``"example"``: examples/app).

    Runs the app as the pinned cdk CLI does (tests/direct_synth.py); cached under ``tests/.cache/synth``.
    """
    return synth_cached


# A run that collects at least this many tests using real synthesized apps synthesizes
# every missing app up front, several at a time; a targeted run synthesizes on demand.
PREWARM_FROM = 4


# Tests that verify plans by synthesizing their states (tests/plan_synth.py).
PLAN_VERIFYING = (
    "test_app_findings.py", "test_plan_verify.py", "test_pipeline_deploy.py", "test_failure_kinds.py",
)

# Under pytest-xdist each worker collects the same tests: the first to get this lock prewarms
# (with every core), the others wait for it and then find the cache full.
PREWARM_LOCK = CACHE_DIR / ".prewarm.lock"
_MESSAGES = pytest.StashKey[list[str]]()


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, also if the process dies
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pytest_collection_finish(session: pytest.Session) -> None:
    users = [item for item in session.items if "synth_app" in getattr(item, "fixturenames", ())]
    if len(users) < PREWARM_FROM:
        return
    plans = sum(1 for item in users if item.path.name in PLAN_VERIFYING) >= PREWARM_FROM
    # xdist's workers share a run id: once one worker prewarmed, even with failures, the others don't retry.
    run = getattr(session.config, "workerinput", {}).get("testrunuid")
    done = CACHE_DIR / f".prewarmed-run-{run}" if run else None
    with _exclusive(PREWARM_LOCK):
        if done is not None and done.exists():
            return
        for line in _prewarm(plans):
            _report(session.config, line)
        if done is not None:
            done.touch()


def _prewarm(plans: bool) -> list[str]:
    """Synthesize every missing app variant, then (``plans``) every plan state; what was done."""
    lines = []
    workers = default_workers()
    pairs = missing(all_apps())
    if pairs:
        started = time.perf_counter()
        errors = prewarm(pairs, workers)
        lines.append(f"synthesized {len(pairs) - len(errors)} test app variants in "
                     f"{time.perf_counter() - started:.0f}s, {workers} at a time"
                     + (f"; {len(errors)} failed (their tests will say why), first: "
                        f"{next(iter(errors.items()))}" if errors else ""))
    if plans:
        started = time.perf_counter()
        failed = prewarm_plan_states(all_apps(), workers)
        if failed or time.perf_counter() - started > 1:
            problem = (f"; {len(failed)} apps failed (their tests will say why), first: "
                       f"{next(iter(failed.items()))}" if failed else "")
            lines.append(f"synthesized the test apps' plan states in {time.perf_counter() - started:.0f}s, "
                         f"{workers} at a time{problem}")
    return lines


def _report(config: pytest.Config, line: str) -> None:
    """Print now, or on an xdist worker (whose output is not shown) hand the line to the controller."""
    workeroutput: dict[str, Any] | None = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput.setdefault("prewarm", []).append(line)
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object | None) -> None:
    """xdist's controller: keep what a worker prewarmed, for the summary."""
    lines = getattr(node, "workeroutput", {}).get("prewarm", [])
    node.config.stash.setdefault(_MESSAGES, []).extend(lines)
    run = node.workerinput.get("testrunuid") if hasattr(node, "workerinput") else None
    if run:
        (CACHE_DIR / f".prewarmed-run-{run}").unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    for line in config.stash.get(_MESSAGES, []):
        terminalreporter.write_line(line)
