"""A CDK Pipelines app: stage Prod holds Compute (a shared Lambda layer) and Admin (uses it).

Head gives the layer new contents: a new layer version ARN behind the strong export
Admin imports. Expected: export-value-change-in-use (blocker), deployed by pipeline
Delivery-Pipeline, stage Prod. The plan's releases, as variants:
- ``step1``: base contents, ``@aws-cdk/core:defaultCrossStackReferences`` = ``both``;
- ``step2``: head contents, ``weak``, and a refresh tag on Admin (its template changes,
  so its change set re-reads the weak value; the pipeline has no ``--force``);
- ``step3``: head contents, ``weak``, tag removed.
"""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import pipelines
from constructs import Construct

HERE = Path(__file__).parent
ENV = cdk.Environment(account="123456789012", region="us-east-1")
INLINE = "def handler(event, context):\n    return {}\n"
CONNECTION = "arn:aws:codeconnections:us-east-1:123456789012:connection/00000000-0000-0000-0000-000000000000"
FLAG = "@aws-cdk/core:defaultCrossStackReferences"

app = cdk.App()
variant = app.node.try_get_context("variant") or "base"
if variant not in ("base", "head", "step1", "step2", "step3"):
    raise ValueError(f"context variant must be base, head or step1..3, got {variant!r}")
contents = "base" if variant in ("base", "step1") else "head"
strength = {"step1": "both", "step2": "weak", "step3": "weak"}.get(variant)
if strength:
    app.node.set_context(FLAG, strength)  # as cdk.json's context would


class ComputeStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.layer = lambda_.LayerVersion(
            self, "SharedLayer",
            code=lambda_.Code.from_asset(str(HERE / "layers" / "shared" / contents)),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
        )


class AdminStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, compute: ComputeStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        lambda_.Function(
            self, "AgentFunction", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE), layers=[compute.layer],
        )


class ProdStage(cdk.Stage):
    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        compute = ComputeStack(self, "Compute")
        admin = AdminStack(self, "Admin", compute=compute)
        if variant == "step2":
            cdk.Tags.of(admin).add("cdk-export-guard-refresh", "step2")  # temporary


class PipelineStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        pipeline = pipelines.CodePipeline(
            self, "Pipeline",
            pipeline_name="Delivery-Pipeline",
            synth=pipelines.ShellStep(
                "Synth",
                input=pipelines.CodePipelineSource.connection("example/app", "main", connection_arn=CONNECTION),
                commands=["pip install -r requirements.txt", "npx cdk synth"],
            ),
        )
        pipeline.add_stage(ProdStage(self, "Prod", env=ENV))


PipelineStack(app, "Delivery", env=ENV)
app.synth()
