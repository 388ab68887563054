"""Small helpers shared by the rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from bot.core.context import Context
from bot.core.model import (
    Cause,
    Environment,
    Finding,
    Reference,
    ReferenceKind,
    Severity,
    Stack,
    StackKey,
    Usage,
)

RULE_DOCS: Mapping[str, tuple[Severity, str]] = {
    "export-value-change-in-use": (
        Severity.BLOCKER,
        "A strong export changes value while another stack imports it: CloudFormation "
        "refuses the producer's update ('Cannot update export ... as it is in use by ...').",
    ),
    "export-value-may-change-in-use": (
        Severity.WARNING,
        "A strong export may change value (conditional or unknown replacement) while "
        "another stack imports it.",
    ),
    "export-removed-in-use": (
        Severity.BLOCKER,
        "An export disappears while a deployed stack imports it, and the producer would "
        "be deployed first ('Export ... cannot be deleted as it is in use by ...').",
    ),
    "import-missing-export": (
        Severity.BLOCKER,
        "A stack imports an export that no stack of the app exports in head.",
    ),
    "weak-reference-stale": (
        Severity.WARNING,
        "A weak reference's or SSM link's value changes; the consumer keeps the old "
        "value until it is redeployed after the producer.",
    ),
    "new-reference-order": (
        Severity.NOTICE,
        "The pull request adds a reference to a value that does not exist yet: the "
        "producer must deploy before the consumer.",
    ),
    "export-in-use-outside-app": (
        Severity.BLOCKER,
        "An export the pull request changes or removes is imported by stacks outside this "
        "app (live mode, ListImports): no deploy of this app can change it until they stop "
        "importing it.",
    ),
}


def group_by_name(refs: Iterable[Reference]) -> dict[tuple[Environment, str], list[Reference]]:
    grouped: dict[tuple[Environment, str], list[Reference]] = defaultdict(list)
    for ref in refs:
        grouped[(ref.environment, ref.name)].append(ref)
    return grouped


def stack_name(stacks: Mapping[StackKey, Stack], key: StackKey) -> str:
    stack = stacks.get(key)
    return stack.stack_name if stack else str(key)


def make_finding(
    rule: str,
    *,
    severity: Severity | None = None,
    refs: list[Reference],
    producer: Stack | None,
    consumer_stacks: Mapping[StackKey, Stack],
    message: str,
    causes: Iterable[Cause],
    export: str | None,
    output: str | None,
) -> Finding:
    keys = sorted({r.consumer for r in refs})
    names = sorted({stack_name(consumer_stacks, k) for k in keys})
    usages: list[Usage] = sorted(
        {u for r in refs for u in r.usages}, key=lambda u: (u.stack, u.resource or "", u.path)
    )
    return Finding(
        rule=rule,
        severity=severity or RULE_DOCS[rule][0],
        environment=refs[0].environment,
        producer=producer.stack_name if producer else "",
        producer_key=producer.key if producer else None,
        export=export,
        output=output,
        consumers=tuple(names),
        consumer_keys=tuple(keys),
        reference_kind=refs[0].kind,
        message=message,
        causes=tuple(causes),
        usages=tuple(usages),
    )


def and_list(names: Iterable[str]) -> str:
    items = list(names)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


class ReferenceIndex:
    """Which (reference name, consumer stack) pairs exist, by environment."""

    def __init__(self, refs: Iterable[tuple[Environment, str, str]]) -> None:
        self._envs: dict[tuple[str, str], list[Environment]] = defaultdict(list)
        for environment, name, consumer in refs:
            self._envs[(name, consumer)].append(environment)

    def __contains__(self, item: tuple[Environment, str, str]) -> bool:
        environment, name, consumer = item
        return any(e.compatible(environment) for e in self._envs.get((name, consumer), ()))


def base_reference_ids(context: Context, *kinds: ReferenceKind) -> ReferenceIndex:
    """(environment, reference name, consumer stack name) of every base reference."""
    return ReferenceIndex(
        (r.environment, r.name, stack_name(context.base_stacks, r.consumer))
        for r in context.base_graph.by_kind(*kinds)
    )
