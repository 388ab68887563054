"""Hostile input, one test per class: a clear error or finding, never a crash or a silent pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.analysis import analyze
from bot.core.assembly import load_assembly
from bot.core.context import build_context
from bot.core.model import AnalysisResult
from bot.core.secrets import MASK
from bot.plans.planner import attach_plans
from bot.render import json_report, markdown, status, text
from tests.builders import AppBuilder, get_att, import_value, ref
from tests.corpus import ECOM


def run(tmp_path: Path, base: AppBuilder, head: AppBuilder) -> AnalysisResult:
    b, h = load_assembly(base.write(tmp_path / "base")), load_assembly(head.write(tmp_path / "head"))
    context = build_context(b, h)
    return attach_plans(analyze(b, h, context), context)


def everything(result: AnalysisResult) -> str:
    return json_report.render(result) + markdown.render(result) + text.render(result)


def custom_app(token: str, *, no_echo_default: str = "hunter2-secret") -> AppBuilder:
    app = AppBuilder()
    p = app.stack("Producer")
    p.parameter("DbPassword", "String", no_echo_default)
    p.template["Parameters"]["DbPassword"]["NoEcho"] = "true"
    p.resource("Thing", "Custom::Thing", ServiceToken="arn:x", ApiToken=token, Label=f"label {token[-4:]}")
    p.export("ThingRef", ref("Thing"), "thing")
    app.stack("Consumer").resource("Q", "AWS::SQS::Queue", Tags=[{"Key": "t", "Value": import_value("thing")}])
    return app


def test_secret_values_and_secret_named_properties_are_masked(tmp_path: Path) -> None:
    old, new = "ghp_" + "a" * 36, "ghp_" + "b" * 36
    result = run(tmp_path, custom_app(old), custom_app(new))
    assert [f.rule for f in result.findings] == ["export-value-may-change-in-use"]
    rendered = everything(result)
    assert old not in rendered and new not in rendered
    assert MASK in rendered


def test_no_echo_parameter_defaults_are_masked(tmp_path: Path) -> None:
    base = custom_app("x" * 8, no_echo_default="first-very-secret")
    head = custom_app("x" * 8, no_echo_default="second-very-secret")
    head.stacks["Producer"].resource("Thing", "Custom::Thing", ServiceToken="arn:x", ApiToken=ref("DbPassword"))
    rendered = everything(run(tmp_path, base, head))
    assert "first-very-secret" not in rendered and "second-very-secret" not in rendered


def test_unordered_duplicate_stack_names_are_noted_not_refused(tmp_path: Path) -> None:
    app = AppBuilder()
    app.stack("A", stack_name="Same").resource("Q", "AWS::SQS::Queue")
    app.stack("B", stack_name="Same").resource("Q", "AWS::SQS::Queue")
    assembly = load_assembly(app.write(tmp_path))
    assert list(assembly.stacks) == ["B"]
    (problem,) = assembly.problems
    assert "stack name 'Same' is used by 2 artifacts" in problem and "no deploy order between them (A, B)" in problem


def test_cyclic_stack_dependencies_do_not_hang(tmp_path: Path) -> None:
    def app(key: str) -> AppBuilder:
        a = AppBuilder()
        p = a.stack("P", depends_on=["C"])
        p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": key})
        p.export("L", ref("Layer"), "p-layer")
        a.stack("C", depends_on=["P"]).resource("Fn", "AWS::Lambda::Function", Layers=[import_value("p-layer")])
        return a

    result = run(tmp_path, app("a.zip"), app("b.zip"))
    (finding,) = result.findings
    assert finding.rule == "export-value-change-in-use"
    assert finding.remediation is not None  # a plan, or a plain "review by hand": never a crash


def test_cyclic_references_inside_a_template_terminate(tmp_path: Path) -> None:
    def app(name: str) -> AppBuilder:
        a = AppBuilder()
        p = a.stack("P")
        p.resource("A", "AWS::SQS::Queue", QueueName={"Fn::Join": ["-", [name, get_att("B", "QueueName")]]})
        p.resource("B", "AWS::SQS::Queue", QueueName={"Fn::Join": ["-", ["b", get_att("A", "QueueName")]]})
        p.export("AUrl", ref("A"), "a-url")
        a.stack("C").resource("T", "AWS::SNS::Topic", DisplayName=import_value("a-url"))
        return a

    (finding,) = run(tmp_path, app("x"), app("y")).findings
    assert finding.rule == "export-value-change-in-use"


def test_unknown_intrinsics_are_reported_not_fatal(tmp_path: Path) -> None:
    def app(key: str) -> AppBuilder:
        a = AppBuilder()
        p = a.stack("P")
        p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": key})
        p.export("L", {"Fn::Frobnicate": [ref("Layer")]}, {"Fn::Frobnicate": "name"})
        a.stack("C").resource("Fn", "AWS::Lambda::Function", Layers=[import_value({"Fn::Frobnicate": "x"})])
        return a

    result = run(tmp_path, app("a.zip"), app("b.zip"))
    producer = load_assembly(tmp_path / "head").stacks["P"]  # type: ignore[index]
    assert producer.outputs["L"].export_name == '<unresolved: {"Fn::Frobnicate":"name"}>'
    everything(result)


@pytest.mark.skipif(not (ECOM / "synth-errors").is_dir(), reason=f"corpus not found at {ECOM}")
def test_real_synth_error_tails_render_escaped_in_a_code_block() -> None:
    for path in sorted((ECOM / "synth-errors").glob("*.txt")):
        tail = path.read_text(errors="replace")
        body = status.failure("infra", "synth of head failed: cdk synth exited with 1", tail)
        assert "The analysis could not run" in body and "not** been checked" in body
        fence = body.split("<summary>Last lines of the output</summary>\n\n", 1)[1].split("\n", 1)[0]
        assert fence.startswith("```") and fence.endswith("text")
        closing = body.rstrip().rsplit("\n</details>", 1)[0].rstrip().rsplit("\n", 1)[1]
        assert closing == fence.removesuffix("text")


def test_synth_failure_message_is_escaped(tmp_path: Path) -> None:
    body = status.failure("<img src=x>", "synth of @octocat failed", "```\n<script>alert(1)</script>\n```")
    first_lines = body.split("<details>")[0]
    assert "<img" not in first_lines and "@octocat" not in first_lines
    assert json.dumps(body)  # serialisable, no control characters lost
