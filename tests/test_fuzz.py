"""Fuzz target: mutated assemblies through the loader, analyzer, planner and renderers.

Allowed outcomes: a one-line AssemblyError, or a full report. Anything else (a
traceback, a hang) is a bug. CI runs 10,000 inputs (``CI=true``, about 10 minutes);
a local run 100, to keep ``make test`` short; ``FUZZ_EXAMPLES`` overrides.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.core.analysis import analyze
from bot.core.assembly import AssemblyError, load_assembly
from bot.core.context import build_context
from bot.plans.planner import attach_plans
from bot.render import json_report, markdown, sarif, text
from tests.builders import AppBuilder, get_att, import_value, ref
from tests.tiers import IN_CI

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or (10_000 if IN_CI else 100))


def seed_app(key: str) -> AppBuilder:
    app = AppBuilder()
    p = app.stack("Producer")
    p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": f"{key}.zip"})
    p.resource("Q", "AWS::SQS::Queue", QueueName={"Fn::Sub": "${AWS::StackName}-q"})
    p.resource("P", "AWS::SSM::Parameter", Name="/x/layer", Type="String", Value=ref("Layer"))
    p.export("L", ref("Layer"), "Producer:ExportsOutputRefLayer")
    p.export("QArn", get_att("Q", "Arn"), {"Fn::Join": [":", [ref("AWS::StackName"), "q"]]})
    p.output("Weak", ref("Layer"))
    child = p.nested_stack("Inner")
    child.resource("T", "AWS::SNS::Topic")
    child.output("TopicArn", ref("T"))
    c = app.stack("Consumer", depends_on=["Producer"])
    c.parameter("LayerParam", "AWS::SSM::Parameter::Value<String>", "/x/layer")
    c.resource("Fn", "AWS::Lambda::Function", Layers=[import_value("Producer:ExportsOutputRefLayer"), ref("LayerParam"),
               {"Fn::GetStackOutput": {"StackName": "Producer", "OutputName": "Weak"}}],
               Environment={"Variables": {"Q": import_value("Producer:q")}})
    stage = app.stage("Prod")
    s = stage.stack("ProdSvc1", stack_name="Prod-Svc", display_name="Prod/Svc")
    s.resource("Q", "AWS::SQS::Queue")
    app.asset("Producer", "a" * 64, "Layer/Code", "asset." + "a" * 64)
    return app


_TEMPLATE_DIR = Path(tempfile.mkdtemp(prefix="fuzz-seed-"))
atexit.register(shutil.rmtree, _TEMPLATE_DIR, True)  # built at import, so removed when pytest exits
BASE = seed_app("a").write(_TEMPLATE_DIR / "base")
HEAD = seed_app("b").write(_TEMPLATE_DIR / "head")
FILES = sorted(p.relative_to(HEAD) for p in HEAD.rglob("*.json"))

hostile_strings = st.sampled_from(["", "../../etc/passwd", "/abs", "x" * 5000, "<img src=x>", "@everyone",
                                   "${AWS::StackName}", "aws://1/r", "55.0.0", "999.0.0", "\x00\u202e", "Fn::GetAtt"])
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), hostile_strings,
              st.text(max_size=20)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.one_of(hostile_strings, st.sampled_from(
                                   ["Ref", "Fn::GetAtt", "Fn::ImportValue", "Fn::Sub", "Fn::Join", "Type", "Properties",
                                    "Outputs", "Export", "Name", "Value", "artifacts", "properties", "templateFile",
                                    "dependencies", "environment", "displayName", "directoryName"])), children,
                                   max_size=4)),
    max_leaves=12,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, (*prefix, i))
    return out


def set_at(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    node = document
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return document


@st.composite
def mutations(draw: st.DrawFn) -> list[tuple[Path, bytes]]:
    out = []
    for _ in range(draw(st.integers(1, 3))):
        file = draw(st.sampled_from(FILES))
        kind = draw(st.sampled_from(["replace", "replace", "delete-key", "bytes", "deep"]))
        document = json.loads((HEAD / file).read_text())
        if kind == "bytes":
            out.append((file, draw(st.binary(max_size=200))))
            continue
        if kind == "deep":
            out.append((file, ("[" * draw(st.integers(900, 5000))).encode()))
            continue
        target = draw(st.sampled_from(paths(document)))
        if kind == "delete-key" and target and isinstance(target[-1], str):
            parent = document
            for step in target[:-1]:
                parent = parent[step]
            parent.pop(target[-1], None)
        else:
            document = set_at(document, target, draw(json_values))
        out.append((file, json.dumps(document).encode()))
    return out


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(changes=mutations())
# Found by CI's 10,000-input run: a NUL in a manifest path crashed os.path.realpath.
@example(changes=[(Path("assembly-Prod/manifest.json"), json.dumps({
    "version": "55.0.0", "artifacts": {"ProdSvc1": {
        "type": "aws:cloudformation:stack", "environment": "aws://123456789012/us-east-1",
        "properties": {"templateFile": "\u0000\u202e", "stackName": "Prod-Svc"},
        "dependencies": [], "displayName": "Prod/Svc"}}}).encode())])
def test_mutated_assemblies_never_crash(changes: list[tuple[Path, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        head = Path(tmp) / "head"
        shutil.copytree(HEAD, head)
        for file, content in changes:
            (head / file).write_bytes(content)
        try:
            base_assembly, head_assembly = load_assembly(BASE), load_assembly(head)
        except AssemblyError as error:
            assert "\n" not in str(error)
            return
        context = build_context(base_assembly, head_assembly)
        result = attach_plans(analyze(base_assembly, head_assembly, context), context)
        json.loads(json_report.render(result))
        json.loads(sarif.render(result))
        markdown.render(result)
        text.render(result)
