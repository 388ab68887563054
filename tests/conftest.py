"""Shared pytest fixtures, and the synth prewarm that runs once per session, also under pytest-xdist."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest

from tests.plan_synth import prewarm_plan_states
from tests.synth_cache import APPS_DIR, CACHE_DIR, all_apps, default_workers, missing, prewarm, synth_cached

__all__ = ["APPS_DIR"]

# The moto server fixture (`moto_url`) for the AWS tests.
pytest_plugins = ["tests.aws_fixtures"]


@pytest.fixture(scope="session")
def synth_app(request: pytest.FixtureRequest) -> Callable[[str, str], Path]:
    """``synth_app(name, variant) -> cdk.out folder`` for ``tests/apps/<name>`` (``"example"``: examples/app).

    Runs the app as the pinned cdk CLI does (tests/direct_synth.py); cached under ``tests/.cache/synth``.
    Under pytest-xdist, first waits for the worker that prewarms the cache.
    """
    _wait_for_prewarm(request.config)
    return synth_cached


# A run that collects at least this many tests using real synthesized apps synthesizes
# every missing app up front, several at a time; a targeted run synthesizes on demand.
PREWARM_FROM = 4


# Tests that verify plans by synthesizing their states (tests/plan_synth.py).
PLAN_VERIFYING = (
    "test_app_findings.py", "test_plan_verify.py", "test_pipeline_deploy.py", "test_failure_kinds.py",
)

# Under pytest-xdist each worker collects the same tests. The first to take this run's lock
# prewarms in a thread of its own (its synths are child processes) while every worker, itself
# included, goes on with the tests that need no synthesized app; `synth_app` waits for the lock.
# Files per run: runs sharing a cache don't wait for each other.
_MESSAGES = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    """Under xdist, hand out tests one or two at a time, so the slow ones placed first (below)
    spread over the workers and the workers end together (xdist's default sends a quarter of
    each worker's share at once: the slow tests would queue on one worker)."""
    if getattr(config.option, "maxschedchunk", 0) is None:
        config.option.maxschedchunk = 1


def _run_files(config: pytest.Config) -> tuple[Path, Path] | None:
    """(lock, done marker) of this xdist run; None outside xdist."""
    run = getattr(config, "workerinput", {}).get("testrunuid")
    return (CACHE_DIR / f".prewarm-{run}.lock", CACHE_DIR / f".prewarm-{run}.done") if run else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, tests needing no synthesized app go first (they run during the prewarm), and
    within each group the ``slow`` ones first (the longest tests start early, not last)."""
    if _run_files(config) is not None:
        items.sort(key=lambda item: ("synth_app" in getattr(item, "fixturenames", ()),
                                     item.get_closest_marker("slow") is None))


def pytest_collection_finish(session: pytest.Session) -> None:
    users = [item for item in session.items if "synth_app" in getattr(item, "fixturenames", ())]
    if len(users) < PREWARM_FROM:
        return
    plans = sum(1 for item in users if item.path.name in PLAN_VERIFYING) >= PREWARM_FROM
    files = _run_files(session.config)
    if files is None:
        for line in _prewarm(plans):
            _report(session.config, line)
        return
    lock, done = files
    lock.parent.mkdir(parents=True, exist_ok=True)
    handle = lock.open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return  # another worker is prewarming
    # A daemon thread: a session that ends early (-x) does not wait for it; its runners end
    # with this process.
    threading.Thread(target=_prewarm_then_release, args=(session.config, plans, handle, done),
                     name="prewarm", daemon=True).start()


def _prewarm_then_release(config: pytest.Config, plans: bool, handle: IO[str], done: Path) -> None:
    """The prewarming worker's thread; ``handle`` holds the run's lock until it is done."""
    try:
        if not done.exists():
            for line in _prewarm(plans):
                _report(config, line)
            done.touch()
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _wait_for_prewarm(config: pytest.Config) -> None:
    files = _run_files(config)
    if files is None:
        return
    try:
        fd = os.open(files[0], os.O_RDONLY)
    except FileNotFoundError:
        return  # no prewarm in this run (a targeted run), or its files are cleaned up: it is over
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # returns once the prewarming worker let go
    finally:
        os.close(fd)


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
    run = getattr(node, "workerinput", {}).get("testrunuid")
    if run:
        for name in (f".prewarm-{run}.lock", f".prewarm-{run}.done"):
            (CACHE_DIR / name).unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    for line in config.stash.get(_MESSAGES, []):
        terminalreporter.write_line(line)
