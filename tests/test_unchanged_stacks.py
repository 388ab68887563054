"""Stacks whose templates are byte-identical on both sides are not modelled (issue #14).

Their references, SSM parameters, nested stacks and pipelines come from scans of the
raw ``Resources`` section; no ``Resource`` object is made for them during a plain
``analyze`` (load, context, rules, plans, the four reports). ``Resources.built`` counts
what was made, so these tests fail as soon as any reader asks an unchanged stack for
one. The cheap pass that finds reads (``references._candidates``) must find exactly
what one dump per resource finds.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.cli.orchestrate import run_analysis
from bot.core import references
from bot.core.assembly import load_assembly
from bot.core.model import AnalysisResult, Stack
from bot.render import json_report, markdown, sarif, text
from tests.builders import AppBuilder, import_value, ref
from tests.synth_cache import APPS_DIR
from tests.tiers import examples

LAYER = "AWS::Lambda::LayerVersion"
FUNCTION = "AWS::Lambda::Function"
APPS = sorted(p.name for p in APPS_DIR.iterdir() if (p / "cdk.json").is_file()) + ["example"]


def _app(layer_key: str) -> AppBuilder:
    """A producer whose layer export changes, and unchanged stacks that read from it every way."""
    app = AppBuilder()
    producer = app.stack("Producer")
    producer.resource("Layer", LAYER, Content={"S3Bucket": "b", "S3Key": layer_key})
    producer.export("LayerArn", ref("Layer"), "Producer:ExportsOutputRefLayer")
    producer.resource("Param", "AWS::SSM::Parameter", Name="/app/layer", Type="String", Value=ref("Layer"))
    producer.output("Plain", ref("Layer"))
    shared = app.stack("Shared")  # unchanged, exports a value nothing changes
    shared.resource("Queue", "AWS::SQS::Queue")
    shared.export("QueueArn", {"Fn::GetAtt": ["Queue", "Arn"]}, "Shared:QueueArn")
    shared.resource("SharedParam", "AWS::SSM::Parameter", Name="/app/queue", Type="String", Value="q")
    importer = app.stack("Importer", depends_on=["Producer", "Shared"])
    importer.resource("Fn", FUNCTION, Layers=[import_value("Producer:ExportsOutputRefLayer")],
                      Environment={"Variables": {"QUEUE": import_value("Shared:QueueArn")}})
    weak = app.stack("WeakReader", depends_on=["Producer"])
    weak.resource("Fn", FUNCTION, Environment={"Variables": {
        "LAYER": {"Fn::GetStackOutput": {"StackName": "Producer", "OutputName": "Plain"}}}})
    ssm = app.stack("SsmReader", depends_on=["Producer", "Shared"])
    ssm.parameter("LayerParam", "AWS::SSM::Parameter::Value<String>", "/app/layer")
    ssm.resource("Fn", FUNCTION, Environment={"Variables": {
        "LAYER": ref("LayerParam"), "QUEUE": "{{resolve:ssm:/app/queue}}"}})
    parent = app.stack("Parent", depends_on=["Producer"])
    child = parent.nested_stack("Child")
    child.resource("Fn", FUNCTION, Layers=[import_value("Producer:ExportsOutputRefLayer")])
    return app


def _analyze(tmp: Path, base: AppBuilder, head: AppBuilder) -> AnalysisResult:
    return run_analysis(base.write(tmp / "base"), head.write(tmp / "head"))


def _render_all(result: AnalysisResult) -> None:
    """Every report format reads the result as the CLI's would."""
    json_report.render(result)
    text.render(result)
    markdown.render(result)
    sarif.render(result)


def _modelled_in_unchanged(result: AnalysisResult) -> dict[str, int]:
    """Resource objects made for stacks the analysis found unchanged, by side and stack."""
    unchanged = {s.stack_key for s in result.stacks if s.status == "unchanged"}
    made: dict[str, int] = {}
    for side, assembly in (("base", result.base), ("head", result.head)):
        for stack in assembly.all_stacks():
            if _key_in(stack, unchanged, result) and stack.resources.built:
                made[f"{side}:{stack.key}"] = stack.resources.built
    return made


def _key_in(stack: Stack, unchanged: set[Any], result: AnalysisResult) -> bool:
    """Summaries are keyed by head key; a base stack is unchanged when its head twin is."""
    if stack.key in unchanged:
        return True
    head = {s.stack_name: s.key for s in result.head.all_stacks()}
    return head.get(stack.stack_name) in unchanged


