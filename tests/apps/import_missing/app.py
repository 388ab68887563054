"""The consumer imports team-x-vpc-id, which no stack of this app exports (an external export).

Base and head both import it; head only changes the function's memory size (in place).
Expected: no finding for this change (the import is not new); an analyzer that reports
external imports may say import-missing-export only when the import is new in head.
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
        lambda_.Function(
            self, "Worker", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE),
            memory_size=128 if variant == "base" else 256,
            environment={"VPC_ID": cdk.Fn.import_value("team-x-vpc-id"), "QUEUE_ARN": producer.queue.queue_arn},
        )


producer = ProducerStack(app, "Producer", env=ENV)
ConsumerStack(app, "Consumer", producer=producer, env=ENV)
app.synth()
