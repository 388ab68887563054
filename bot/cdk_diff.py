"""`cdk diff` per changed stack, offline: head assembly against the base template file."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bot.model import AnalysisResult
from bot.synth import SynthError, find_cdk_cli

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
MAX_STACKS = 20  # each diff costs a CLI start (~1.5 s); the comment has room for a few


@dataclass(frozen=True)
class StackDiffText:
    stack: str
    text: str


def changed_stack_diffs(result: AnalysisResult, base_dir: Path, head_dir: Path,
                        timeout_seconds: float = 120) -> list[StackDiffText]:
    """The CLI's own diff of each stack that changed and exists on both sides."""
    try:
        cli = find_cdk_cli()
    except SynthError as exc:
        return [StackDiffText("(all)", f"cdk diff was not run: {exc}")]
    base_by_name = {s.stack_name: s for s in result.base.stacks.values()}
    head_by_name = {s.stack_name: s for s in result.head.stacks.values()}
    out = []
    for summary in [s for s in result.stacks if s.status == "changed"][:MAX_STACKS]:
        base, head = base_by_name.get(summary.stack_name), head_by_name.get(summary.stack_name)
        if base is None or head is None:
            continue
        # --exclusively: with a fixed template the CLI compares exactly one stack, and
        # without it a stack's dependencies are selected too ("Can only select one stack").
        command = [cli, "diff", "--app", str(head_dir), "--template", str(base_dir / base.template_file),
                   "--no-color", "--exclusively", head.hierarchical_id]
        env = {**os.environ, "CDK_DISABLE_VERSION_CHECK": "1", "CI": "true", "NO_COLOR": "1"}
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_seconds, env=env,
                                  stdin=subprocess.DEVNULL, check=False)
            text = _ANSI.sub("", done.stdout + done.stderr).strip()
        except subprocess.TimeoutExpired:
            text = f"cdk diff timed out after {timeout_seconds:.0f}s"
        out.append(StackDiffText(summary.stack_name, text))
    return out
