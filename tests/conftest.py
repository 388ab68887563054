"""Shared pytest fixtures, and the synth prewarm that runs once per session, also under pytest-xdist."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests import prewarm
from tests.synth_cache import APPS_DIR, CACHE_DIR, synth_cached

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
# starts the prewarm as a process of its own (tests/prewarm.py) while every worker, itself
# included, goes on with the tests that need no synthesized app; `synth_app` waits for the lock.
# Files per run: runs sharing a cache don't wait for each other.
_RUN = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Under xdist, hand out tests one or two at a time, so the slow ones placed first (below)
    spread over the workers and the workers end together (xdist's default sends a quarter of
    each worker's share at once: the slow tests would queue on one worker)."""
    if getattr(config.option, "maxschedchunk", 0) is None:
        config.option.maxschedchunk = 1


def _run_files(config: pytest.Config) -> tuple[Path, Path, Path] | None:
    """(lock, done marker, summary lines) of this xdist run; None outside xdist."""
    run = getattr(config, "workerinput", {}).get("testrunuid")
    return _files_of(run) if run else None


def _files_of(run: str) -> tuple[Path, Path, Path]:
    return CACHE_DIR / f".prewarm-{run}.lock", CACHE_DIR / f".prewarm-{run}.done", CACHE_DIR / f".prewarm-{run}.lines"


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
        for line in prewarm.run(plans):
            _report(session.config, line)
        return
    lock, done, lines = files
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another worker is prewarming
        if done.exists():
            return
        # The process inherits the locked descriptor: the lock is held until it exits, and
        # `synth_app` waits for that. This worker goes on with the tests that need no app.
        command = [sys.executable, "-m", "tests.prewarm", "--done", str(done), "--lines", str(lines)]
        _PREWARMING.append(subprocess.Popen(
            [*command, *(["--plans"] if plans else [])], cwd=Path(__file__).resolve().parent.parent,
            pass_fds=(handle.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,  # its lines go to `lines`, for the summary
        ))


_PREWARMING: list[subprocess.Popen[bytes]] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A session stopped early (-x, Ctrl-C) ends its prewarm (the runners see their input close
    and exit); otherwise the prewarm is waited for, as the other workers' tests may need it."""
    stopped = bool(session.shouldfail or session.shouldstop) or exitstatus == pytest.ExitCode.INTERRUPTED
    for process in _PREWARMING:
        if stopped and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        process.wait()


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


def _report(config: pytest.Config, line: str) -> None:
    """Print now (a one-process session's prewarm)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object | None) -> None:
    """xdist's controller: note the run, whose prewarm files the summary reads and removes."""
    run = getattr(node, "workerinput", {}).get("testrunuid")
    if run:
        node.config.stash[_RUN] = run


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    run = config.stash.get(_RUN, None)
    if run is not None:
        lock, done, lines = _files_of(run)
        if lines.is_file():
            for line in lines.read_text(encoding="utf-8").splitlines():
                terminalreporter.write_line(line)
        for path in (lock, done, lines):
            path.unlink(missing_ok=True)
