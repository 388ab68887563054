"""A weak reference read inside a nested stack (cdk.json: defaultCrossStackReferences = weak).

Consumer's nested stack Functions uses Producer's layer; CDK reads it in the parent with
Fn::GetStackOutput and passes it down as a nested-stack parameter. Head changes the layer's
contents. Expected: weak-reference-stale (warning), consumer Consumer.
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


class FunctionsStack(cdk.NestedStack):
    def __init__(self, scope: Construct, id: str, *, producer: ProducerStack) -> None:
        super().__init__(scope, id)
        lambda_.Function(
            self, "UserFunction", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE), layers=[producer.layer],
        )


class ConsumerStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, producer: ProducerStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        FunctionsStack(self, "Functions", producer=producer)


producer = ProducerStack(app, "Producer", env=ENV)
ConsumerStack(app, "Consumer", producer=producer, env=ENV)
app.synth()
