"""SSM link: Producer writes the layer ARN to /demo/layer-arn; Consumer reads it at deploy time.

Consumer's template gets a Parameter of type AWS::SSM::Parameter::Value<String>; no export.
Head changes the layer's contents. Expected: weak-reference-stale (warning): Consumer keeps
the old ARN until it is redeployed after Producer.
"""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

HERE = Path(__file__).parent
ENV = cdk.Environment(account="123456789012", region="us-east-1")
INLINE = "def handler(event, context):\n    return {}\n"

app = cdk.App()
variant = app.node.try_get_context("variant") or "base"
if variant not in ("base", "head"):
    raise ValueError(f"context variant must be base or head, got {variant!r}")

PARAMETER_NAME = "/demo/layer-arn"


class ProducerStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        layer = lambda_.LayerVersion(
            self, "SharedLayer",
            code=lambda_.Code.from_asset(str(HERE / "layers" / "shared" / variant)),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
        )
        ssm.StringParameter(self, "LayerArnParameter", parameter_name=PARAMETER_NAME,
                            string_value=layer.layer_version_arn)


class ConsumerStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        arn = ssm.StringParameter.value_for_string_parameter(self, PARAMETER_NAME)
        layer = lambda_.LayerVersion.from_layer_version_arn(self, "L", arn)
        lambda_.Function(
            self, "UserFunction", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
            code=lambda_.Code.from_inline(INLINE), layers=[layer],
        )


producer = ProducerStack(app, "Producer", env=ENV)
consumer = ConsumerStack(app, "Consumer", env=ENV)
consumer.add_dependency(producer)  # CDK records none for an SSM link
app.synth()
