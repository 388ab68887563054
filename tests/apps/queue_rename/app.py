"""A queue's create-only QueueName changes in head, so the queue is replaced.

The consumer's function gets the queue URL (Ref) and ARN (GetAtt Arn) in env vars (two
automatic exports). Expected: export-value-change-in-use (blocker) on both exports.
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
        self.queue = sqs.Queue(self, "Orders", queue_name="orders-v1" if variant == "base" else "orders-v2")


class ConsumerStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, producer: ProducerStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        lambda_.Function(
            self, "Worker", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE),
            environment={"QUEUE_URL": producer.queue.queue_url, "QUEUE_ARN": producer.queue.queue_arn},
        )


producer = ProducerStack(app, "Producer", env=ENV)
ConsumerStack(app, "Consumer", producer=producer, env=ENV)
app.synth()
