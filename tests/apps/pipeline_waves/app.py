"""A CDK Pipelines app with a wave: stages Blue and Green deploy in parallel, each holding
Compute (a shared Lambda layer) and Admin (reads its ARN through a weak reference,
``Fn::GetStackOutput``: cdk.json sets ``@aws-cdk/core:defaultCrossStackReferences`` to weak).

Head gives the layer new contents. Expected: weak-reference-stale (warning) for each stage:
the producer's deploy succeeds, but Admin's template does not change and the pipeline has
no ``--force``. Variant ``step1`` is head plus a refresh tag on Admin (its change set then
re-reads the new value); removing the tag again (head) is the follow-up release.
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

app = cdk.App()
variant = app.node.try_get_context("variant") or "base"
if variant not in ("base", "head", "step1"):
    raise ValueError(f"context variant must be base, head or step1, got {variant!r}")
contents = "base" if variant == "base" else "head"


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


class ServiceStage(cdk.Stage):
    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        compute = ComputeStack(self, "Compute")
        admin = AdminStack(self, "Admin", compute=compute)
        if variant == "step1":
            cdk.Tags.of(admin).add("cdk-export-guard-refresh", "step1")  # temporary


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
        wave = pipeline.add_wave("Regions")
        wave.add_stage(ServiceStage(self, "Blue", env=ENV))
        wave.add_stage(ServiceStage(self, "Green", env=ENV))


PipelineStack(app, "Delivery", env=ENV)
app.synth()
