"""Analyzer rules on small hand-built assemblies (no synth): one test per behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.analysis import analyze
from bot.core.assembly import load_assembly
from bot.core.model import AnalysisResult, Finding, Severity
from tests.builders import AppBuilder, get_att, import_value, ref

LAYER_EXPORT = "Producer:ExportsOutputRefLayer1234"


def run(tmp_path: Path, base: AppBuilder, head: AppBuilder) -> AnalysisResult:
    return analyze(load_assembly(base.write(tmp_path / "base")), load_assembly(head.write(tmp_path / "head")))


def only(result: AnalysisResult, rule: str) -> Finding:
    matches = [f for f in result.findings if f.rule == rule]
    assert len(matches) == 1, [f"{f.rule}: {f.message}" for f in result.findings]
    return matches[0]


def layer_app(s3_key: str = "aaa.zip", *, consumer_imports: bool = True) -> AppBuilder:
    app = AppBuilder()
    p = app.stack("Producer")
    p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": s3_key})
    p.resource("Fn", "AWS::Lambda::Function", Layers=[ref("Layer")], Code={"ZipFile": "x"})
    if consumer_imports:
        p.export("ExportsOutputRefLayer", ref("Layer"), LAYER_EXPORT)
    c = app.stack("Consumer", depends_on=["Producer"] if consumer_imports else [])
    layers = [import_value(LAYER_EXPORT)] if consumer_imports else []
    c.resource("AdminFn", "AWS::Lambda::Function", Layers=layers, Code={"ZipFile": "y"})
    return app


def test_layer_content_change_blocks_while_imported(tmp_path: Path) -> None:
    result = run(tmp_path, layer_app("aaa.zip"), layer_app("bbb.zip"))
    finding = only(result, "export-value-change-in-use")
    assert finding.severity is Severity.BLOCKER
    assert (finding.producer, finding.export, finding.consumers) == ("Producer", LAYER_EXPORT, ("Consumer",))
    kinds = [c.kind for c in finding.causes]
    assert kinds[0] == "resource-replaced"
    assert "property-changed" in kinds
    assert finding.usages[0].resource == "AdminFn"
    assert finding.usages[0].path == "/Resources/AdminFn/Properties/Layers/0"
    assert f"Cannot update export {LAYER_EXPORT} as it is in use by Consumer" in finding.message


def test_asset_change_names_the_asset(tmp_path: Path) -> None:
    h1, h2 = "1" * 64, "2" * 64
    base = layer_app(f"{h1}.zip").asset("Producer", h1, "Layer/Code", f"asset.{h1}")
    head = layer_app(f"{h2}.zip").asset("Producer", h2, "Layer/Code", f"asset.{h2}")
    finding = only(run(tmp_path, base, head), "export-value-change-in-use")
    asset = next(c for c in finding.causes if c.kind == "asset-changed")
    assert asset.details["asset_hash"] == h2
    assert asset.details["base_asset_hash"] == h1
    assert asset.details["display_name"] == "Layer/Code"
    assert asset.details["source_path"] == f"asset.{h2}"


def test_unchanged_app_reports_nothing(tmp_path: Path) -> None:
    result = run(tmp_path, layer_app(), layer_app())
    assert result.findings == ()
    assert all(s.status == "unchanged" for s in result.stacks)


def test_in_place_update_is_not_flagged(tmp_path: Path) -> None:
    def app(code: str) -> AppBuilder:
        a = AppBuilder()
        p = a.stack("Producer")
        p.resource("Fn", "AWS::Lambda::Function", Code={"ZipFile": code}, Runtime="python3.12")
        p.export("FnArn", get_att("Fn", "Arn"), "fn-arn")
        a.stack("Consumer").resource("Q", "AWS::SQS::Queue", Tags=[{"Key": "k", "Value": import_value("fn-arn")}])
        return a

    result = run(tmp_path, app("v1"), app("v2"))
    assert result.findings == ()
    producer = next(s for s in result.stacks if s.stack_name == "Producer")
    assert producer.updated == ("Fn",) and producer.replaced == ()


def test_replacement_propagates_through_create_only_references(tmp_path: Path) -> None:
    # Queue renamed -> replaced; the Lambda::Version's FunctionName is create-only and
    # refers to... a function whose name depends on the queue: the chain must be followed.
    def app(queue_name: str) -> AppBuilder:
        a = AppBuilder()
        p = a.stack("Producer")
        p.resource("Q", "AWS::SQS::Queue", QueueName=queue_name)
        p.resource("Fn", "AWS::Lambda::Function", FunctionName={"Fn::GetAtt": ["Q", "QueueName"]})
        p.resource("Ver", "AWS::Lambda::Version", FunctionName=ref("Fn"))
        p.export("VerArn", ref("Ver"), "ver-arn")
        a.stack("Consumer").resource("T", "AWS::SNS::Topic", DisplayName=import_value("ver-arn"))
        return a

    finding = only(run(tmp_path, app("q1"), app("q2")), "export-value-change-in-use")
    replaced = [c.details["resource"] for c in finding.causes if c.kind == "resource-replaced"]
    assert replaced == ["Ver", "Fn", "Q"]


def test_conditional_create_only_is_a_warning(tmp_path: Path) -> None:
    def app(key: str) -> AppBuilder:
        a = AppBuilder()
        p = a.stack("Producer")
        p.resource("T", "AWS::DynamoDB::Table", KeySchema=[{"AttributeName": key, "KeyType": "HASH"}])
        p.export("TArn", get_att("T", "Arn"), "table-arn")
        a.stack("Consumer").resource("Q", "AWS::SQS::Queue", Tags=[{"Key": "t", "Value": import_value("table-arn")}])
        return a

    finding = only(run(tmp_path, app("pk"), app("id")), "export-value-may-change-in-use")
    assert finding.severity is Severity.WARNING


def test_unknown_type_may_be_replaced_said_plainly(tmp_path: Path) -> None:
    def app(size: str) -> AppBuilder:
        a = AppBuilder()
        p = a.stack("Producer")
        p.resource("Thing", "Custom::Thing", ServiceToken="arn:x", Size=size)
        p.export("ThingRef", ref("Thing"), "thing")
        a.stack("Consumer").resource("Q", "AWS::SQS::Queue", Tags=[{"Key": "t", "Value": import_value("thing")}])
        return a

    finding = only(run(tmp_path, app("1"), app("2")), "export-value-may-change-in-use")
    assert any(c.kind == "unknown-resource-type" and "not in the CloudFormation schemas" in c.message
               for c in finding.causes)


def test_hashed_logical_id_change_is_a_value_change(tmp_path: Path) -> None:
    def app(version_id: str, code: str) -> AppBuilder:
        a = AppBuilder()
        p = a.stack("Producer")
        p.resource("Fn", "AWS::Lambda::Function", Code={"ZipFile": code})
        p.resource(version_id, "AWS::Lambda::Version", FunctionName=ref("Fn"))
        p.export("ExportsOutputRefFnCurrentVersion", ref(version_id), "Producer:ExportsOutputRefFnCurrentVersion")
        a.stack("Consumer").resource(
            "Alias", "AWS::Lambda::Alias", FunctionVersion=import_value("Producer:ExportsOutputRefFnCurrentVersion"),
            FunctionName="f", Name="live")
        return a

    finding = only(run(tmp_path, app("FnCurrentVersionAAAA", "v1"), app("FnCurrentVersionBBBB", "v2")),
                   "export-value-change-in-use")
    moved = next(c for c in finding.causes if c.kind == "logical-id-changed")
    assert (moved.details["base_logical_id"], moved.details["head_logical_id"]) == (
        "FnCurrentVersionAAAA", "FnCurrentVersionBBBB")
    assert any(c.kind == "property-changed" and c.details["resource"] == "Fn" for c in finding.causes)


def test_hand_named_export_with_join_and_stack_name(tmp_path: Path) -> None:
    name = {"Fn::Join": ["-", [ref("AWS::StackName"), "layer"]]}

    def app(key: str) -> AppBuilder:
        a = AppBuilder()
        p = a.stack("Producer")
        p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": key})
        p.export("LayerArn", ref("Layer"), name)
        a.stack("Consumer").resource("Fn", "AWS::Lambda::Function",
                                     Layers=[import_value({"Fn::Sub": "Producer-layer"})])
        return a

    finding = only(run(tmp_path, app("a.zip"), app("b.zip")), "export-value-change-in-use")
    assert finding.export == "Producer-layer"


def test_dropped_import_blocks_when_producer_deploys_first(tmp_path: Path) -> None:
    base = layer_app()
    head = layer_app(consumer_imports=False)
    finding = only(run(tmp_path, base, head), "export-removed-in-use")
    assert finding.consumers == ("Consumer",)
    assert "cannot be deleted as it is in use by Consumer" in finding.message
    assert {c.kind for c in finding.causes} >= {"output-removed", "import-dropped"}


def test_dropped_import_is_fine_when_consumer_deploys_first(tmp_path: Path) -> None:
    base = layer_app()
    head = layer_app(consumer_imports=False)
    head.stacks["Producer"].depends_on.append("Consumer")  # head: consumer is upstream
    result = run(tmp_path, base, head)
    assert [f.rule for f in result.findings] == []


def test_import_of_export_removed_in_head_is_a_blocker(tmp_path: Path) -> None:
    head = layer_app()
    del head.stacks["Producer"].template["Outputs"]
    finding = only(run(tmp_path, layer_app(), head), "import-missing-export")
    assert finding.severity is Severity.BLOCKER


def test_new_external_import_is_a_warning_but_existing_one_is_quiet(tmp_path: Path) -> None:
    def app(with_import: bool) -> AppBuilder:
        a = AppBuilder()
        tags = [{"Key": "v", "Value": import_value("team-x-vpc")}] if with_import else []
        a.stack("Consumer").resource("Q", "AWS::SQS::Queue", Tags=tags)
        return a

    finding = only(run(tmp_path / "new", app(False), app(True)), "import-missing-export")
    assert finding.severity is Severity.WARNING
    assert run(tmp_path / "old", app(True), app(True)).findings == ()


def test_new_reference_is_a_notice(tmp_path: Path) -> None:
    finding = only(run(tmp_path, layer_app(consumer_imports=False), layer_app()), "new-reference-order")
    assert finding.severity is Severity.NOTICE


def test_weak_reference_change_is_stale_warning(tmp_path: Path) -> None:
    def app(key: str) -> AppBuilder:
        a = AppBuilder()
        p = a.stack("Producer")
        p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": key})
        p.output("PublishOutputRefLayer", ref("Layer"))
        a.stack("Consumer").resource("Fn", "AWS::Lambda::Function", Layers=[
            {"Fn::GetStackOutput": {"StackName": "Producer", "OutputName": "PublishOutputRefLayer"}}])
        return a

    finding = only(run(tmp_path, app("a.zip"), app("b.zip")), "weak-reference-stale")
    assert finding.export is None and finding.output == "PublishOutputRefLayer"
    assert not any(f.severity is Severity.BLOCKER for f in run(tmp_path / "2", app("a.zip"), app("b.zip")).findings)


def test_ssm_link_change_is_stale_warning(tmp_path: Path) -> None:
    def app(key: str) -> AppBuilder:
        a = AppBuilder()
        p = a.stack("Producer")
        p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": key})
        p.resource("Param", "AWS::SSM::Parameter", Name="/demo/layer-arn", Type="String", Value=ref("Layer"))
        c = a.stack("Consumer", depends_on=["Producer"])
        c.parameter("LayerParam", "AWS::SSM::Parameter::Value<String>", "/demo/layer-arn")
        c.resource("Fn", "AWS::Lambda::Function", Layers=[ref("LayerParam")])
        return a

    finding = only(run(tmp_path, app("a.zip"), app("b.zip")), "weak-reference-stale")
    assert finding.output == "/demo/layer-arn"
    assert finding.usages[0].path == "/Resources/Fn/Properties/Layers/0"


def test_nested_stack_value_flows_without_finding(tmp_path: Path) -> None:
    def app(key: str) -> AppBuilder:
        a = AppBuilder()
        parent = a.stack("Parent")
        child = parent.nested_stack("Inner")
        child.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": key})
        child.output("LayerArn", ref("Layer"))
        parent.resource("Fn", "AWS::Lambda::Function", Layers=[get_att("Inner", "Outputs.LayerArn")])
        return a

    assert run(tmp_path, app("a.zip"), app("b.zip")).findings == ()


def test_nested_stack_output_change_reaches_parent_export(tmp_path: Path) -> None:
    def app(key: str) -> AppBuilder:
        a = AppBuilder()
        parent = a.stack("Parent")
        child = parent.nested_stack("Inner")
        child.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": key})
        child.output("LayerArn", ref("Layer"))
        parent.export("Out", get_att("Inner", "Outputs.LayerArn"), "parent-layer")
        a.stack("Consumer").resource("Fn", "AWS::Lambda::Function", Layers=[import_value("parent-layer")])
        return a

    finding = only(run(tmp_path, app("a.zip"), app("b.zip")), "export-value-change-in-use")
    assert [c.kind for c in finding.causes][:2] == ["nested-output-changed", "resource-replaced"]


def test_stage_stacks_are_keyed_and_matched(tmp_path: Path) -> None:
    def app(key: str) -> AppBuilder:
        a = AppBuilder()
        stage = a.stage("Prod")
        p = stage.stack("ProdCompute1234", stack_name="Prod-Compute", display_name="Prod/Compute")
        p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": key})
        p.export("L", ref("Layer"), "Prod-Compute:ExportsOutputRefLayer")
        c = stage.stack("ProdAdmin1234", stack_name="Prod-Admin", display_name="Prod/Admin",
                        depends_on=["ProdCompute1234"])
        c.resource("Fn", "AWS::Lambda::Function", Layers=[import_value("Prod-Compute:ExportsOutputRefLayer")])
        return a

    finding = only(run(tmp_path, app("a.zip"), app("b.zip")), "export-value-change-in-use")
    assert finding.producer_key == "assembly-Prod/ProdCompute1234"
    assert finding.consumers == ("Prod-Admin",)


def test_same_export_name_in_other_region_is_a_different_export(tmp_path: Path) -> None:
    def app(key: str) -> AppBuilder:
        a = AppBuilder()
        p = a.stack("Producer", environment="aws://123456789012/eu-west-1")
        p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": key})
        p.export("L", ref("Layer"), "shared")
        a.stack("Consumer").resource("Fn", "AWS::Lambda::Function", Layers=[import_value("shared")])
        return a

    result = run(tmp_path, app("a.zip"), app("b.zip"))
    # us-east-1's consumer imports an export nobody in the app exports there: not this change's.
    assert [f.rule for f in result.findings] == []


@pytest.mark.parametrize("key", ["a.zip"])
def test_stack_renamed_artifact_matched_by_stack_name(tmp_path: Path, key: str) -> None:
    base = layer_app(key)
    head = AppBuilder()
    for artifact_id, stack in base.stacks.items():
        moved = head.stack(f"New{artifact_id}", stack_name=stack.stack_name,
                           depends_on=[f"New{d}" for d in stack.depends_on])
        moved.template = stack.template
    result = run(tmp_path, base, head)
    assert result.findings == ()
    assert {s.status for s in result.stacks} == {"unchanged"}


def test_app_moving_from_agnostic_to_explicit_environment_is_the_same_app(tmp_path: Path) -> None:
    def app(environment: str, key: str) -> AppBuilder:
        a = AppBuilder()
        p = a.stack("Producer", environment=environment)
        p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": key})
        p.export("L", ref("Layer"), LAYER_EXPORT)
        a.stack("Consumer", environment=environment, depends_on=["Producer"]).resource(
            "Fn", "AWS::Lambda::Function", Layers=[import_value(LAYER_EXPORT)])
        return a

    agnostic = "aws://unknown-account/unknown-region"
    explicit = "aws://123456789012/us-east-1"
    quiet = run(tmp_path / "same", app(agnostic, "a.zip"), app(explicit, "a.zip"))
    assert quiet.findings == ()
    assert {s.status for s in quiet.stacks} == {"unchanged"}
    finding = only(run(tmp_path / "changed", app(agnostic, "a.zip"), app(explicit, "b.zip")),
                   "export-value-change-in-use")
    assert finding.consumers == ("Consumer",)


# --- issue #16: one environment rule, successive stack versions, update policies ----------------

AGNOSTIC = "aws://unknown-account/unknown-region"


def test_agnostic_importer_resolves_against_the_one_explicit_exporter(tmp_path: Path) -> None:
    def app(key: str) -> AppBuilder:
        a = AppBuilder()
        p = a.stack("Producer")  # aws://123456789012/us-east-1
        p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": key})
        p.export("L", ref("Layer"), "shared-layer-arn")
        a.stack("Consumer", environment=AGNOSTIC, depends_on=["Producer"]).resource(
            "Fn", "AWS::Lambda::Function", Layers=[import_value("shared-layer-arn")])
        return a

    assert run(tmp_path / "same", app("a.zip"), app("a.zip")).findings == ()
    finding = only(run(tmp_path / "changed", app("a.zip"), app("b.zip")), "export-value-change-in-use")
    assert (finding.producer, finding.consumers) == ("Producer", ("Consumer",))


def test_agnostic_importer_of_a_name_two_environments_export_is_a_note(tmp_path: Path) -> None:
    def app(key: str) -> AppBuilder:
        a = AppBuilder()
        for artifact_id, region in (("East", "us-east-1"), ("West", "us-west-2")):
            p = a.stack(artifact_id, environment=f"aws://123456789012/{region}")
            p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": key})
            p.export("L", ref("Layer"), "shared-layer-arn")
        a.stack("Consumer", environment=AGNOSTIC).resource(
            "Fn", "AWS::Lambda::Function", Layers=[import_value("shared-layer-arn")])
        return a

    result = run(tmp_path, app("a.zip"), app("b.zip"))
    assert result.findings == ()
    (note,) = [n for n in result.notes if "environment-agnostic" in n]
    assert "Consumer" in note and "East (aws://123456789012/us-east-1)" in note and "West" in note


def test_successive_versions_of_one_stack_are_analysed_as_the_last(tmp_path: Path) -> None:
    """aws-redshift-alpha integ.cluster-reboot: `update` depends on `create`, same stackName."""
    def app(key: str) -> AppBuilder:
        a = AppBuilder()
        for artifact_id, depends in (("create", []), ("update", ["create"])):
            p = a.stack(artifact_id, stack_name="cluster", depends_on=depends)
            p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": key})
            p.export("L", ref("Layer"), "cluster-layer")
        a.stack("Consumer", depends_on=["update"]).resource(
            "Fn", "AWS::Lambda::Function", Layers=[import_value("cluster-layer")])
        return a

    base_dir = app("a.zip").write(tmp_path / "base")
    assembly = load_assembly(base_dir)
    assert sorted(assembly.stacks) == ["Consumer", "update"]
    assert assembly.stacks["Consumer"].dependencies == ("update",)
    assert any("successive versions (create, update)" in p for p in assembly.problems)
    finding = only(analyze(assembly, load_assembly(app("b.zip").write(tmp_path / "head"))),
                   "export-value-change-in-use")
    assert (finding.producer, finding.consumers) == ("cluster", ("Consumer",))


def asg_app(launch: str, update_policy: dict[str, object] | None) -> AppBuilder:
    """integ.queue-hook's shape: a launch configuration swapped for a launch template."""
    a = AppBuilder()
    p = a.stack("Producer")
    launch_props = ({"LaunchConfigurationName": ref("LC")} if launch == "config"
                    else {"LaunchTemplate": {"LaunchTemplateId": ref("LT"), "Version": "1"}})
    p.resource("LC", "AWS::AutoScaling::LaunchConfiguration", ImageId="ami-1", InstanceType="t3.micro")
    p.resource("LT", "AWS::EC2::LaunchTemplate", LaunchTemplateData={"ImageId": "ami-1"})
    p.resource("Asg", "AWS::AutoScaling::AutoScalingGroup", MinSize="1", MaxSize="1", **launch_props)
    if update_policy is not None:
        p.template["Resources"]["Asg"]["UpdatePolicy"] = update_policy
    p.resource("Hook", "AWS::AutoScaling::LifecycleHook", AutoScalingGroupName=ref("Asg"),
               LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING")
    p.export("AsgName", ref("Asg"), "asg-name")
    a.stack("Consumer", depends_on=["Producer"]).resource(
        "Q", "AWS::SQS::Queue", Tags=[{"Key": "asg", "Value": import_value("asg-name")}])
    return a


def test_asg_launch_template_swap_without_replacing_policy_updates_in_place(tmp_path: Path) -> None:
    result = run(tmp_path, asg_app("config", None), asg_app("template", None))
    assert result.findings == ()
    (asg,) = [s for s in result.stacks if s.stack_name == "Producer"]
    assert "Asg" in asg.updated and "Asg" not in asg.replaced and "Hook" not in asg.replaced


def test_asg_launch_template_swap_under_will_replace_replaces_the_group(tmp_path: Path) -> None:
    policy = {"AutoScalingReplacingUpdate": {"WillReplace": True}}
    result = run(tmp_path, asg_app("config", policy), asg_app("template", policy))
    finding = only(result, "export-value-change-in-use")
    assert finding.export == "asg-name"


def test_asg_will_replace_from_a_condition_stays_a_may_change(tmp_path: Path) -> None:
    policy = {"AutoScalingReplacingUpdate": {"WillReplace": {"Fn::If": ["Cond", True, False]}}}
    only(run(tmp_path, asg_app("config", policy), asg_app("template", policy)), "export-value-may-change-in-use")
