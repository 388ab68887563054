"""Synthesize the Python test apps in a few long-lived processes instead of one process each.

A direct synth (``tests/direct_synth.py``) costs about 3 s of CPU, most of it Python
importing aws_cdk and jsii's Node kernel loading aws-cdk-lib, not the app. A runner
(``tests/synth_runner.py``) pays that once and then synthesizes app after app, each with
the environment and context the CLI gives it (its docstring says how the result stays the
CLI's; ``tests/test_direct_synth.py`` compares them file by file).

``RunnerPool.synthesize`` takes an idle runner started for the same extra environment
(aws-cdk-lib reads Node's environment, fixed when the runner starts), or starts one. When a
runner cannot synthesize an app (the app fails, or needs what a shared process cannot give
it), that runner is ended, never reused, and the app is synthesized alone by
``synthesize_directly``: a failing app fails with the same message as before, and a runner
never carries one app's leftovers into the next after an error.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import select
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.direct_synth import app_environment, cli_context, synthesize_directly
from tests.synth_runner import ASSEMBLY, CONTEXT_FILE_ENV

RUNNER_SCRIPT = Path(__file__).with_name("synth_runner.py")
# jsii's kernel keeps every object an app created until the process ends (measured: Node
# and Python together 255 MB after the first test app, 331 MB after 62): a fresh runner after
# this many apps keeps that bounded, for about 3 s of CPU.
SYNTHS_PER_RUNNER = 100
START_SECONDS = 300.0
EnvKey = tuple[tuple[str, str], ...]


class RunnerError(Exception):
    """A runner did not synthesize an app; the app is synthesized alone instead."""


class Runner:
    """One ``tests/synth_runner.py`` process, its scratch folder, and its answers."""

    def __init__(self, extra_env: EnvKey, cdk_cli: str, scratch_root: Path) -> None:
        self.extra_env, self.cdk_cli, self.synths = extra_env, cdk_cli, 0
        scratch_root.mkdir(parents=True, exist_ok=True)
        self.scratch = Path(tempfile.mkdtemp(prefix="runner-", dir=scratch_root)).resolve()
        self.app_env = app_environment(self.scratch / ASSEMBLY, cdk_cli, dict(extra_env))
        self._log = (self.scratch / "runner.log").open("w+b")
        self._process = subprocess.Popen(
            [sys.executable, str(RUNNER_SCRIPT), str(self.scratch)], cwd=self.scratch,
            env={**self.app_env, CONTEXT_FILE_ENV: str(self.scratch / "context.json")},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True, start_new_session=True,
        )
        try:
            self._answer(START_SECONDS)
        except RunnerError:
            self.close()
            raise

    def synthesize(self, app_dir: Path, out_dir: Path, context: Mapping[str, str], timeout_seconds: float) -> None:
        env = {**self.app_env, "CDK_CONTEXT_JSON": json.dumps(cli_context(app_dir, context, self.cdk_cli))}
        request = {"app": str(app_dir.resolve()), "env": env, "out": str(out_dir),
                   "context": cli_context(app_dir, context, self.cdk_cli)}
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
        except OSError as exc:
            raise RunnerError(f"the runner is gone: {exc}") from None
        self._answer(timeout_seconds)
        self.synths += 1

    def _answer(self, timeout_seconds: float) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], timeout_seconds)
        line = stdout.readline() if ready else ""
        if not line:
            raise RunnerError("timed out" if not ready else f"the runner exited: {self._log_tail()}")
        answer: dict[str, Any] = json.loads(line)
        if not answer.get("ok"):
            raise RunnerError(str(answer.get("error", "no reason given")))

    def _log_tail(self) -> str:
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-2000:]

    def close(self) -> None:
        """End the process (its stdin closed, then killed if it lingers) and remove its scratch folder."""
        with contextlib.suppress(OSError):
            if self._process.stdin is not None:
                self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._log.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


class RunnerPool:
    """Idle runners shared by threads; one app at a time per runner."""

    def __init__(self, scratch_root: Path, max_idle: int = 2) -> None:
        self.scratch_root, self.max_idle = scratch_root, max_idle
        self.counts: Counter[str] = Counter()  # "batched", "alone": how each app was synthesized
        self._idle: list[Runner] = []
        self._lock = threading.Lock()

    def synthesize(self, app_dir: Path, out_dir: Path, context: Mapping[str, str], cdk_cli: str,
                   extra_env: Mapping[str, str] | None = None, timeout_seconds: float = 600) -> Path:
        """Write the assembly ``cdk synth`` would write for the app in ``app_dir`` into ``out_dir``."""
        out_dir = out_dir.resolve()
        key: EnvKey = tuple(sorted((extra_env or {}).items()))
        runner = self._take(key, cdk_cli)
        try:
            if runner is None:
                runner = Runner(key, cdk_cli, self.scratch_root)
            runner.synthesize(app_dir, out_dir, context, timeout_seconds)
        except RunnerError:
            if runner is not None:
                runner.close()
            shutil.rmtree(out_dir, ignore_errors=True)
            self._count("alone")
            return synthesize_directly(app_dir, out_dir, context, cdk_cli, extra_env, timeout_seconds)
        self._count("batched")
        self._give_back(runner)
        return out_dir

    def close(self) -> None:
        """End the idle runners (a running one ends when its thread gives it back to a closed pool)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for runner in idle:
            runner.close()

    def _take(self, key: EnvKey, cdk_cli: str) -> Runner | None:
        with self._lock:
            for runner in self._idle:
                if runner.extra_env == key and runner.cdk_cli == cdk_cli:
                    self._idle.remove(runner)
                    return runner
        return None

    def _give_back(self, runner: Runner) -> None:
        retired = [runner] if runner.synths >= SYNTHS_PER_RUNNER else []
        with self._lock:
            if not retired:
                self._idle.append(runner)
            while len(self._idle) > self.max_idle:
                retired.append(self._idle.pop(0))
        for old in retired:
            old.close()

    def _count(self, how: str) -> None:
        with self._lock:
            self.counts[how] += 1


def pool(scratch_root: Path, max_idle: int) -> RunnerPool:
    """This process's pool (made on first use), ended when the process exits."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = RunnerPool(scratch_root, max_idle)
            atexit.register(_POOL.close)
        return _POOL


_POOL: RunnerPool | None = None
_POOL_LOCK = threading.Lock()


def recipe() -> bytes:
    """What a cache key must cover of how the runners synthesize: both sides of the protocol."""
    return Path(__file__).read_bytes() + RUNNER_SCRIPT.read_bytes()