def test_an_unchanged_stack_makes_no_resource_objects(tmp_path: Path) -> None:
    result = _analyze(tmp_path, _app("k1.zip"), _app("k2.zip"))
    _render_all(result)
    statuses = {s.stack_name: s.status for s in result.stacks}
    assert statuses["Producer"] == "changed"
    assert {name for name, status in statuses.items() if status == "unchanged"} >= {
        "Shared", "Importer", "WeakReader", "SsmReader", "Parent", "Parent-Child"}
    # The unchanged stacks' reads were found without modelling them ...
    consumers = {c for f in result.findings for c in f.consumers}
    assert {"Importer", "WeakReader", "SsmReader"} <= consumers
    assert consumers & {"Parent", "Parent-Child"}
    assert {f.rule for f in result.findings} >= {"export-value-change-in-use", "weak-reference-stale"}
    # ... and only the changed stack was modelled (the count is live: this is not vacuous).
    assert _modelled_in_unchanged(result) == {}
    producer = next(s for s in result.head.all_stacks() if s.stack_name == "Producer")
    assert producer.resources.built == len(producer.resources)


def test_construct_paths_from_the_manifest_model_nothing(tmp_path: Path) -> None:
    """Apps synthesized with --no-path-metadata: construct paths come from the manifest."""
    base, head = _app("k1.zip"), _app("k2.zip")
    for app in (base, head):
        for stack in app.stacks.values():
            for spec in stack.template["Resources"].values():
                spec["Metadata"].pop("aws:cdk:path")
    result = _analyze(tmp_path, base, head)
    _render_all(result)
    assert result.findings
    assert _modelled_in_unchanged(result) == {}


@pytest.mark.synth
@pytest.mark.parametrize("name", APPS)
def test_no_test_app_models_its_unchanged_stacks(synth_app: Callable[[str, str], Path], name: str) -> None:
    result = run_analysis(synth_app(name, "base"), synth_app(name, "head"))
    _render_all(result)
    assert _modelled_in_unchanged(result) == {}


# --- the cheap pass finds what one dump per resource finds ---------------------------

_NEEDLES = ["Fn::ImportValue", "Fn::GetStackOutput", "{{resolve:ssm:/p}}", "P1", "Typed", "x\": {"]
_IDS = ["A", "B", "Fn::ImportValue", "P1", "a\": {", "é\n", '  "C"', ""]
_words = st.one_of(st.sampled_from(_NEEDLES + _IDS), st.text(max_size=6))
_values = st.recursive(
    st.one_of(st.none(), st.integers(-2, 2), _words),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(_words, children, max_size=3)),
    max_leaves=10,
)
_specs = st.fixed_dictionaries(
    {"Type": st.sampled_from(["AWS::SSM::Parameter", FUNCTION, "Custom::X"])},
    optional={"Properties": st.one_of(st.dictionaries(_words, _values, max_size=3), _values),
              "Metadata": st.dictionaries(_words, _values, max_size=2)},
)
_sections = st.dictionaries(st.one_of(st.sampled_from(_IDS), st.text(max_size=5)), _specs, max_size=5)
_parameters = st.dictionaries(
    st.sampled_from(["P1", "Typed", "x\": {", "Ty-ped"]),
    st.fixed_dictionaries({"Type": st.just("AWS::SSM::Parameter::Value<String>"), "Default": st.just("/p")}),
    max_size=2,
)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(section=_sections, parameters=_parameters)
# A logical id that is itself a name looked for opens its key line: its reads were once missed.
@example(section={"A": {"Type": "AWS::SSM::Parameter"}, "Fn::ImportValue": {
    "Type": "AWS::SSM::Parameter", "Properties": {"Fn::ImportValue": None}}}, parameters={})
def test_one_dump_finds_every_read_one_dump_per_resource_finds(section: dict[str, Any],
                                                                parameters: dict[str, Any]) -> None:
    template = {"Resources": section, "Parameters": parameters,
                "Outputs": {"O": {"Value": import_value("Fn::ImportValue")}}}
    with tempfile.TemporaryDirectory() as tmp:
        stack = _load_one(Path(tmp), template)
        fast = references._reads(stack)
        with mock.patch.object(references, "_candidates", lambda resources, typed: None):
            every = references._reads(stack)
    assert (dict(fast[0]), fast[1]) == (dict(every[0]), every[1])
    assert stack.resources.built == 0


def _load_one(directory: Path, template: dict[str, Any]) -> Stack:
    (directory / "S.template.json").write_text(json.dumps(template))
    (directory / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": {"S": {
        "type": "aws:cloudformation:stack", "environment": "aws://1/us-east-1",
        "properties": {"templateFile": "S.template.json"}}}}))
    return next(iter(load_assembly(directory).stacks.values()))
