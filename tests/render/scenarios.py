"""Small base/head assembly pairs for the renderer golden tests.

Each scenario writes ``<tmp>/base`` and ``<tmp>/head`` with ``tests.builders`` and
runs the real analysis (``run_analysis``), so the goldens show what users see.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.cli.analyze import run_analysis
from bot.core.model import AnalysisResult
from tests.builders import AppBuilder, import_value, ref

BASE_HASH = "a1" * 32
HEAD_HASH = "b2" * 32
PLACEHOLDER = "<TMP>"

# Everything a pull request author could put in a stack name, export name,
# construct path or asset path to break out of the comment's Markdown.
HOSTILE = "<img src=x>@octocat|`tick`](javascript:alert(1))"


def _layer_app(asset_hash: str, *, description: str = "shared libs") -> AppBuilder:
    app = AppBuilder()
    producer = app.stack("Producer")
    producer.resource(
        "Layer",
        "AWS::Lambda::LayerVersion",
        metadata={"aws:asset:path": f"asset.{asset_hash}", "aws:asset:property": "Content"},
        Content={"S3Bucket": "cdk-assets-bucket", "S3Key": f"{asset_hash}.zip"},
        Description=description,
    )
    producer.export("LayerArn", ref("Layer"), "Producer:ExportsOutputRefLayerC6B2F2B4")
    app.asset("Producer", asset_hash, "Layer/Code", f"asset.{asset_hash}")
    consumer = app.stack("Consumer", depends_on=["Producer"])
    consumer.resource(
        "Handler",
        "AWS::Lambda::Function",
        Runtime="python3.12",
        Handler="index.handler",
        Layers=[import_value("Producer:ExportsOutputRefLayerC6B2F2B4")],
    )
    return app


def layer_value_change(tmp: Path) -> AnalysisResult:
    """A layer's asset changes: the strong export of its ARN changes while imported."""
    base = _layer_app(BASE_HASH).write(tmp / "base")
    head = _layer_app(HEAD_HASH).write(tmp / "head")
    return run_analysis(base, head)


def _removal_app(*, exported: bool) -> AppBuilder:
    app = AppBuilder()
    producer = app.stack("Network")
    producer.resource("Vpc", "AWS::EC2::VPC", CidrBlock="10.0.0.0/16")
    producer.resource("Topic", "AWS::SNS::Topic")
    consumer = app.stack("Service", depends_on=["Network"])
    consumer.resource("Queue", "AWS::SQS::Queue")
    if exported:
        producer.export("VpcId", ref("Vpc"), "Network:ExportsOutputRefVpc8378EB38")
        consumer.resource(
            "Group",
            "AWS::EC2::SecurityGroup",
            GroupDescription="service",
            VpcId=import_value("Network:ExportsOutputRefVpc8378EB38"),
        )
    return app


def export_removed(tmp: Path) -> AnalysisResult:
    """The consumer stops importing and the producer drops the export in one change."""
    base = _removal_app(exported=True).write(tmp / "base")
    head = _removal_app(exported=False).write(tmp / "head")
    return run_analysis(base, head)


def _weak_app(asset_hash: str) -> AppBuilder:
    app = AppBuilder()
    producer = app.stack("Producer")
    producer.resource(
        "Layer",
        "AWS::Lambda::LayerVersion",
        metadata={"aws:asset:path": f"asset.{asset_hash}", "aws:asset:property": "Content"},
        Content={"S3Bucket": "cdk-assets-bucket", "S3Key": f"{asset_hash}.zip"},
    )
    producer.output("LayerArn", ref("Layer"))
    app.asset("Producer", asset_hash, "Layer/Code", f"asset.{asset_hash}")
    consumer = app.stack("Consumer", depends_on=["Producer"])
    consumer.resource(
        "Handler",
        "AWS::Lambda::Function",
        Layers=[{"Fn::GetStackOutput": {"StackName": "Producer", "OutputName": "LayerArn"}}],
    )
    return app


