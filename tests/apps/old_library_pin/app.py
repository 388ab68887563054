"""An automatic layer export whose app pins aws-cdk-lib below 2.254 (issue #10, failure kind 6).

The shape of layer_cross_stack (Compute's layer used by Admin; head changes its contents),
but the app's requirements.txt pins `aws-cdk-lib==2.253.0` and the assembly does not say
which aws-cdk-lib synthesized it: no tree.json (`tree_metadata=False`) and no CDKMetadata
(`analytics_reporting=False`). The tests synthesize it with the project's aws-cdk-lib; the
analyzer only sees the pin, so it must not lead with weak references (ignored below 2.254).
"""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

HERE = Path(__file__).parent
ENV = cdk.Environment(account="123456789012", region="us-east-1")
INLINE = "def handler(event, context):\n    return {}\n"

app = cdk.App(tree_metadata=False, analytics_reporting=False)
variant = app.node.try_get_context("variant") or "base"
if variant not in ("base", "head"):
    raise ValueError(f"context variant must be base or head, got {variant!r}")


class ComputeStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.shared_layer = lambda_.LayerVersion(
            self, "SharedLayer",
            code=lambda_.Code.from_asset(str(HERE / "layers" / "shared" / variant)),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
        )


class AdminStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, compute: ComputeStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        lambda_.Function(
            self, "AgentFunction", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE), layers=[compute.shared_layer],
        )


compute = ComputeStack(app, "Compute", env=ENV)
AdminStack(app, "Admin", compute=compute, env=ENV)
app.synth()
