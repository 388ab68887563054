"""Base and head assemblies in, findings and a per-stack change summary out. Pure.

The rules (``bot.core.rules``) each read the ``Context`` (``bot.core.context``); this module
runs them all and summarizes what changed per stack.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.changes import ADDED, REMOVED, UNCHANGED, UPDATED
from bot.core.context import Context, build_context
from bot.core.gcpause import paused
from bot.core.model import AnalysisResult, Assembly, Finding, Impact, Stack, StackChanges
from bot.core.rules import ALL_RULES


@paused
def analyze(base: Assembly, head: Assembly, context: Context | None = None) -> AnalysisResult:
    """Find every cross-stack reference that head breaks or leaves stale."""
    context = context or build_context(base, head)
    findings: list[Finding] = []
    for rule in ALL_RULES:
        findings.extend(rule(context))
    findings.sort(key=lambda f: (-f.severity, f.rule, f.producer, f.subject))
    return AnalysisResult(
        base=base,
        head=head,
        findings=tuple(findings),
        stacks=tuple(_summaries(context)),
        notes=tuple(f"base: {p}" for p in base.problems)
        + tuple(f"head: {p}" for p in head.problems)
        + tuple(_ambiguous_notes(context)),
    )


def _ambiguous_notes(context: Context) -> list[str]:
    """An environment-agnostic stack whose import several environments could satisfy."""
    notes = []
    for ref in context.head_graph.ambiguous:
        consumer = context.head_stacks[ref.consumer].stack_name
        producers = ", ".join(
            f"{context.head_stacks[k].stack_name} ({context.head_stacks[k].environment})"
            for k in ref.ambiguous_producers
        )
        notes.append(
            f"head: {consumer} is environment-agnostic and reads {ref.name}, which {producers} publish; "
            "the account and region it deploys to decide which, so this reference is not judged"
        )
    return notes


def _summaries(context: Context) -> list[StackChanges]:
    out: list[StackChanges] = []
    matched_heads = set(context.head_key_of.values())
    for diff in context.diffs.values():
        groups: dict[str, list[str]] = {"added": [], "updated": [], "replaced": [], "removed": []}
        if diff.identical:
            out.append(_summary(diff.head, groups, UNCHANGED))
            continue
        for logical_id, change in sorted(diff.resources.items()):
            if change.status == ADDED:
                groups["added"].append(logical_id)
            elif change.status == REMOVED:
                groups["removed"].append(logical_id)
            elif change.status == UPDATED and change.impact >= Impact.MAY_REPLACE:
                groups["replaced"].append(logical_id)
            elif change.status == UPDATED:
                groups["updated"].append(logical_id)
        outputs_changed = set(diff.base.outputs) != set(diff.head.outputs) or any(
            diff.base.outputs[k].value != o.value or diff.base.outputs[k].export_name != o.export_name
            for k, o in diff.head.outputs.items()
            if k in diff.base.outputs
        )
        changed = any(groups.values()) or outputs_changed
        out.append(_summary(diff.head, groups, "changed" if changed else UNCHANGED))
    for stack in context.head.all_stacks():
        if stack.key not in matched_heads:
            groups = {"added": sorted(stack.resources), "updated": [], "replaced": [], "removed": []}
            out.append(_summary(stack, groups, "added"))
    for stack in context.base.all_stacks():
        if stack.key not in context.head_key_of:
            groups = {"added": [], "updated": [], "replaced": [], "removed": sorted(stack.resources)}
            out.append(_summary(stack, groups, "removed"))
    out.sort(key=lambda s: (s.stack_name, s.stack_key))
    return out


def _summary(stack: Stack, groups: Mapping[str, list[str]], status: str) -> StackChanges:
    return StackChanges(
        stack_key=stack.key,
        stack_name=stack.stack_name,
        artifact_id=stack.artifact_id,
        environment=stack.environment,
        added=tuple(groups["added"]),
        updated=tuple(groups["updated"]),
        replaced=tuple(groups["replaced"]),
        removed=tuple(groups["removed"]),
        status=status,
    )
