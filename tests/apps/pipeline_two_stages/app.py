"""A CDK Pipelines app with two stages, Beta then Prod, each holding Storage and Processing.

Base: Processing reads Storage's bucket name, in both stages. Head: it no longer does, so
CDK drops the export and the dependency; each stage runs both stacks at one RunOrder.
Variant ``step1`` is head plus the plan's release 1: a temporary
``storage.add_dependency(processing)`` in the stage class (both stages get it).

Expected: two export-removed-in-use blockers (Beta-Storage's and Prod-Storage's export),
deployed by pipeline Delivery-Pipeline, stages Beta and Prod; Beta deploys before Prod.
"""

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import pipelines
from constructs import Construct

ENV = cdk.Environment(account="123456789012", region="us-east-1")
INLINE = "def handler(event, context):\n    return {}\n"
CONNECTION = "arn:aws:codeconnections:us-east-1:123456789012:connection/00000000-0000-0000-0000-000000000000"

app = cdk.App()
variant = app.node.try_get_context("variant") or "base"
if variant not in ("base", "head", "step1"):
    raise ValueError(f"context variant must be base, head or step1, got {variant!r}")


class StorageStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.bucket = s3.Bucket(self, "Uploads")


class ProcessingStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, storage: StorageStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        environment = {"BUCKET": storage.bucket.bucket_name} if variant == "base" else {}
        lambda_.Function(
            self, "Worker", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE), environment=environment,
        )


class ServiceStage(cdk.Stage):
    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        storage = StorageStack(self, "Storage")
        processing = ProcessingStack(self, "Processing", storage=storage)
        if variant == "step1":
            storage.add_dependency(processing)  # temporary, one release: Processing deploys first


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
        pipeline.add_stage(ServiceStage(self, "Beta", env=ENV))
        pipeline.add_stage(ServiceStage(self, "Prod", env=ENV))


PipelineStack(app, "Delivery", env=ENV)
app.synth()
