"""An environment-agnostic stack imports a hand-named export of a stack with an explicit environment.

The shape of aws-events' integ.eventbus-grants: Producer has env aws://123456789012/us-east-1 and
CfnOutput(export_name="shared-layer-arn"); Consumer has no env (unknown-account/unknown-region)
and Fn.import_value("shared-layer-arn"). Head changes the layer's contents.
Expected: base = head gives nothing; base -> head gives export-value-change-in-use (blocker),
consumer Consumer: the agnostic importer resolves against the one environment that exports it.
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


class ProducerStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        layer = lambda_.LayerVersion(
            self, "SharedLayer",
            code=lambda_.Code.from_asset(str(HERE / "layers" / "shared" / variant)),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
        )
        cdk.CfnOutput(self, "SharedLayerArn", value=layer.layer_version_arn, export_name="shared-layer-arn")


class ConsumerStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        layer = lambda_.LayerVersion.from_layer_version_arn(self, "L", cdk.Fn.import_value("shared-layer-arn"))
        lambda_.Function(
            self, "UserFunction", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE), layers=[layer],
        )


producer = ProducerStack(app, "Producer", env=ENV)
consumer = ConsumerStack(app, "Consumer")  # environment-agnostic
consumer.add_dependency(producer)  # an import by name creates no dependency by itself
app.synth()
