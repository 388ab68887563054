"""`cdk diff` per changed stack, offline: head assembly against the base template file."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bot.core.model import AnalysisResult
from bot.core.secrets import MASK, mask_text, secret_path
from bot.workspace.synth import SynthError, cli_environment, find_cdk_cli

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
    # NoEcho defaults are secret whatever they look like; the CLI prints them in parameter diffs.
    known = [str(p.default) for stack in (*base_by_name.values(), *head_by_name.values())
             for p in stack.parameters.values() if p.no_echo and p.default is not None]
    out = []
    for summary in [s for s in result.stacks if s.status == "changed"][:MAX_STACKS]:
        base, head = base_by_name.get(summary.stack_name), head_by_name.get(summary.stack_name)
        if base is None or head is None:
            continue
        # --exclusively: with a fixed template the CLI compares exactly one stack, and
        # without it a stack's dependencies are selected too ("Can only select one stack").
        command = [cli, "diff", "--app", str(head_dir), "--template", str(base_dir / base.template_file),
                   "--no-color", "--exclusively", head.hierarchical_id]
        env = cli_environment({"CDK_DISABLE_VERSION_CHECK": "1", "CI": "true", "NO_COLOR": "1"})
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_seconds, env=env,
                                  stdin=subprocess.DEVNULL, check=False)
            # Templates carry NoEcho defaults, tokens and passwords that the CLI prints as they are.
            text = mask_text(mask_tree(_ANSI.sub("", done.stdout + done.stderr).strip()), known)
        except subprocess.TimeoutExpired:
            text = f"cdk diff timed out after {timeout_seconds:.0f}s"
        out.append(StackDiffText(summary.stack_name, text))
    return out


_TREE_LINE = re.compile(r"^(?P<indent>[\s│├└─]*)(?:\[(?P<sign>[-+~ ])\]\s*)?(?P<rest>.*)$")


def mask_tree(text: str) -> str:
    """Values the CLI prints on their own lines under a secret-named key, masked::

        └─ [~] .DB_PASSWORD:
            ├─ [-] old-password      ->  ├─ [-] ****
            └─ [+] new-password      ->  └─ [+] ****
    """
    out: list[str] = []
    secret_above: list[int] = []  # indents of the secret-named keys we are under
    for line in text.split("\n"):
        match = _TREE_LINE.match(line)
        if match is None or not match["rest"]:
            out.append(line)
            continue
        indent = len(match["indent"])
        while secret_above and secret_above[-1] >= indent:
            secret_above.pop()
        rest = match["rest"]
        key = rest[:-1].lstrip(".") if rest.endswith(":") else None
        if key is not None and secret_path([key]):
            secret_above.append(indent)
        elif secret_above and match["sign"] in ("-", "+"):
            line = line[: match.start("rest")] + MASK
        out.append(line)
    return "\n".join(out)
