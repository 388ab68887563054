"""Shared pytest fixtures."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.plan_synth import prewarm_plan_states
from tests.synth_cache import APPS_DIR, all_apps, default_workers, missing, prewarm, synth_cached

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


def pytest_collection_finish(session: pytest.Session) -> None:
    users = [item for item in session.items if "synth_app" in getattr(item, "fixturenames", ())]
    if len(users) < PREWARM_FROM:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    workers = default_workers()
    pairs = missing(all_apps())
    if pairs:
        started = time.perf_counter()
        errors = prewarm(pairs, workers)
        if reporter is not None:
            reporter.write_line(f"synthesized {len(pairs) - len(errors)} test app variants in "
                                f"{time.perf_counter() - started:.0f}s, {workers} at a time"
                                + (f"; {len(errors)} failed (their tests will say why), first: "
                                   f"{next(iter(errors.items()))}" if errors else ""))
    if sum(1 for item in users if item.path.name in PLAN_VERIFYING) >= PREWARM_FROM:
        started = time.perf_counter()
        failed = prewarm_plan_states(all_apps(), workers)
        if reporter is not None and (failed or time.perf_counter() - started > 1):
            problem = (f"; {len(failed)} apps failed (their tests will say why), first: "
                       f"{next(iter(failed.items()))}" if failed else "")
            reporter.write_line(f"synthesized the test apps' plan states in {time.perf_counter() - started:.0f}s, "
                                f"{workers} at a time{problem}")
