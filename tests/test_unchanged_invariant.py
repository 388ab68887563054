"""The invariant: when base equals head, nothing is reported.

Checked over every assembly the tests have: the synthesized test apps (both variants),
the bundled example, the real corpus when it is present, bench-generated apps, and
random hand-built ones that mix explicit and environment-agnostic stacks.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.generate import generate
from bot.core.analysis import analyze
from bot.core.assembly import AssemblyError, load_assembly
from tests.corpus import ECOM, requires_corpus
from tests.synth_cache import APPS_DIR
from tests.test_properties import templates
from tests.tiers import examples

APPS = sorted(p.name for p in APPS_DIR.iterdir() if (p / "cdk.json").is_file()) + ["example"]


def assert_nothing_reported(assembly_dir: Path) -> None:
    result = analyze(load_assembly(assembly_dir), load_assembly(assembly_dir))
    assert [(f.rule, f.message) for f in result.findings] == []


@pytest.mark.synth
@pytest.mark.parametrize("variant", ["base", "head"])
@pytest.mark.parametrize("name", APPS)
def test_a_test_app_against_itself_reports_nothing(
    synth_app: Callable[[str, str], Path], name: str, variant: str
) -> None:
    assert_nothing_reported(synth_app(name, variant))


@requires_corpus
def test_every_corpus_assembly_against_itself_reports_nothing() -> None:
    commits = [p for p in sorted(ECOM.iterdir()) if (p / "manifest.json").is_file()]
    assert commits, f"no assemblies under {ECOM}"
    for commit in commits:
        assert_nothing_reported(commit)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_generated_app_against_itself_reports_nothing(tmp_path: Path, seed: int) -> None:
    base, head = generate(tmp_path, stacks=12, resources_per_stack=6, references=12, seed=seed)
    assert_nothing_reported(base)
    assert_nothing_reported(head)


ENVIRONMENTS = ["aws://1/us-east-1", "aws://1/us-west-2", "aws://2/us-east-1", "aws://unknown-account/unknown-region"]
stacks = st.lists(
    st.tuples(templates, st.sampled_from(ENVIRONMENTS), st.sampled_from(["S0", "S1", "S2", "Shared"])),
    min_size=1, max_size=4,
)


def write(directory: Path, specs: list[tuple[dict[str, Any], str, str]]) -> Path:
    directory.mkdir()
    artifacts = {}
    for i, (template, environment, stack_name) in enumerate(specs):
        (directory / f"A{i}.template.json").write_text(json.dumps(template))
        artifacts[f"A{i}"] = {"type": "aws:cloudformation:stack", "environment": environment,
                              "properties": {"templateFile": f"A{i}.template.json", "stackName": stack_name},
                              "dependencies": [f"A{j}" for j in range(i)]}
    (directory / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}))
    return directory


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=stacks)
def test_a_random_app_against_itself_reports_nothing(specs: list[tuple[dict[str, Any], str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            folder = write(Path(tmp) / "app", specs)
            load_assembly(folder)
        except AssemblyError:
            return  # a clear, one-line refusal of malformed input is not a finding
        assert_nothing_reported(folder)
