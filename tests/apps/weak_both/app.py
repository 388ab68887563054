"""Migration mode (cdk.json: @aws-cdk/core:defaultCrossStackReferences = both).

Consumer reads Producer's layer ARN with Fn::GetStackOutput; Producer publishes it both as a
plain output and as the automatic strong export, which nothing imports any more. Head changes
the layer's contents. Expected: weak-reference-stale (warning) and no blocker: the export's
value changes, but no stack imports it.
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
        self.layer = lambda_.LayerVersion(
            self, "SharedLayer",
            code=lambda_.Code.from_asset(str(HERE / "layers" / "shared" / variant)),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
        )


class ConsumerStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, producer: ProducerStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        lambda_.Function(
            self, "UserFunction", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE), layers=[producer.layer],
        )


producer = ProducerStack(app, "Producer", env=ENV)
ConsumerStack(app, "Consumer", producer=producer, env=ENV)
app.synth()
