"""The tests' caches run apps without the CLI (tests/direct_synth.py): same assembly as ``cdk synth``."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path
from typing import Any

import pytest

from bot.workspace.synth import SynthError, synthesize
from tests.direct_synth import cli_app_environment, merged_context, synthesize_directly
from tests.synth_cache import _cdk_cli, app_dir

pytestmark = pytest.mark.synth


def without_traces(value: Any) -> Any:
    """Metadata holds the JS stack traces of a run (jsii's temporary folders): not content."""
    if isinstance(value, dict):
        return {k: without_traces(v) for k, v in value.items() if k != "trace"}
    if isinstance(value, list):
        return [without_traces(v) for v in value]
    return value


# aws-cdk-lib writes its timings there when a synth runs slowly (seen on a loaded machine).
TIMINGS = "performance-counters.json"


def differences(left: Path, right: Path) -> list[str]:
    files = sorted(p.relative_to(left).as_posix() for p in left.rglob("*") if p.is_file() and p.name != TIMINGS)
    other = sorted(p.relative_to(right).as_posix() for p in right.rglob("*") if p.is_file() and p.name != TIMINGS)
    out = [f"only in one: {sorted(set(files) ^ set(other))}"] if files != other else []
    for name in sorted(set(files) & set(other)):
        a, b = left / name, right / name
        if filecmp.cmp(a, b, shallow=False):
            continue
        if name.endswith(".json") and without_traces(json.loads(a.read_text())) == without_traces(
                json.loads(b.read_text())):
            continue
        out.append(f"differs: {name}")
    return out


# weak_reference: context from cdk.json, a layer asset, a cross-stack weak read.
def test_a_direct_synth_writes_what_cdk_synth_writes(tmp_path: Path) -> None:
    source = app_dir("weak_reference")
    by_cli = synthesize(source, tmp_path / "cli", context={"variant": "head"}, cdk_cli=_cdk_cli()).out_dir
    direct = synthesize_directly(source, tmp_path / "direct", {"variant": "head"}, _cdk_cli())
    assert (direct / "manifest.json").is_file()
    assert differences(by_cli, direct) == []


def test_the_cli_environment_is_learned_not_written_by_hand() -> None:
    variables, added = cli_app_environment(_cdk_cli())
    assert variables["CDK_OUTDIR"] == "{outdir}"
    assert "CDK_CLI_VERSION" in variables and "CDK_CLI_ASM_VERSION" in variables
    assert added.get("aws:cdk:enable-path-metadata") is True  # the analyzer needs construct paths


def test_context_precedence_is_the_clis(tmp_path: Path) -> None:
    (tmp_path / "cdk.context.json").write_text(json.dumps({"a": "file", "b": "file", "c": "file"}))
    (tmp_path / "cdk.json").write_text(json.dumps({"app": "x", "context": {"b": "project", "c": "project"}}))
    merged = merged_context(tmp_path, {"c": "flag"}, {"d": True})
    assert merged == {"a": "file", "b": "project", "c": "flag", "d": True}


def test_a_failing_app_raises_with_its_output(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("raise SystemExit('no such construct')\n")
    with pytest.raises(SynthError) as caught:
        synthesize_directly(tmp_path, tmp_path / "out", {}, _cdk_cli())
    assert "no such construct" in caught.value.log_tail
