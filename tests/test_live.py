"""Live mode end to end: assemblies from tests/builders.py, the account in moto (loopback),
ListImports from botocore's Stubber (moto does not implement it), then bot/live/adjust.py.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from bot.cli import main as cli
from bot.cli.analyze import run_analysis
from bot.core.analysis import analyze
from bot.core.assembly import load_assembly, stack_with_template
from bot.core.context import Context, build_context
from bot.core.model import AnalysisResult, Environment, Finding, Severity
from bot.live import adjust as live
from bot.live import aws
from bot.render import json_report, markdown, sarif, text
from tests.aws_fixtures import isolate_credentials
from tests.builders import AppBuilder, StackBuilder, import_value, ref

ACCOUNT, REGION = "123456789012", "us-east-1"
ENV = Environment(ACCOUNT, REGION)
BUCKET = "assets-bucket"
SHARED = "shared-layer-arn"
QUEUE_EXPORT = "Producer:ExportsOutputRefQueue"
LAYER_EXPORT = "Producer:ExportsOutputRefLayer"


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_credentials(monkeypatch, tmp_path)
    monkeypatch.setattr(aws, "MAX_ATTEMPTS", 1)  # moto answers ListImports with a 500: do not retry it


@pytest.fixture
def moto(moto_url: str) -> str:
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=moto_url)
    s3.create_bucket(Bucket=BUCKET)
    for key in ("k0.zip", "k1.zip", "k2.zip"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"PK")
    return moto_url


def deploy(url: str, name: str, template: dict[str, Any]) -> None:
    client = boto3.client("cloudformation", region_name=REGION, endpoint_url=url)
    client.create_stack(StackName=name, TemplateBody=json.dumps(template))


class SplitClient:
    """moto for everything, except ListImports, which a Stubber answers."""

    def __init__(self, moto: Any, imports: Any) -> None:
        self._moto, self._imports = moto, imports

    def get_paginator(self, name: str) -> Any:
        return (self._imports if name == "list_imports" else self._moto).get_paginator(name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._imports if name == "list_imports" else self._moto, name)


def imports_stub(importers: dict[str, list[str]]) -> tuple[Any, Stubber]:
    client = boto3.client("cloudformation", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s")
    stub = Stubber(client)
    for name, stacks in importers.items():
        if stacks:
            stub.add_response("list_imports", {"Imports": stacks}, {"ExportName": name})
        else:
            stub.add_client_error("list_imports", "ValidationError", f"Export '{name}' is not imported by any stack.",
                                  expected_params={"ExportName": name})
    stub.activate()
    return client, stub


def factory(url: str, imports: Any) -> aws.ClientFactory:
    real = aws.client_factory(endpoint_url=url)

    def make(service: str, region: str) -> Any:
        client = real(service, region)
        return SplitClient(client, imports) if service == "cloudformation" else client

    return make


def assemblies(tmp_path: Path, base: AppBuilder, head: AppBuilder) -> Context:
    return build_context(load_assembly(base.write(tmp_path / "base")), load_assembly(head.write(tmp_path / "head")))


def live_result(context: Context, url: str, importers: dict[str, list[str]],
                **options: Any) -> tuple[AnalysisResult, dict[Environment, aws.LiveFacts]]:
    client, stub = imports_stub(importers)
    facts = aws.gather(context, factory(url, client), **options)
    stub.assert_no_pending_responses()  # ListImports was asked exactly about these exports
    offline = analyze(context.base, context.head, context)
    return live.apply_live(offline, context, facts), facts


def only(result: AnalysisResult, rule: str) -> Finding:
    matches = [f for f in result.findings if f.rule == rule]
    assert len(matches) == 1, [f"{f.rule}: {f.message}" for f in result.findings]
    return matches[0]


def layer(stack: StackBuilder, key: str) -> StackBuilder:
    return stack.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": BUCKET, "S3Key": key})


# --- (a) an importer outside the app ------------------------------------------------------------------


def shared_layer_app(key: str) -> AppBuilder:
    """Producer exports a hand-named layer ARN nobody in the app imports, and a queue Consumer imports."""
    app = AppBuilder()
    p = layer(app.stack("Producer"), key)
    p.resource("Queue", "AWS::SQS::Queue", QueueName="orders")
    p.export("LayerArn", ref("Layer"), SHARED)
    p.export("ExportsOutputRefQueue", ref("Queue"), QUEUE_EXPORT)
    c = app.stack("Consumer", depends_on=["Producer"])
    c.resource("Param", "AWS::SSM::Parameter", Name="consumer-queue", Type="String", Value=import_value(QUEUE_EXPORT))
    return app


OUTSIDE_TEMPLATE = {
    "Resources": {"Param": {"Type": "AWS::SSM::Parameter",
                            "Properties": {"Name": "other", "Type": "String", "Value": import_value(SHARED)}}},
}


def test_outside_importer_blocks_a_change_the_app_itself_survives(moto: str, tmp_path: Path) -> None:
    base, head = shared_layer_app("k1.zip"), shared_layer_app("k2.zip")
    deploy(moto, "Producer", base.stacks["Producer"].template)
    deploy(moto, "Consumer", base.stacks["Consumer"].template)
    deploy(moto, "OtherTeamStack", OUTSIDE_TEMPLATE)
    context = assemblies(tmp_path, base, head)

    offline = analyze(context.base, context.head, context)
    assert offline.worst() is None  # nothing in the app imports the layer: offline sees no risk

    result, facts = live_result(context, moto, {SHARED: ["OtherTeamStack"]})
    assert facts[ENV].importers == {SHARED: ("OtherTeamStack",)}
    finding = only(result, "export-in-use-outside-app")
    assert finding.severity is Severity.BLOCKER
    assert (finding.producer, finding.export, finding.consumers) == ("Producer", SHARED, ("OtherTeamStack",))
    assert f'"Cannot update export {SHARED} as it is in use by OtherTeamStack"' in finding.message
    assert "resource-replaced" in [c.kind for c in finding.causes]
    assert finding.causes[-1].kind == "imported-outside-app"
    plan = finding.remediation
    assert plan is not None and plan.strategy == "coordinate-outside-importers" and not plan.verified
    assert plan.steps[0].commands == (f"aws cloudformation list-imports --region {REGION} --export-name {SHARED}",)
    assert plan.steps[-1].commands == ("cdk deploy Producer",)
    assert result.notes[0].startswith(f"live: {ENV}: 2 exports deployed; templates of 1 stack read")

    planned = live.plan_findings(result, context)  # what the CLI does next: keeps the live plan
    assert only(planned, "export-in-use-outside-app").remediation == plan
    for render in (text.render, markdown.render, json_report.render, sarif.render):
        assert "OtherTeamStack" in render(planned)


def test_outside_importer_is_added_next_to_the_in_app_finding(moto: str, tmp_path: Path) -> None:
    def app(key: str) -> AppBuilder:
        a = shared_layer_app(key)
        a.stacks["Consumer"].resource("Fn", "AWS::SSM::Parameter", Name="layer", Type="String",
                                      Value=import_value(SHARED))
        return a

    base, head = app("k1.zip"), app("k2.zip")
    deploy(moto, "Producer", base.stacks["Producer"].template)
    deploy(moto, "Consumer", base.stacks["Consumer"].template)
    deploy(moto, "OtherTeamStack", OUTSIDE_TEMPLATE)
    context = assemblies(tmp_path, base, head)
    result, _ = live_result(context, moto, {SHARED: ["Consumer", "OtherTeamStack"]})
    in_app = only(result, "export-value-change-in-use")
    assert in_app.causes[-1].kind == "imported-outside-app"
    assert only(result, "export-in-use-outside-app").consumers == ("OtherTeamStack",)


def test_in_app_consumer_not_importing_live_is_a_note(moto: str, tmp_path: Path) -> None:
    def app(key: str) -> AppBuilder:
        a = shared_layer_app(key)
        a.stacks["Consumer"].resource("Fn", "AWS::SSM::Parameter", Name="layer", Type="String",
                                      Value=import_value(SHARED))
        return a

    base, head = app("k1.zip"), app("k2.zip")
    deploy(moto, "Producer", base.stacks["Producer"].template)  # Consumer is not deployed at all
    context = assemblies(tmp_path, base, head)
    result, _ = live_result(context, moto, {SHARED: []})
    assert only(result, "export-value-change-in-use").severity is Severity.BLOCKER  # kept: base is the plan
    assert (
        f"live: Consumer imports {SHARED} in base, but ListImports in {ENV} does not list it: the deployed "
        "Consumer does not import it (not deployed yet, or deployed from an older version). Findings assume "
        "base is deployed."
    ) in result.notes
    assert not [f for f in result.findings if f.rule == "export-in-use-outside-app"]


def test_removed_export_with_an_outside_importer(moto: str, tmp_path: Path) -> None:
    base = shared_layer_app("k1.zip")
    head = shared_layer_app("k1.zip")
    del head.stacks["Producer"].template["Outputs"]["LayerArn"]
    deploy(moto, "Producer", base.stacks["Producer"].template)
    deploy(moto, "OtherTeamStack", OUTSIDE_TEMPLATE)
    context = assemblies(tmp_path, base, head)
    result, _ = live_result(context, moto, {SHARED: ["OtherTeamStack"]})
    finding = only(result, "export-in-use-outside-app")
    assert f'"Export {SHARED} cannot be deleted as it is in use by OtherTeamStack"' in finding.message


# --- (b) the deployed template is behind base ---------------------------------------------------------


def layer_app(key: str, *, extra_queue: bool = False) -> AppBuilder:
    app = AppBuilder()
    p = layer(app.stack("Producer"), key)
    p.export("ExportsOutputRefLayer", ref("Layer"), LAYER_EXPORT)
    if extra_queue:
        p.resource("Extra", "AWS::SQS::Queue")
    c = app.stack("Consumer", depends_on=["Producer"])
    c.resource("Param", "AWS::SSM::Parameter", Name="layer", Type="String", Value=import_value(LAYER_EXPORT))
    return app


def test_deployed_template_behind_base_is_what_head_is_compared_with(moto: str, tmp_path: Path) -> None:
    deployed = layer_app("k0.zip")  # main moved the layer to k1.zip but was not deployed yet
    base, head = layer_app("k1.zip"), layer_app("k1.zip", extra_queue=True)
    deploy(moto, "Producer", deployed.stacks["Producer"].template)
    deploy(moto, "Consumer", deployed.stacks["Consumer"].template)
    context = assemblies(tmp_path, base, head)
    assert analyze(context.base, context.head, context).worst() is None  # offline: the layer does not change

    result, _ = live_result(context, moto, {LAYER_EXPORT: ["Consumer"]})
    assert any(
        n.startswith("live: the deployed Producer in aws://123456789012/us-east-1 differs from base (resources "
                     "differ: Layer): main is not deployed there yet, or the stack drifted.")
        for n in result.notes
    ), result.notes
    assert f"live: findings only with the deployed templates: export-value-change-in-use {LAYER_EXPORT}" in result.notes
    finding = only(result, "export-value-change-in-use")
    assert finding.consumers == ("Consumer",)
    changed = next(c for c in finding.causes if c.kind == "property-changed")
    assert (changed.details["base"], changed.details["head"]) == ("k0.zip", "k1.zip")
    assert result.base.stacks[finding.producer_key].resources["Layer"].properties["Content"]["S3Key"] == "k0.zip"

    planned = live.plan_findings(result, context)  # plans are simulated from the deployed state
    plan = only(planned, "export-value-change-in-use").remediation
    assert plan is not None and plan.strategy.startswith("split")


def test_base_producer_not_deployed_is_analyzed_as_new(moto: str, tmp_path: Path) -> None:
    base, head = layer_app("k1.zip"), layer_app("k2.zip")
    context = assemblies(tmp_path, base, head)
    assert only(analyze(context.base, context.head, context), "export-value-change-in-use")
    result, facts = live_result(context, moto, {})
    assert facts[ENV].problems == (f"{ENV}: stack Producer is not deployed (GetTemplate: it does not exist)",)
    assert not [f for f in result.findings if f.severity is Severity.BLOCKER]
    assert (f"live check incomplete: {ENV}: stack Producer is not deployed (GetTemplate: it does not exist)"
            in result.notes)


def test_stack_with_template_keeps_identity(tmp_path: Path) -> None:
    assembly = load_assembly(layer_app("k1.zip").write(tmp_path / "a"))
    stack = assembly.stacks["Producer"]
    swapped = stack_with_template(stack, layer_app("k0.zip").stacks["Producer"].template)
    assert (swapped.key, swapped.stack_name, swapped.environment, swapped.dependencies) == (
        stack.key, stack.stack_name, stack.environment, stack.dependencies)
    assert swapped.resources["Layer"].properties["Content"]["S3Key"] == "k0.zip"
    assert swapped.outputs == stack.outputs


# --- (c) imports of exports outside the app ------------------------------------------------------------


def external_app(*imports: str) -> AppBuilder:
    app = AppBuilder()
    c = app.stack("Consumer")
    c.resource("Q", "AWS::SQS::Queue")
    for i, name in enumerate(imports):
        c.resource(f"P{i}", "AWS::SSM::Parameter", Name=f"p{i}", Type="String", Value=import_value(name))
    return app


def test_external_import_is_settled_by_list_exports(moto: str, tmp_path: Path) -> None:
    deploy(moto, "Network", {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
                             "Outputs": {"Vpc": {"Value": "vpc-1", "Export": {"Name": "network-vpc-id"}}}})
    context = assemblies(tmp_path, external_app(), external_app("network-vpc-id", "nope-export"))
    offline = analyze(context.base, context.head, context)
    assert [(f.rule, f.severity, f.export) for f in offline.findings] == [
        ("import-missing-export", Severity.WARNING, "network-vpc-id"),
        ("import-missing-export", Severity.WARNING, "nope-export"),
    ]
    result, _ = live_result(context, moto, {})
    finding = only(result, "import-missing-export")
    assert (finding.export, finding.severity) == ("nope-export", Severity.BLOCKER)
    assert '"No export named nope-export found"' in finding.message
    assert finding.causes[-1].kind == "export-not-found"
    assert ("live: Consumer imports network-vpc-id: it is exported by Network in "
            f"{ENV} (ListExports), so the import-missing-export warning is dropped") in result.notes
    planned = live.plan_findings(result, context)
    plan = only(planned, "import-missing-export").remediation
    assert plan is not None and plan.strategy == "create-missing-export"


# --- change-set verdicts (pure) --------------------------------------------------------------------------


def custom_app(size: int) -> AppBuilder:
    app = AppBuilder()
    p = app.stack("Producer")
    p.resource("Thing", "Custom::Thing", ServiceToken="arn:aws:lambda:us-east-1:123456789012:function:f", Size=size)
    p.export("ThingId", ref("Thing"), "thing-id")
    app.stack("Consumer").resource("P", "AWS::SSM::Parameter", Type="String", Value=import_value("thing-id"))
    return app


@pytest.mark.parametrize(("verdict", "severity", "kind"), [
    ("False", Severity.NOTICE, "change-set-refutes"),
    ("True", Severity.BLOCKER, "change-set-confirms"),
    ("Conditional", Severity.WARNING, "change-set-conditional"),
])
def test_change_set_settles_may_be_replaced(tmp_path: Path, verdict: str, severity: Severity, kind: str) -> None:
    context = assemblies(tmp_path, custom_app(1), custom_app(2))
    offline = analyze(context.base, context.head, context)
    assert only(offline, "export-value-may-change-in-use").severity is Severity.WARNING
    facts = {ENV: aws.LiveFacts(ENV, exports={"thing-id": "x"}, account=ACCOUNT,
                                replacements={("Producer", "Thing"): verdict}, change_sets=("Producer",))}
    result = live.apply_live(offline, context, facts)
    finding = only(result, "export-value-may-change-in-use")
    assert finding.severity is severity
    assert finding.causes[-1].kind == kind
    assert finding.causes[-1].details["replacement"] == verdict


def test_change_sets_end_to_end_against_moto(moto: str, tmp_path: Path) -> None:
    base, head = custom_app(1), custom_app(2)
    context = assemblies(tmp_path, base, head)
    # moto cannot run a custom resource: deploy a stand-in with the same export, then read it back
    deploy(moto, "Producer", {"Resources": {"Thing": {"Type": "AWS::SQS::Queue"}},
                              "Outputs": {"ThingId": {"Value": "x", "Export": {"Name": "thing-id"}}}})
    result, facts = live_result(context, moto, {"thing-id": ["Consumer"]}, change_sets=True)
    # The deployed stand-in differs from base, so head is compared with it (a type change: replaced).
    assert facts[ENV].change_sets == ("Producer",)
    client = boto3.client("cloudformation", region_name=REGION, endpoint_url=moto)
    assert client.list_change_sets(StackName="Producer")["Summaries"] == []  # deleted after reading
    assert only(result, "export-value-change-in-use").severity is Severity.BLOCKER


# --- requests and changed exports (pure) ---------------------------------------------------------------


def test_changed_exports_ignore_importers(tmp_path: Path) -> None:
    context = assemblies(tmp_path, shared_layer_app("k1.zip"), shared_layer_app("k2.zip"))
    changes = live.changed_exports(context)
    assert [(c.name, c.verb, c.producer.stack_name) for c in changes] == [(SHARED, "changes value", "Producer")]
    requests = live.requests(context)
    assert requests == {ENV: live.EnvironmentRequest(("Consumer", "Producer"), ("Producer",))}


def test_nested_stack_importers_belong_to_the_app(tmp_path: Path) -> None:
    def app(key: str) -> AppBuilder:
        a = shared_layer_app(key)
        nested = a.stacks["Consumer"].nested_stack("Inner")
        nested.resource("P", "AWS::SSM::Parameter", Type="String", Value=import_value(SHARED))
        return a

    context = assemblies(tmp_path, app("k1.zip"), app("k2.zip"))
    offline = analyze(context.base, context.head, context)
    facts = {ENV: aws.LiveFacts(ENV, exports={SHARED: "arn"}, account=ACCOUNT,
                                importers={SHARED: ("Consumer-Inner-1A2B3C4D5E6F",)})}
    result = live.apply_live(offline, context, facts)
    assert not [f for f in result.findings if f.rule == "export-in-use-outside-app"]


# --- the command line ------------------------------------------------------------------------------------


def test_cli_live_never_fails_on_aws_errors(moto: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, head = shared_layer_app("k1.zip"), shared_layer_app("k2.zip")
    deploy(moto, "Producer", base.stacks["Producer"].template)
    base.write(tmp_path / "base")
    head.write(tmp_path / "head")
    code = cli.main(["analyze", "--base", str(tmp_path / "base"), "--head", str(tmp_path / "head"),
                     "--format", "json", "--live", "--aws-endpoint-url", moto])
    assert code == 0
    out, err = capsys.readouterr()
    notes = json.loads(out)["notes"]
    problem = next(n for n in notes if n.startswith("live check incomplete:"))
    assert problem.startswith(f"live check incomplete: {ENV}: ListImports ({SHARED}): ")  # moto lacks ListImports
    assert f"cdk-export-guard: {problem}" in err


def test_cli_without_credentials_still_reports(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    layer_app("k1.zip").write(tmp_path / "base")
    layer_app("k2.zip").write(tmp_path / "head")
    code = cli.main(["analyze", "--base", str(tmp_path / "base"), "--head", str(tmp_path / "head"), "--live"])
    assert code == 1  # the offline blocker, not an error
    out, err = capsys.readouterr()
    assert "export-value-change-in-use" in out
    assert "no usable AWS credentials" in err


def test_change_sets_need_live(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layer_app("k1.zip").write(tmp_path / "base")
    assert cli.main(["analyze", "--base", str(tmp_path / "base"), "--head", str(tmp_path / "base"),
                     "--change-sets"]) == 2
    assert "--change-sets and --aws-profile need --live" in capsys.readouterr().err


def test_run_analysis_takes_an_injected_factory(moto: str, tmp_path: Path) -> None:
    base, head = shared_layer_app("k1.zip"), shared_layer_app("k2.zip")
    deploy(moto, "Producer", base.stacks["Producer"].template)
    deploy(moto, "OtherTeamStack", OUTSIDE_TEMPLATE)
    client, stub = imports_stub({SHARED: ["OtherTeamStack"]})
    result = run_analysis(base.write(tmp_path / "base"), head.write(tmp_path / "head"),
                          live=aws.LiveOptions(factory=factory(moto, client)))
    finding = only(result, "export-in-use-outside-app")
    assert finding.remediation is not None and finding.remediation.strategy == "coordinate-outside-importers"


# --- issue 12: what live mode must not miss ----------------------------------------------------------


def test_an_in_app_stack_still_importing_live_is_a_blocker(moto: str, tmp_path: Path) -> None:
    # Base says Consumer no longer imports the layer ARN, but the deployed Consumer (an older
    # version) still does: `cdk deploy` updates Producer first and CloudFormation refuses.
    base, head = shared_layer_app("k1.zip"), shared_layer_app("k2.zip")
    deploy(moto, "Producer", base.stacks["Producer"].template)
    deploy(moto, "Consumer", base.stacks["Consumer"].template)
    context = assemblies(tmp_path, base, head)
    result, _ = live_result(context, moto, {SHARED: ["Consumer"]})
    finding = only(result, live.STALE_RULE)
    assert finding.severity is Severity.BLOCKER
    assert (finding.producer, finding.export, finding.consumers) == ("Producer", SHARED, ("Consumer",))
    assert f'"Cannot update export {SHARED} as it is in use by Consumer"' in finding.message
    plan = finding.remediation
    assert plan is not None and not plan.checked
    assert [s.commands for s in plan.steps if s.commands][-2:] == [
        ("cdk deploy Consumer --exclusively",), ("cdk deploy Producer",)]


def test_list_imports_failing_for_a_changing_export_is_not_a_clean_result(moto: str, tmp_path: Path) -> None:
    base, head = shared_layer_app("k1.zip"), shared_layer_app("k2.zip")
    deploy(moto, "Producer", base.stacks["Producer"].template)
    deploy(moto, "Consumer", base.stacks["Consumer"].template)
    context = assemblies(tmp_path, base, head)
    client = boto3.client("cloudformation", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s")
    stub = Stubber(client)
    stub.add_client_error("list_imports", "AccessDenied", "not allowed", http_status_code=403)
    stub.activate()
    facts = aws.gather(context, factory(moto, client))
    result = live.apply_live(analyze(context.base, context.head, context), context, facts)
    finding = only(result, live.UNKNOWN_RULE)
    assert finding.severity is Severity.WARNING and finding.export == SHARED
    assert result.worst() is Severity.WARNING  # the check is neutral, not success
    assert "ListImports" in finding.message


def test_a_plan_is_not_verified_while_an_outside_importer_blocks_it(moto: str, tmp_path: Path) -> None:
    def app(key: str) -> AppBuilder:
        a = shared_layer_app(key)
        a.stacks["Consumer"].resource("Fn", "AWS::SSM::Parameter", Name="layer", Type="String",
                                      Value=import_value(SHARED))
        return a

    base, head = app("k1.zip"), app("k2.zip")
    deploy(moto, "Producer", base.stacks["Producer"].template)
    deploy(moto, "Consumer", base.stacks["Consumer"].template)
    deploy(moto, "OtherTeamStack", OUTSIDE_TEMPLATE)
    context = assemblies(tmp_path, base, head)
    result, _ = live_result(context, moto, {SHARED: ["Consumer", "OtherTeamStack"]})
    planned = live.plan_findings(result, context)
    in_app = only(planned, "export-value-change-in-use")
    assert in_app.remediation is not None
    assert not in_app.remediation.checked and not in_app.remediation.verified
    assert "OtherTeamStack" in in_app.remediation.verification.reason


def test_the_live_check_stops_at_its_budget_and_says_what_is_unknown(moto: str, tmp_path: Path) -> None:
    base, head = shared_layer_app("k1.zip"), shared_layer_app("k2.zip")
    deploy(moto, "Producer", base.stacks["Producer"].template)
    context = assemblies(tmp_path, base, head)
    ticks = iter([0.0, 1.0, 2.0, 500.0, 501.0, 502.0, 503.0])  # a stuck endpoint: 500 s pass in one call
    client, stub = imports_stub({})  # ListImports is never reached
    facts = aws.gather(context, factory(moto, client), budget_seconds=300, clock=lambda: next(ticks, 1e9))
    stub.assert_no_pending_responses()
    assert f"{ENV}: the live check stopped at its 300-second budget; what was not read yet is unknown" in \
        facts[ENV].problems
    result = live.apply_live(analyze(context.base, context.head, context), context, facts)
    assert only(result, live.UNKNOWN_RULE).export == SHARED  # unknown, not clean
