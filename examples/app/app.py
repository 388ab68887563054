"""The bundled example: three layers in Example-ComputeStack, used by Example-AdminInsightsStack.

Shaped like the app in the cross-stack export explainer. `-c variant=head` changes only the
Strands layer's contents, which replaces that layer version, changes the value of its
automatic export, and makes deploying Example-ComputeStack fail while
Example-AdminInsightsStack imports it.
"""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

HERE = Path(__file__).parent
ENV = cdk.Environment(account="123456789012", region="us-east-1")
RUNTIME = lambda_.Runtime.PYTHON_3_12
INLINE = "def handler(event, context):\n    return {}\n"


class ComputeStack(cdk.Stack):
    """Owns the layers and uses them (same-stack references: no export)."""

    def __init__(self, scope: Construct, id: str, *, variant: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.strands_layer = self._layer("StrandsLayer", HERE / "layers" / "strands" / variant)
        self.powertools_layer = self._layer("PowertoolsLayer", HERE / "layers" / "powertools")
        self.utils_layer = self._layer("UtilsLayer", HERE / "layers" / "utils")
        self.chat_function = lambda_.Function(
            self, "ChatFunction", runtime=RUNTIME, handler="index.handler", code=lambda_.Code.from_inline(INLINE),
            layers=[self.strands_layer, self.powertools_layer, self.utils_layer],
        )

    def _layer(self, id: str, folder: Path) -> lambda_.LayerVersion:
        return lambda_.LayerVersion(self, id, code=lambda_.Code.from_asset(str(folder)), compatible_runtimes=[RUNTIME])


class AdminInsightsStack(cdk.Stack):
    """Uses ComputeStack's layers (cross-stack references: CDK exports their ARNs)."""

    def __init__(self, scope: Construct, id: str, *, compute_stack: ComputeStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.agent_function = lambda_.Function(
            self, "AgentFunction", runtime=RUNTIME, handler="index.handler", code=lambda_.Code.from_inline(INLINE),
            layers=[compute_stack.strands_layer, compute_stack.powertools_layer, compute_stack.utils_layer],
        )


app = cdk.App()
variant = app.node.try_get_context("variant") or "base"
if variant not in ("base", "head"):
    raise ValueError(f"context variant must be base or head, got {variant!r}")
compute_stack = ComputeStack(app, "Example-ComputeStack", variant=variant, env=ENV)
AdminInsightsStack(app, "Example-AdminInsightsStack", compute_stack=compute_stack, env=ENV)
app.synth()
