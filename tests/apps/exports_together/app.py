"""Two automatic layer exports; head moves the consumer to hand-named exports (the corpus's
`f0d9370 -> 4693e68` in small): the automatic exports disappear while the deployed Admin
imports them, and Admin's new imports do not exist before Compute deploys.

Expected: two export-removed-in-use blockers on Compute (and two new-reference-order
notices). Keeping one export alone does not work: the other is still deleted. Both kept
for one release (`export_value`) works: one plan for the pull request.
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
        self.a_layer = lambda_.LayerVersion(
            self, "ALayer",
            code=lambda_.Code.from_asset(str(HERE / "layers" / "a")),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
        )
        self.b_layer = lambda_.LayerVersion(
            self, "BLayer",
            code=lambda_.Code.from_asset(str(HERE / "layers" / "b")),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
        )
        if variant == "head":
            cdk.CfnOutput(self, "AArn", value=self.a_layer.layer_version_arn, export_name="demo-a-layer-arn")
            cdk.CfnOutput(self, "BArn", value=self.b_layer.layer_version_arn, export_name="demo-b-layer-arn")


class AdminStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, compute: ComputeStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        if variant == "head":
            layers = [
                lambda_.LayerVersion.from_layer_version_arn(self, "A", cdk.Fn.import_value("demo-a-layer-arn")),
                lambda_.LayerVersion.from_layer_version_arn(self, "B", cdk.Fn.import_value("demo-b-layer-arn")),
            ]
        else:
            layers = [compute.a_layer, compute.b_layer]
        lambda_.Function(
            self, "AgentFunction", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE), layers=layers,
        )


compute = ComputeStack(app, "Compute", env=ENV)
admin = AdminStack(app, "Admin", compute=compute, env=ENV)
admin.add_dependency(compute)  # imports by name create no dependency by themselves
app.synth()
