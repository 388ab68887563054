"""The consumer uses the producer function's current_version; head changes the function's code.

CDK names the Version resource with a hash of the function's configuration, so a code change
gives it a new logical id: a new version, a new ARN behind the same export.
Expected: export-value-change-in-use (blocker), cause: the Version's logical id changed.
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
        self.function = lambda_.Function(
            self, "Api", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_asset(str(HERE / "functions" / "api" / variant)),
        )
        self.version = self.function.current_version


class ConsumerStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, producer: ProducerStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        lambda_.Function(
            self, "Caller", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE),
            environment={"API_VERSION_ARN": producer.version.function_arn},
        )


producer = ProducerStack(app, "Producer", env=ENV)
ConsumerStack(app, "Consumer", producer=producer, env=ENV)
app.synth()
