"""Property test: any pair of (small, arbitrary) templates analyzes without crashing."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.analysis import analyze
from bot.core.assembly import AssemblyError, load_assembly
from bot.plans.planner import attach_plans
from bot.render import json_report, text
from tests.tiers import examples

TYPES = ["AWS::Lambda::LayerVersion", "AWS::SQS::Queue", "AWS::Lambda::Function",
         "AWS::SSM::Parameter", "Custom::X", "AWS::CloudFormation::Stack", "Foo::Bar::Baz"]
IDS = ["A", "B", "C", "Layer", "Q"]
NAMES = ["e1", "e2", "P:ExportsOutputRefA", "/p/one"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["x", "y", "", "a.zip"]))
intrinsics = st.one_of(
    st.builds(lambda i: {"Ref": i}, st.sampled_from(IDS + ["AWS::StackName", "P1"])),
    st.builds(lambda i, a: {"Fn::GetAtt": [i, a]}, st.sampled_from(IDS), st.sampled_from(["Arn", "Outputs.X"])),
    st.builds(lambda n: {"Fn::ImportValue": n}, st.sampled_from(NAMES)),
    st.builds(lambda s: {"Fn::Sub": s}, st.sampled_from(["${A}", "${AWS::Region}-x", "${B.Arn}", "${!x}"])),
    st.builds(lambda n, o: {"Fn::GetStackOutput": {"StackName": n, "OutputName": o}},
              st.sampled_from(["S0", "S1"]), st.sampled_from(["O1", "O2"])),
)
values = st.recursive(
    st.one_of(scalars, intrinsics),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(["Content", "S3Key", "Name", "Value", "QueueName", "Layers"]), children,
                        max_size=3),
    ),
    max_leaves=8,
)
resources = st.dictionaries(
    st.sampled_from(IDS),
    st.fixed_dictionaries({
        "Type": st.sampled_from(TYPES),
        "Properties": st.dictionaries(st.sampled_from(["Content", "Name", "Value", "QueueName", "Layers"]), values,
                                      max_size=3),
    }),
    max_size=4,
)
outputs = st.dictionaries(
    st.sampled_from(["O1", "O2", "X"]),
    st.one_of(
        st.fixed_dictionaries({"Value": values}),
        st.fixed_dictionaries({
            "Value": values,
            "Export": st.fixed_dictionaries({"Name": st.one_of(st.sampled_from(NAMES), values)}),
        }),
    ),
    max_size=3,
)
parameters = st.dictionaries(st.sampled_from(["P1", "P2"]), st.fixed_dictionaries({
    "Type": st.sampled_from(["String", "AWS::SSM::Parameter::Value<String>"]),
    "Default": st.sampled_from(["/p/one", "d", 3])}), max_size=2)
templates = st.fixed_dictionaries({"Resources": resources, "Outputs": outputs, "Parameters": parameters})
apps = st.lists(templates, min_size=1, max_size=3)


def write(directory: Path, stacks: list[dict[str, Any]]) -> Path:
    directory.mkdir()
    artifacts = {}
    for i, template in enumerate(stacks):
        (directory / f"S{i}.template.json").write_text(json.dumps(template))
        artifacts[f"S{i}"] = {"type": "aws:cloudformation:stack", "environment": "aws://1/us-east-1",
                              "properties": {"templateFile": f"S{i}.template.json"},
                              "dependencies": [f"S{j}" for j in range(i)]}
    (directory / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}))
    return directory


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=apps, head=apps)
def test_any_template_pair_analyzes_without_crashing(base: list[dict[str, Any]], head: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            base_assembly = load_assembly(write(Path(tmp) / "base", base))
            head_assembly = load_assembly(write(Path(tmp) / "head", head))
        except AssemblyError:
            return  # a clear, one-line refusal is an acceptable outcome
        result = attach_plans(analyze(base_assembly, head_assembly))
        json.loads(json_report.render(result))
        text.render(result)
