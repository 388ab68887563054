"""A NestedStack creates the layer; a function in the parent stack uses it.

The value flows through the nested stack's Outputs (Fn::GetAtt Nested.Outputs.X): no export,
and parent and nested stack update together. Head changes the layer's contents.
Expected: no finding.
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


class LayerNestedStack(cdk.NestedStack):
    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.layer = lambda_.LayerVersion(
            self, "SharedLayer",
            code=lambda_.Code.from_asset(str(HERE / "layers" / "shared" / variant)),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
        )


class ParentStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        nested = LayerNestedStack(self, "Layers")
        lambda_.Function(
            self, "UserFunction", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE), layers=[nested.layer],
        )


ParentStack(app, "Parent", env=ENV)
app.synth()
