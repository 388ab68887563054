"""One producer, two blockers of different kinds in one pull request (a mixed group).

Base: Consumer uses Producer's layer and its queue (two automatic exports). Head gives the
layer new contents (a new layer version ARN: the export's value changes) and Consumer stops
using the queue (CDK drops that export).
Expected: export-value-change-in-use and export-removed-in-use (blockers), both on Producer.
Each finding's own plan fails on the real pull request (the other export still moves); one
combined plan for both works: the weak-reference split applied to the whole pull request.
"""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
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
        self.queue = sqs.Queue(self, "Jobs")


class ConsumerStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, producer: ProducerStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        environment = {"QUEUE_ARN": producer.queue.queue_arn} if variant == "base" else {}
        lambda_.Function(
            self, "Worker", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE), layers=[producer.layer], environment=environment,
        )


producer = ProducerStack(app, "Producer", env=ENV)
ConsumerStack(app, "Consumer", producer=producer, env=ENV)
app.synth()
