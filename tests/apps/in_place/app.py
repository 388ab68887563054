"""Exported resources change, but in place: their Ref/Arn stay the same.

Producer's function code asset changes (Function updates in place) and its table's billing
mode goes PAY_PER_REQUEST -> PROVISIONED (updatable). Consumer reads the function ARN and
the table name. Expected: no finding.
"""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_dynamodb as dynamodb
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
        billing = (
            {"billing_mode": dynamodb.BillingMode.PAY_PER_REQUEST}
            if variant == "base"
            else {"billing_mode": dynamodb.BillingMode.PROVISIONED, "read_capacity": 5, "write_capacity": 5}
        )
        self.table = dynamodb.Table(
            self, "Items",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            removal_policy=cdk.RemovalPolicy.DESTROY,
            **billing,
        )


class ConsumerStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, producer: ProducerStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        lambda_.Function(
            self, "Caller", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE),
            environment={"API_ARN": producer.function.function_arn, "TABLE_NAME": producer.table.table_name},
        )


producer = ProducerStack(app, "Producer", env=ENV)
ConsumerStack(app, "Consumer", producer=producer, env=ENV)
app.synth()