def weak_reference_stale(tmp: Path) -> AnalysisResult:
    """A weak reference (Fn::GetStackOutput) to a layer whose asset changes."""
    base = _weak_app(BASE_HASH).write(tmp / "base")
    head = _weak_app(HEAD_HASH).write(tmp / "head")
    return run_analysis(base, head)


def _quiet_app(code_key: str) -> AppBuilder:
    app = AppBuilder()
    producer = app.stack("Producer")
    producer.resource("Bucket", "AWS::S3::Bucket")
    producer.resource(
        "Fn", "AWS::Lambda::Function", Code={"S3Bucket": "b", "S3Key": code_key}, Runtime="python3.12"
    )
    producer.export("BucketName", ref("Bucket"), "Producer:ExportsOutputRefBucket83908E77")
    producer.export("FnArn", {"Fn::GetAtt": ["Fn", "Arn"]}, "Producer:ExportsOutputFnGetAttFnArn")
    consumer = app.stack("Consumer", depends_on=["Producer"])
    consumer.resource(
        "Queue", "AWS::SQS::Queue", QueueName=import_value("Producer:ExportsOutputRefBucket83908E77")
    )
    consumer.resource(
        "Rule", "AWS::Events::Rule", Targets=[{"Arn": import_value("Producer:ExportsOutputFnGetAttFnArn"),
                                               "Id": "fn"}]
    )
    return app


def no_findings(tmp: Path) -> AnalysisResult:
    """A Lambda code change updates in place: its exported Arn stays the same."""
    base = _quiet_app("code-v1.zip").write(tmp / "base")
    head = _quiet_app("code-v2.zip").write(tmp / "head")
    return run_analysis(base, head)


def _hostile_app(asset_hash: str, description: str) -> AppBuilder:
    app = AppBuilder()
    producer = app.stack(
        "Producer", stack_name=f"Prod{HOSTILE}", display_name="Stage/Prod```x`y'z"
    )
    producer.resource(
        "Layer",
        "AWS::Lambda::LayerVersion",
        metadata={
            "aws:cdk:path": f"Prod/{HOSTILE}/Layer\n# heading",
            "aws:asset:path": f"asset.{asset_hash}",
            "aws:asset:property": "Content",
        },
        Content={"S3Bucket": "cdk-assets-bucket", "S3Key": f"{asset_hash}.zip"},
        Description=description,
    )
    export = f"Export{HOSTILE}"
    producer.export("LayerArn", ref("Layer"), export)
    app.asset("Producer", asset_hash, f"Layer {HOSTILE}", f"assets/```sh\nrm -rf /{HOSTILE}")
    consumer = app.stack("Consumer", stack_name=f"@octocat|Cons`umer`<script>|{HOSTILE}",
                         depends_on=["Producer"])
    consumer.resource(
        "Handler",
        "AWS::Lambda::Function",
        metadata={"aws:cdk:path": f"Cons/{HOSTILE}|col|umn\nnext line"},
        Layers=[import_value(export)],
    )
    return app


def hostile(tmp: Path) -> AnalysisResult:
    """A layer value change where every name tries to inject Markdown or HTML."""
    base = _hostile_app(BASE_HASH, "<b>old</b> @octocat").write(tmp / "base")
    head = _hostile_app(HEAD_HASH, "new | ``` `x` ](javascript:alert(2))").write(tmp / "head")
    return run_analysis(base, head)


SCENARIOS: dict[str, Callable[[Path], AnalysisResult]] = {
    "layer_value_change": layer_value_change,
    "export_removed": export_removed,
    "weak_reference_stale": weak_reference_stale,
    "no_findings": no_findings,
    "hostile": hostile,
}


def stable(text: str, tmp: Path) -> str:
    """The report with the temporary assembly folder replaced by a placeholder."""
    return text.replace(str(tmp), PLACEHOLDER)
