"""A Stage "Prod" holding Compute and Admin with a cross-stack layer reference.

The stacks live in the nested assembly assembly-Prod (stack names Prod-Compute, Prod-Admin).
Head changes the layer's contents. Expected: export-value-change-in-use (blocker) on
Prod-Compute's layer export imported by Prod-Admin.
"""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

HERE = Path(__file__).parent
ENV = cdk.Environment(account="123456789012", region="us-east-1")
INLINE = "def handler(event, context):\n    return {}\n"

app = cdk.App()
variant = app.node.try_get_context("variant") or "base"
if variant not in ("base", "head"):
    raise ValueError(f"context variant must be base or head, got {variant!r}")


class ComputeStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.layer = lambda_.LayerVersion(
            self, "SharedLayer",
            code=lambda_.Code.from_asset(str(HERE / "layers" / "shared" / variant)),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
        )
        lambda_.Function(
            self, "ChatFunction", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE), layers=[self.layer],
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
        AdminStack(self, "Admin", compute=compute)


ProdStage(app, "Prod", env=ENV)
app.synth()
