"""A mixed group without weak references: a hand-named export changes value while an
automatic one disappears, both imported by Consumer.

Base: Consumer imports the layer ARN by name (`Fn.import_value("mixed-layer-arn")`) and
uses Producer's queue (an automatic export). Head gives the layer new contents and Consumer
stops using the queue.
Expected: export-value-change-in-use (hand-named: the reference flag cannot help) and
export-removed-in-use (blockers) on Producer. One plan for both: change 1 passes the layer
ARN through an SSM parameter (patches); change 2 deploys Consumer first (it lets go of the
queue), then Producer, then Consumer again to read the new ARN.
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
        layer = lambda_.LayerVersion(
            self, "SharedLayer",
            code=lambda_.Code.from_asset(str(HERE / "layers" / "shared" / variant)),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
        )
        cdk.CfnOutput(self, "SharedLayerArn", value=layer.layer_version_arn, export_name="mixed-layer-arn")
        self.queue = sqs.Queue(self, "Jobs")


class ConsumerStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, producer: ProducerStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        layer = lambda_.LayerVersion.from_layer_version_arn(self, "L", cdk.Fn.import_value("mixed-layer-arn"))
        environment = {"QUEUE_ARN": producer.queue.queue_arn} if variant == "base" else {}
        lambda_.Function(
            self, "Worker", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE), layers=[layer], environment=environment,
        )


producer = ProducerStack(app, "Producer", env=ENV)
consumer = ConsumerStack(app, "Consumer", producer=producer, env=ENV)
consumer.add_dependency(producer)  # an import by name creates no dependency by itself
app.synth()
