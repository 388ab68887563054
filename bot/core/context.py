"""The analysis context: base and head paired stack by stack, diffed, and their reference graphs. Pure.

Built once per analysis and read by every rule (``bot.core.rules``), the planner and live mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from bot.core.changes import StackDiff, diff_stacks
from bot.core.gcpause import paused
from bot.core.model import Assembly, Environment, Stack, StackKey
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
