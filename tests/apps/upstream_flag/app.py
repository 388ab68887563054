"""The app-wide reference flag also changes a stack upstream of the fix (issue #10, failure kind 8).

Network exports a bucket's name to Compute (automatic reference); Compute exports its
layer's ARN to Admin. Head changes only the layer's contents: one blocker, Compute -> Admin.
The weak-reference split sets `@aws-cdk/core:defaultCrossStackReferences` app-wide, so
Network's template changes too (it publishes a plain output, then drops its export), and
`cdk deploy Compute Admin` deploys Network first (the CLI deploys upstream stacks). The
plan's simulation lines must say so: nothing "skipped unchanged" whose template changes.
"""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

HERE = Path(__file__).parent
ENV = cdk.Environment(account="123456789012", region="us-east-1")
INLINE = "def handler(event, context):\n    return {}\n"

app = cdk.App()
variant = app.node.try_get_context("variant") or "base"
if variant not in ("base", "head"):
    raise ValueError(f"context variant must be base or head, got {variant!r}")


class NetworkStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.artifacts = s3.Bucket(self, "Artifacts")


class ComputeStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, network: NetworkStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.shared_layer = lambda_.LayerVersion(
            self, "SharedLayer",
            code=lambda_.Code.from_asset(str(HERE / "layers" / "shared" / variant)),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
        )
        lambda_.Function(
            self, "Builder", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE), environment={"BUCKET": network.artifacts.bucket_name},
        )


class AdminStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, compute: ComputeStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        lambda_.Function(
            self, "AgentFunction", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE), layers=[compute.shared_layer],
        )


network = NetworkStack(app, "Network", env=ENV)
compute = ComputeStack(app, "Compute", network=network, env=ENV)
AdminStack(app, "Admin", compute=compute, env=ENV)
app.synth()
