"""weak-reference-stale: a weak reference's or SSM link's value changes.

The deploy succeeds, but the consumer keeps the value it resolved at its own last
deploy until it is deployed again after the producer.
"""

from __future__ import annotations

from bot.core.changes import StackDiff, property_value_change
from bot.core.context import Context
from bot.core.model import Cause, Finding, Reference, ReferenceKind, ValueChange
from bot.core.rules.common import base_reference_ids, make_finding


def check(context: Context) -> list[Finding]:
    findings = []
    existing = base_reference_ids(context, ReferenceKind.WEAK, ReferenceKind.SSM)
    for ref in context.head_graph.by_kind(ReferenceKind.WEAK, ReferenceKind.SSM):
        consumer = context.head_stacks[ref.consumer]
        if ref.producer is None or (ref.environment, ref.name, consumer.stack_name) not in existing:
            continue  # a consumer that reads it for the first time gets the new value
        diff = context.diffs.get(ref.producer)
        if diff is None:
            continue
        change, causes = _value_change(diff, ref)
        if change is ValueChange.SAME:
            continue
        what = (
            f"output {ref.output} of {diff.head.stack_name} (read with Fn::GetStackOutput)"
            if ref.kind is ReferenceKind.WEAK
            else f"SSM parameter {ref.name} written by {diff.head.stack_name}"
        )
        verb = "changes" if change is ValueChange.CHANGES else "may change"
        message = (
            f"The {what} {verb}. The deploy succeeds, but {consumer.stack_name} keeps the old "
            f"value until it is deployed again after {diff.head.stack_name}."
        )
        findings.append(
            make_finding(
                "weak-reference-stale",
                refs=[ref],
                producer=diff.head,
                consumer_stacks=context.head_stacks,
                message=message,
                causes=causes,
                export=None,
                output=ref.output if ref.kind is ReferenceKind.WEAK else ref.name,
            )
        )
    return findings


def _value_change(diff: StackDiff, ref: Reference) -> tuple[ValueChange, tuple[Cause, ...]]:
    assert ref.output is not None
    if ref.kind is ReferenceKind.SSM:
        return property_value_change(diff, ref.output, "Value")
    base_output = diff.base.outputs.get(ref.output)
    head_output = diff.head.outputs.get(ref.output)
    if base_output is None or head_output is None:
        return ValueChange.SAME, ()  # new or gone: new-reference-order / deploy error
    change = diff.output_change(base_output, head_output)
    return change.change, change.causes
