"""Base and head assemblies in, findings and a per-stack change summary out. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from bot.core.changes import ADDED, REMOVED, UNCHANGED, UPDATED, StackDiff, diff_stacks
from bot.core.gcpause import paused
from bot.core.model import (
    AnalysisResult,
    Assembly,
    Environment,
    Finding,
    Impact,
    Stack,
    StackChanges,
    StackKey,
)
from bot.core.references import ReferenceGraph, build_graph


@dataclass(frozen=True)
class Context:
    """Everything a rule may look at; built once per analysis."""

    base: Assembly
    head: Assembly
    base_graph: ReferenceGraph
    head_graph: ReferenceGraph
    diffs: Mapping[StackKey, StackDiff]  # by head key, nested stacks included
    head_key_of: Mapping[StackKey, StackKey]  # base key -> head key of the same stack

    @cached_property
    def base_stacks(self) -> dict[StackKey, Stack]:
        return {s.key: s for s in self.base.all_stacks()}

    @cached_property
    def head_stacks(self) -> dict[StackKey, Stack]:
        return {s.key: s for s in self.head.all_stacks()}

    def diff_of_base(self, base_key: StackKey) -> StackDiff | None:
        head_key = self.head_key_of.get(base_key)
        return self.diffs.get(head_key) if head_key else None

    def upstream_in_head(self, key: StackKey) -> set[StackKey]:
        """Stacks `cdk deploy` puts before `key` in head (transitive dependencies)."""
        seen: set[StackKey] = set()
        todo = [key]
        while todo:
            stack = self.head_stacks.get(todo.pop())
            for dep in stack.dependencies if stack else ():
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return seen


@paused
def build_context(base: Assembly, head: Assembly) -> Context:
    """Pair the stacks, diff each pair, and build both reference graphs."""
    head_key_of = _match_stacks(base, head)
    diffs: dict[StackKey, StackDiff] = {}
    for base_key, head_key in head_key_of.items():
        if base_key in base.stacks:  # top level; nested ones come with their parent
            _collect(diff_stacks(base.stacks[base_key], head.stacks[head_key]), diffs)
    scans: dict[str, object] = {}  # template walks shared by identical base and head templates
    return Context(base, head, build_graph(base, scans), build_graph(head, scans), diffs, head_key_of)


@paused
def analyze(base: Assembly, head: Assembly, context: Context | None = None) -> AnalysisResult:
    """Find every cross-stack reference that head breaks or leaves stale."""
    from bot.core.rules import ALL_RULES

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


def _match_stacks(base: Assembly, head: Assembly) -> dict[StackKey, StackKey]:
    """Pair stacks by what CloudFormation sees: environment and stack name.

    Artifact ids may change while the deployed stack stays the same (an explicit
    ``stack_name``), so they are only the tie-breaker.
    """
    def identity(stack: Stack) -> tuple[Environment, str]:
        return stack.environment, stack.stack_name

    head_by_identity = {identity(s): s for s in head.stacks.values()}
    pairs: dict[StackKey, StackKey] = {}
    unmatched = []
    for stack in base.stacks.values():
        match = head_by_identity.get(identity(stack))
        if match is not None:
            pairs[stack.key] = match.key
        else:
            unmatched.append(stack)
    taken = set(pairs.values())
    for stack in unmatched:  # e.g. an app moving from environment-agnostic to explicit
        candidates = [
            h for h in head.stacks.values()
            if h.key not in taken and h.stack_name == stack.stack_name
            and h.environment.compatible(stack.environment)
        ]
        if len(candidates) == 1:
            pairs[stack.key] = candidates[0].key
            taken.add(candidates[0].key)
    for base_key, head_key in list(pairs.items()):
        _match_nested(base.stacks[base_key], head.stacks[head_key], pairs)
    return pairs


def _match_nested(base: Stack, head: Stack, pairs: dict[StackKey, StackKey]) -> None:
    for logical_id, child in base.nested.items():
        if logical_id in head.nested:
            pairs[child.key] = head.nested[logical_id].key
            _match_nested(child, head.nested[logical_id], pairs)


def _collect(diff: StackDiff, into: dict[StackKey, StackDiff]) -> None:
    into[diff.head.key] = diff
    for child in diff.nested.values():
        _collect(child, into)


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
