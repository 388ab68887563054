"""Synthesize every missing test-app variant, then every plan state, before the tests use them.

Run inline by ``tests/conftest.py`` in a one-process session; under pytest-xdist, the worker
that takes the run's lock runs this module as a process of its own
(``python -m tests.prewarm --done DONE --lines LINES [--plans]``), handing it the lock's file
descriptor, and goes on with the tests that need no app. A process of its own, not a thread:
tests change ``os.environ`` (``monkeypatch.setenv("PATH", ...)``), and a synth started in
that moment would carry it; this process keeps the environment the session had when it began.
"""

from __future__ import annotations

import argparse
import time
import traceback
from pathlib import Path

from tests.plan_synth import prewarm_plan_states
from tests.synth_cache import all_apps, default_workers, missing, prewarm


def run(plans: bool) -> list[str]:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.prewarm")
    parser.add_argument("--plans", action="store_true", help="also every plan state")
    parser.add_argument("--done", type=Path, required=True, help="touched once everything is synthesized")
    parser.add_argument("--lines", type=Path, required=True, help="what was done, one line each, for the summary")
    args = parser.parse_args(argv)
    try:
        lines = run(args.plans)
    except Exception:  # noqa: BLE001 - the tests synthesize what they need anyway; say why here
        lines = ["the synth prewarm failed (the tests synthesize on demand): "
                 + traceback.format_exc().strip().splitlines()[-1]]
    else:
        args.done.touch()
    args.lines.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
