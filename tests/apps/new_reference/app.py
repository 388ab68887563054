"""Base: the consumer does not use the producer's queue. Head: it does (new export + new import).

Expected: new-reference-order (notice): Producer must deploy before Consumer.
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
        self.queue = sqs.Queue(self, "Jobs")


class ConsumerStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, producer: ProducerStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        environment = {"QUEUE_ARN": producer.queue.queue_arn} if variant == "head" else {}
        lambda_.Function(
            self, "Worker", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE), environment=environment,
        )


producer = ProducerStack(app, "Producer", env=ENV)
ConsumerStack(app, "Consumer", producer=producer, env=ENV)
app.synth()
