"""new-reference-order: head reads a value that only head publishes."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.model import Cause, Finding, Reference, ReferenceKind
from bot.core.rules.common import make_finding


def check(context: Context) -> list[Finding]:
    findings = []
    for ref in context.head_graph.references:
        if ref.producer is None or ref.kind is ReferenceKind.NESTED or _existed(context, ref):
            continue
        producer = context.head_stacks[ref.producer]
        consumer = context.head_stacks[ref.consumer]
        described = {
            ReferenceKind.STRONG: f"export {ref.name}",
            ReferenceKind.WEAK: f"output {ref.output} (Fn::GetStackOutput)",
            ReferenceKind.SSM: f"SSM parameter {ref.name}",
        }[ref.kind]
        findings.append(
            make_finding(
                "new-reference-order",
                refs=[ref],
                producer=producer,
                consumer_stacks=context.head_stacks,
                message=(
                    f"{consumer.stack_name} starts reading {described}, which {producer.stack_name} "
                    f"publishes for the first time: deploy {producer.stack_name} before "
                    f"{consumer.stack_name} (`cdk deploy` does this when both are selected)."
                ),
                causes=[
                    Cause(
                        "reference-added",
                        f"new {ref.kind.value} reference from {consumer.stack_name} to "
                        f"{producer.stack_name}",
                        {"stack": consumer.stack_name, "producer": producer.stack_name},
                    )
                ],
                export=ref.name if ref.kind is ReferenceKind.STRONG else None,
                output=ref.output if ref.kind is not ReferenceKind.SSM else ref.name,
            )
        )
    return findings


def _existed(context: Context, ref: Reference) -> bool:
    """Whether what the reference reads is already published in base."""
    if ref.kind is ReferenceKind.STRONG:
        return context.base_graph.export(ref.environment, ref.name) is not None
    if ref.kind is ReferenceKind.SSM:
        return context.base_graph.ssm_parameter(ref.environment, ref.name) is not None
    producer = context.head_stacks[ref.producer] if ref.producer else None
    if producer is not None and ref.output not in producer.outputs:
        return True  # head does not publish it either: nothing new to order (fails either way)
    base_keys = [k for k, h in context.head_key_of.items() if h == ref.producer]
    if producer is None or not base_keys:
        return False
    base_producer = context.base_stacks[base_keys[0]]
    return ref.output in base_producer.outputs
