"""A table's create-only TableName changes in head, so the table is replaced, and three
exports of it change value together: two automatic ones (its name, read by a function's
environment, and its ARN, in the grant's policy) and a hand-named one
(``CfnOutput(export_name="orders-table-name")`` read with ``Fn.import_value``), the shape of
Kilianrm/cloud-expenses-app with a hand-named output added. ``consumer.add_dependency(producer)``.

Expected: three export-value-change-in-use blockers. The reference flag moves only the
automatic references, an SSM parameter only the hand-named one: one plan does both.
"""

import aws_cdk as cdk
from aws_cdk import CfnOutput, Fn
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

ENV = cdk.Environment(account="123456789012", region="us-east-1")
INLINE = "def handler(event, context):\n    return {}\n"

app = cdk.App()
variant = app.node.try_get_context("variant") or "base"
if variant not in ("base", "head"):
    raise ValueError(f"context variant must be base or head, got {variant!r}")


class ProducerStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.table = dynamodb.Table(
            self, "Orders", table_name="orders-v1" if variant == "base" else "orders-v2",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        )
        CfnOutput(self, "OrdersTableName", value=self.table.table_name, export_name="orders-table-name")


class ConsumerStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, producer: ProducerStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        writer = lambda_.Function(
            self, "Writer", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE),
            environment={"TABLE": producer.table.table_name},
        )
        producer.table.grant_read_write_data(writer)
        lambda_.Function(
            self, "Reader", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE),
            environment={"TABLE": Fn.import_value("orders-table-name")},
        )


producer = ProducerStack(app, "Producer", env=ENV)
consumer = ConsumerStack(app, "Consumer", producer=producer, env=ENV)
consumer.add_dependency(producer)
app.synth()
