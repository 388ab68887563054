"""Synthesize a test app the way ``cdk synth`` does, without starting the CLI each time.

``cdk synth`` runs the app command with a few environment variables (``CDK_OUTDIR``,
``CDK_CONTEXT_JSON``, the CLI's and the assembly schema's versions, the default region)
and the app's own aws-cdk-lib writes the cloud assembly. The CLI's own start-up is
about half of a small synth's CPU time here (~2.5 of ~5.5 s), so the tests' caches run
the app directly, with exactly the environment the pinned CLI gives an app: that
environment is learned once per CLI version from a real ``cdk synth`` whose app only
records it (``probe``), never written by hand. The context is merged as the CLI merges
it: ``cdk.context.json``, then ``cdk.json``'s ``context``, then ``-c`` pairs, then the
keys the CLI adds (path and asset metadata, version reporting off, bundling).

The product always runs the real CLI (``bot/workspace/synth.py``). ``tests/test_direct_synth.py``
checks that a direct synth writes the same assembly as the CLI, file by file.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.workspace import synth

# What a probe app passes as -c: told apart from what the CLI adds.
_PROBE_CONTEXT = {"cdk-export-guard-probe": "1"}
_RECORDER = "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))"


@functools.cache
def cli_app_environment(cdk_cli: str) -> tuple[dict[str, str], dict[str, Any]]:
    """(the CDK_* variables the CLI sets for an app, the context keys it adds), from one probe.

    Variables naming the probe's output folder hold ``{outdir}`` instead.
    """
    with tempfile.TemporaryDirectory(prefix="cdk-cli-probe-") as scratch:
        folder = Path(scratch)
        record, out = folder / "env.json", folder / "cdk.out"
        app = f"{sys.executable} -c \"{_RECORDER}\" {record}"
        try:  # the app writes no assembly, so the CLI fails after the app ran: expected
            synth.synthesize(folder, out, app_command=app, context=_PROBE_CONTEXT, cdk_cli=cdk_cli,
                             timeout_seconds=120)
        except synth.SynthError as exc:
            if not record.is_file():
                raise synth.SynthError(f"the cdk CLI did not run the probe app: {exc}", exc.log_tail) from None
        seen: dict[str, str] = json.loads(record.read_text(encoding="utf-8"))
    context = json.loads(seen.pop("CDK_CONTEXT_JSON", "{}"))
    added = {k: v for k, v in context.items() if k not in _PROBE_CONTEXT}
    variables = {k: v.replace(str(out), "{outdir}") for k, v in seen.items()
                 if k.startswith("CDK_") and k not in synth.cli_environment(None)}
    return variables, added


def merged_context(app_dir: Path, context: Mapping[str, str], added: Mapping[str, Any]) -> dict[str, Any]:
    """The context the CLI hands the app: files first, then ``-c`` pairs, then its own keys."""
    merged: dict[str, Any] = {}
    context_file = app_dir / "cdk.context.json"
    if context_file.is_file():
        merged.update(json.loads(context_file.read_text(encoding="utf-8")))
    config_file = app_dir / "cdk.json"
    if config_file.is_file():
        merged.update(json.loads(config_file.read_text(encoding="utf-8")).get("context") or {})
    merged.update(context)
    merged.update(added)
    return merged


def app_environment(out_dir: Path, cdk_cli: str, extra_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment ``cdk synth`` gives an app writing into ``out_dir`` (absolute), its context aside."""
    variables, _ = cli_app_environment(cdk_cli)
    env = synth.cli_environment(extra_env)
    env.update({k: v.replace("{outdir}", str(out_dir)) for k, v in variables.items()})
    return env


def cli_context(app_dir: Path, context: Mapping[str, str], cdk_cli: str) -> dict[str, Any]:
    """The context ``cdk synth -c ...`` hands the app in ``app_dir`` (``CDK_CONTEXT_JSON``)."""
    return merged_context(app_dir, context, cli_app_environment(cdk_cli)[1])


def synthesize_directly(app_dir: Path, out_dir: Path, context: Mapping[str, str], cdk_cli: str,
                        extra_env: Mapping[str, str] | None = None, timeout_seconds: float = 600) -> Path:
    """Run the app in ``app_dir`` as ``cdk synth`` would; the assembly folder.

    A Python app (``app.py``) runs with this interpreter; any other with its cdk.json's ``app``
    command, through a shell as the CLI runs it (``node app.ts``: Node from .venv, first on
    the environment's PATH)."""
    out_dir = out_dir.resolve()
    env = app_environment(out_dir, cdk_cli, extra_env)
    env["CDK_CONTEXT_JSON"] = json.dumps(cli_context(app_dir, context, cdk_cli))
    if (app_dir / "app.py").is_file():
        command: list[str] | str = [sys.executable, "app.py"]
    else:
        command = json.loads((app_dir / "cdk.json").read_text(encoding="utf-8"))["app"]
    completed = subprocess.run(
        command, shell=isinstance(command, str), cwd=app_dir, env=env, capture_output=True, text=True,
        timeout=timeout_seconds, stdin=subprocess.DEVNULL, check=False,
    )
    if completed.returncode != 0 or not (out_dir / "manifest.json").is_file():
        tail = "\n".join((completed.stdout + completed.stderr).splitlines()[-synth.LOG_TAIL_LINES:])
        raise synth.SynthError(f"the app failed with exit code {completed.returncode}", tail)
    return out_dir


def recipe() -> bytes:
    """What a cache key must cover of how the tests synthesize: this file."""
    return Path(__file__).read_bytes()
