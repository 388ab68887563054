"""Run action.yml's composite steps the way the GitHub runner does, on this machine.

Each ``run`` step is a ``bash -e`` process with the step's ``env`` (expressions expanded), a fresh
``GITHUB_OUTPUT`` file whose ``name=value`` lines become ``steps.<id>.outputs``, and
``GITHUB_ACTION_PATH`` set to the action's folder. ``if:`` conditions and ``${{ }}`` expressions
are evaluated for the forms action.yml uses (``inputs.*``, ``steps.*.outputs.*``, ``runner.temp``,
``a || b``, ``x == ''``); anything else raises, so action.yml cannot drift past what is tested.
Of the ``uses`` steps, ``actions/cache`` is emulated with a folder per key (restored before,
saved after, as the real action's post step does) and ``actions/setup-python`` must be skipped
(its condition false: this machine's Python is new enough); any other ``uses`` raises.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class StepRun:
    id: str
    skipped: bool
    returncode: int = 0
    output: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class CompositeRun:
    steps: list[StepRun]
    outputs: dict[str, str]

    def step(self, step_id: str) -> StepRun:
        return next(s for s in self.steps if s.id == step_id)


def action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return loaded


def run_composite(inputs: Mapping[str, str], env: Mapping[str, str], *, cache: Path) -> CompositeRun:
    """Run every step; stop at the first failing one. ``cache`` holds one folder per cache key."""
    meta = action()
    given = {name: spec.get("default", "") for name, spec in meta["inputs"].items()}
    given.update(inputs)
    for name in given:
        assert name in meta["inputs"], f"action.yml has no input {name}"
    context: dict[str, Any] = {"inputs": given, "steps": {}, "runner": {"temp": env["RUNNER_TEMP"]}}
    runs: list[StepRun] = []
    saves: list[tuple[Path, Path]] = []
    for index, step in enumerate(meta["runs"]["steps"]):
        step_id = step.get("id", f"step{index}")
        if "if" in step and not _condition(step["if"], context):
            runs.append(StepRun(step_id, skipped=True))
            context["steps"][step_id] = {"outputs": {}}
            continue
        result = _uses(step, step_id, context, cache, saves) if "uses" in step else _run(step, step_id, context, env)
        runs.append(result)
        context["steps"][step_id] = {"outputs": result.outputs}
        if result.returncode != 0:
            break
    for path, stored in saves:  # the cache action's post step
        if path.is_dir() and not stored.exists():
            shutil.copytree(path, stored, symlinks=True)
    outputs = {name: evaluate(spec["value"], context) for name, spec in meta["outputs"].items()}
    return CompositeRun(runs, outputs)


def _uses(step: Mapping[str, Any], step_id: str, context: Mapping[str, Any], cache: Path,
          saves: list[tuple[Path, Path]]) -> StepRun:
    name = step["uses"].split("@")[0]
    if name != "actions/cache":
        raise AssertionError(f"step {step_id} ({name}) should not run on this machine")
    path = Path(evaluate(step["with"]["path"], context))
    key = evaluate(step["with"]["key"], context)
    stored = cache / key
    hit = stored.is_dir()
    if hit:
        shutil.copytree(stored, path, symlinks=True, dirs_exist_ok=True)
    saves.append((path, stored))
    return StepRun(step_id, skipped=False, outputs={"cache-hit": "true" if hit else "false"})


def _run(step: Mapping[str, Any], step_id: str, context: Mapping[str, Any], env: Mapping[str, str]) -> StepRun:
    assert step.get("shell") == "bash", f"step {step_id}: composite run steps must name their shell"
    output_file = Path(env["RUNNER_TEMP"]) / f"_output_{step_id}"
    output_file.write_text("")
    step_env = {**env, "GITHUB_ACTION_PATH": str(ROOT), "GITHUB_OUTPUT": str(output_file)}
    step_env.update({k: evaluate(str(v), context) for k, v in (step.get("env") or {}).items()})
    script = evaluate(step["run"], context)
    done = subprocess.run(["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
                          env=step_env, cwd=env.get("GITHUB_WORKSPACE"), capture_output=True, text=True,
                          check=False)
    outputs = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
    return StepRun(step_id, skipped=False, returncode=done.returncode, output=done.stdout + done.stderr,
                   outputs=outputs)


def evaluate(text: str, context: Mapping[str, Any]) -> str:
    """``text`` with each ``${{ }}`` replaced by its value."""
    return _EXPRESSION.sub(lambda m: _value(m.group(1), context), text)


def _value(expression: str, context: Mapping[str, Any]) -> str:
    for alternative in expression.split("||"):
        value = _lookup(alternative.strip(), context)
        if value:
            return value
    return ""


def _lookup(path: str, context: Mapping[str, Any]) -> str:
    if not re.fullmatch(r"[a-z]+(\.[\w-]+)+", path):
        raise AssertionError(f"expression not understood by the emulator: {path!r}")
    node: Any = context
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            if path.startswith("steps.") and path.count(".") == 3:
                return ""  # an output the step did not set is empty, as on a runner
            raise AssertionError(f"unknown context value {path!r}")
        node = node[part]
    return str(node)


def _condition(expression: str, context: Mapping[str, Any]) -> bool:
    match = re.fullmatch(r"\s*([\w.-]+)\s*(==|!=)\s*'([^']*)'\s*", expression)
    if not match:
        raise AssertionError(f"condition not understood by the emulator: {expression!r}")
    equal = _lookup(match.group(1), context) == match.group(3)
    return equal if match.group(2) == "==" else not equal
