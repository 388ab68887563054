"""Per-resource impact from base to head, and what it does to each Output's value.

A resource is replaced when a create-only property changes (cfn-lint's provider
schemas), when its type changes, or when a create-only property refers to a resource
that is itself replaced; the replacement is propagated through ``Ref``/``Fn::GetAtt``
until nothing changes (as @aws-cdk/cloudformation-diff does). Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from bot.core import schemas
from bot.core.intrinsics import PSEUDO_PARAMETERS, Target, describe, walk_targets
from bot.core.model import Asset, Cause, Impact, Json, Output, Resource, Stack, ValueChange
from bot.core.secrets import masked

ADDED = "added"
REMOVED = "removed"
UPDATED = "updated"
UNCHANGED = "unchanged"

_HASH = re.compile(r"[0-9a-f]{64}")
_CHAIN_DEPTH = 8  # how far a cause chain follows references before it stops explaining


@dataclass(frozen=True)
class PropertyChange:
    path: tuple[str | int, ...]  # starts at the property name
    base: Json
    head: Json
    create_only: str  # "yes" | "conditional" | "no" | "unknown-type"
    via: str | None = None  # logical id whose new value flows in through a reference
    via_attribute: str | None = None  # the Fn::GetAtt attribute of ``via``; None for Ref


@dataclass(frozen=True)
class ResourceChange:
    logical_id: str
    status: str  # added | removed | updated | unchanged
    impact: Impact
    base: Resource | None
    head: Resource | None
    changes: tuple[PropertyChange, ...] = ()
    type_changed: bool = False

    @property
    def resource(self) -> Resource:
        resource = self.head or self.base
        assert resource is not None
        return resource


@dataclass(frozen=True)
class OutputChange:
    logical_id: str
    change: ValueChange
    causes: tuple[Cause, ...]
    base: Output
    head: Output


@dataclass(frozen=True)
class StackDiff:
    base: Stack
    head: Stack
    resources: Mapping[str, ResourceChange]
    # Keyed by output logical id, present only for outputs on both sides.
    outputs: Mapping[str, OutputChange]
    nested: Mapping[str, StackDiff] = field(default_factory=dict)
    identical: bool = False  # byte-identical templates: every resource and output unchanged

    def output_change(self, base_output: Output, head_output: Output) -> OutputChange:
        """Value change between two outputs (hand-named exports may move between ids)."""
        if base_output.logical_id == head_output.logical_id:
            known = self.outputs.get(head_output.logical_id)
            if known is not None:
                return known
        return _output_change(self, base_output, head_output)


def diff_stacks(base: Stack, head: Stack) -> StackDiff:
    """Compare one stack's two templates (and, recursively, its nested stacks)."""
    if base.digest and base.digest == head.digest:
        return _identical(base, head)
    nested = {
        logical_id: diff_stacks(base.nested[logical_id], head_child)
        for logical_id, head_child in head.nested.items()
        if logical_id in base.nested
    }
    resources = _initial_changes(base, head)
    resources = _propagate(base, head, resources, nested)
    diff = StackDiff(base=base, head=head, resources=resources, outputs={}, nested=nested)
    outputs = {
        logical_id: _output_change(diff, base.outputs[logical_id], head_output)
        for logical_id, head_output in head.outputs.items()
        if logical_id in base.outputs
    }
    return StackDiff(base=base, head=head, resources=resources, outputs=outputs, nested=nested)


def _identical(base: Stack, head: Stack) -> StackDiff:
    """Byte-identical templates (most stacks of a pull request): nothing changes.

    The per-resource entries are made only when someone asks for one.
    """
    outputs = {
        logical_id: OutputChange(logical_id, ValueChange.SAME, (), base.outputs[logical_id], output)
        for logical_id, output in head.outputs.items()
    }
    nested = {k: _identical(base.nested[k], child) for k, child in head.nested.items()}
    return StackDiff(base=base, head=head, resources=_Unchanged(base, head), outputs=outputs, nested=nested,
                     identical=True)


class _Unchanged(Mapping[str, ResourceChange]):
    """Every resource of a byte-identical stack as UNCHANGED, built on first access."""

    def __init__(self, base: Stack, head: Stack) -> None:
        self._base, self._head = base, head
        self._made: dict[str, ResourceChange] = {}

    def __getitem__(self, logical_id: str) -> ResourceChange:
        change = self._made.get(logical_id)
        if change is None:
            resource = self._head.resources[logical_id]
            change = ResourceChange(logical_id, UNCHANGED, Impact.NONE, self._base.resources[logical_id], resource)
            self._made[logical_id] = change
        return change

    def __iter__(self) -> Iterator[str]:
        return iter(self._head.resources)

    def __len__(self) -> int:
        return len(self._head.resources)


# --- classification ---------------------------------------------------------------


def _initial_changes(base: Stack, head: Stack) -> dict[str, ResourceChange]:
    out: dict[str, ResourceChange] = {}
    for logical_id, gone in base.resources.items():
        if logical_id not in head.resources:
            out[logical_id] = ResourceChange(logical_id, REMOVED, Impact.NONE, gone, None)
    for logical_id, h in head.resources.items():
        b = base.resources.get(logical_id)
        if b is None:
            out[logical_id] = ResourceChange(logical_id, ADDED, Impact.NONE, None, h)
        elif b.type != h.type:
            out[logical_id] = ResourceChange(
                logical_id, UPDATED, Impact.REPLACE, b, h, type_changed=True
            )
        else:
            changes = tuple(_classify(h, p, bv, hv) for p, bv, hv in _diff(
                b.properties, h.properties, ()
            ))
            impact = max((_impact_of(c) for c in changes), default=Impact.NONE)
            status = UPDATED if changes else UNCHANGED
            out[logical_id] = ResourceChange(logical_id, status, impact, b, h, changes)
    return out


def _classify(
    resource: Resource,
    path: tuple[str | int, ...],
    base: Json,
    head: Json,
    via: str | None = None,
    via_attribute: str | None = None,
) -> PropertyChange:
    rules = schemas.rules_for(resource.type)
    if rules is None:
        kind = "unknown-type"
    elif any(schemas.matches(rule, path) for rule in rules.create_only):
        kind = "yes"
    elif any(schemas.matches(rule, path) for rule in rules.conditional):
        # The update runs under head's UpdatePolicy, so head's resource decides.
        kind = schemas.conditional_outcome(resource.type, path, resource.update_policy)
    else:
        kind = "no"
    return PropertyChange(path, base, head, kind, via, via_attribute)


def _impact_of(change: PropertyChange, upstream: ValueChange = ValueChange.CHANGES) -> Impact:
    if change.create_only == "yes":
        return Impact.REPLACE if upstream is ValueChange.CHANGES else Impact.MAY_REPLACE
    if change.create_only in ("conditional", "unknown-type"):
        return Impact.MAY_REPLACE
    return Impact.UPDATE


def _diff(
    base: Json, head: Json, path: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], Json, Json]]:
    """Yield the paths where two JSON values differ, as deep as they stay comparable."""
    if base == head:
        return
    if isinstance(base, dict) and isinstance(head, dict) and not _is_intrinsic(base, head):
        for key in sorted(set(base) | set(head)):
            yield from _diff(base.get(key), head.get(key), (*path, key))
    elif isinstance(base, list) and isinstance(head, list) and len(base) == len(head):
        for i, (b, h) in enumerate(zip(base, head, strict=True)):
            yield from _diff(b, h, (*path, i))
    else:
        yield path, base, head


def _is_intrinsic(base: dict[str, Json], head: dict[str, Json]) -> bool:
    return (len(base) == 1 and next(iter(base)).startswith(("Fn::", "Ref"))) or (
        len(head) == 1 and next(iter(head)).startswith(("Fn::", "Ref"))
    )


# --- propagation ------------------------------------------------------------------


def _propagate(
    base: Stack,
    head: Stack,
    resources: dict[str, ResourceChange],
    nested: Mapping[str, StackDiff],
) -> dict[str, ResourceChange]:
    """Push new values through references until every dependent is classified."""
    changed_parameters = [name for name in head.parameters if _parameter_changed(base, head, name)]
    if not changed_parameters and not nested and all(c.status == UNCHANGED for c in resources.values()):
        return resources  # nothing changed, nothing to propagate (most stacks of a PR)
    # Who refers to what, in head: target logical id -> [(resource, path, attribute)].
    referrers: dict[str, list[tuple[str, tuple[str | int, ...], str | None]]] = defaultdict(list)
    for logical_id, resource in head.resources.items():
        if logical_id not in base.resources:
            continue
        for target in walk_targets(resource.properties):
            if target.logical_id not in PSEUDO_PARAMETERS:
                referrers[target.logical_id].append((logical_id, target.path, target.attribute))

    queue: deque[str] = deque(resources)
    queue.extend(changed_parameters)
    while queue:
        source = queue.popleft()
        for referrer, path, attribute in referrers.get(source, ()):
            upstream = _value_change(source, attribute, base, head, resources, nested)
            if upstream is ValueChange.SAME:
                continue
            current = resources[referrer]
            if current.type_changed or any(c.path == path and c.via == source for c in current.changes):
                continue
            change = _classify(current.resource, path, None, None, source, attribute)
            impact = max(current.impact, _impact_of(change, upstream))
            resources[referrer] = ResourceChange(
                referrer,
                UPDATED,
                impact,
                current.base,
                current.head,
                (*current.changes, change),
            )
            if impact != current.impact or current.status != UPDATED:
                queue.append(referrer)
    return resources


def _parameter_changed(base: Stack, head: Stack, name: str) -> bool:
    before = base.parameters.get(name)
    after = head.parameters[name]
    return before is not None and before.default != after.default


def _value_change(
    logical_id: str,
    attribute: str | None,
    base: Stack,
    head: Stack,
    resources: Mapping[str, ResourceChange],
    nested: Mapping[str, StackDiff],
) -> ValueChange:
    """Whether ``Ref``/``Fn::GetAtt`` of a resource or parameter yields a new value."""
    if logical_id in head.parameters:
        return ValueChange.CHANGES if _parameter_changed(base, head, logical_id) else ValueChange.SAME
    change = resources.get(logical_id)
    if change is None or change.status in (ADDED, REMOVED):
        return ValueChange.SAME  # the expression itself differs; compared textually
    replaced = ValueChange.of(change.impact)
    if replaced is not ValueChange.SAME or attribute is None:
        return replaced
    if change.resource.type == "AWS::CloudFormation::Stack" and attribute.startswith("Outputs."):
        child = nested.get(logical_id)
        if child is None:
            return ValueChange.MAY_CHANGE if change.status == UPDATED else ValueChange.SAME
        output = child.outputs.get(attribute[len("Outputs.") :])
        return output.change if output else ValueChange.SAME
    rules = schemas.rules_for(change.resource.type)
    following = rules.attributes_following.get(attribute, ()) if rules else ()
    if any(str(c.path[0]) in following for c in change.changes if c.path):
        return ValueChange.CHANGES
    return ValueChange.SAME


def property_value_change(
    diff: StackDiff, logical_id: str, property_name: str
) -> tuple[ValueChange, tuple[Cause, ...]]:
    """Whether one property of a resource gets a new value (e.g. an SSM parameter's Value)."""
    if diff.identical:
        return ValueChange.SAME, ()  # byte-identical templates: and no resource is modelled to say so
    change = diff.resources.get(logical_id)
    if change is None or change.status != UPDATED or change.type_changed:
        return ValueChange.SAME, ()
    worst = ValueChange.SAME
    causes: list[Cause] = []
    for prop in change.changes:
        if not prop.path or prop.path[0] != property_name:
            continue
        if prop.via is None:
            worst = ValueChange.CHANGES
            causes.append(_property_cause(diff, change, prop))
        else:
            level = _value_change(
                prop.via, prop.via_attribute, diff.base, diff.head, diff.resources, diff.nested
            )
            worst = max(worst, level)
            target = Target(prop.path, prop.via, prop.via_attribute)
            causes.extend(explain_target(diff, target, 1))
    return worst, tuple(_dedupe(causes))


# --- outputs and their causes -----------------------------------------------------


def _output_change(diff: StackDiff, base_output: Output, head_output: Output) -> OutputChange:
    if _canonical(base_output.value) != _canonical(head_output.value):
        moved = _expression_causes(diff, base_output, head_output)
        return OutputChange(head_output.logical_id, ValueChange.CHANGES, moved, base_output, head_output)
    worst = ValueChange.SAME
    causes: list[Cause] = []
    for target in walk_targets(head_output.value):
        change = _value_change(
            target.logical_id, target.attribute, diff.base, diff.head, diff.resources, diff.nested
        )
        if change is ValueChange.SAME:
            continue
        worst = max(worst, change)
        causes.extend(explain_target(diff, target))
    return OutputChange(head_output.logical_id, worst, tuple(_dedupe(causes)), base_output, head_output)


def _expression_causes(diff: StackDiff, base_output: Output, head_output: Output) -> tuple[Cause, ...]:
    before = {t.logical_id for t in walk_targets(base_output.value)}
    after = {t.logical_id for t in walk_targets(head_output.value)}
    causes: list[Cause] = []
    for old in sorted(before - after):
        for new in sorted(after - before):
            old_res = diff.base.resources.get(old)
            new_res = diff.head.resources.get(new)
            if old_res and new_res and old_res.type == new_res.type and new not in diff.base.resources:
                causes.append(_logical_id_changed(diff, old_res, new_res))
                causes.extend(_explain_new_resource(diff, new_res))
    causes.append(
        Cause(
            "output-value-changed",
            f"Output {head_output.logical_id} of {diff.head.stack_name} changes from "
            f"{describe(masked(base_output.value))} to {describe(masked(head_output.value))}",
            {
                "stack": diff.head.stack_name,
                "output": head_output.logical_id,
                "base": describe(masked(base_output.value), 300),
                "head": describe(masked(head_output.value), 300),
            },
        )
    )
    return tuple(_dedupe(causes))


def _logical_id_changed(diff: StackDiff, old: Resource, new: Resource) -> Cause:
    hashed = " (CDK derives this id from the resource's configuration, e.g. fn.current_version)" \
        if new.type == "AWS::Lambda::Version" else ""
    return Cause(
        "logical-id-changed",
        f"{old.type} {old.logical_id} becomes a new resource {new.logical_id}{hashed}: "
        "CloudFormation creates it and deletes the old one, so its Ref/Arn changes",
        {
            "stack": diff.head.stack_name,
            "resource_type": new.type,
            "base_logical_id": old.logical_id,
            "head_logical_id": new.logical_id,
            "construct_path": new.construct_path or old.construct_path,
        },
    )


def _explain_new_resource(diff: StackDiff, resource: Resource) -> list[Cause]:
    """Why a hashed-id resource was re-created: what it points at changed."""
    causes: list[Cause] = []
    for target in walk_targets(resource.properties):
        change = diff.resources.get(target.logical_id)
        if change is not None and change.status == UPDATED:
            causes.extend(_explain_resource(diff, change, depth=1))
    return causes


def explain_target(diff: StackDiff, target: Target, depth: int = 0) -> list[Cause]:
    """The chain of causes behind a changed ``Ref``/``Fn::GetAtt`` value."""
    if target.logical_id in diff.head.parameters:
        p_base = diff.base.parameters.get(target.logical_id)
        p_head = diff.head.parameters[target.logical_id]
        return [
            Cause(
                "property-changed",
                f"Parameter {target.logical_id} default changes from "
                f"{describe(masked(p_base.default, no_echo=p_base.no_echo) if p_base else None)} to "
                f"{describe(masked(p_head.default, no_echo=p_head.no_echo))}",
                {"stack": diff.head.stack_name, "parameter": target.logical_id},
            )
        ]
    change = diff.resources.get(target.logical_id)
    if change is None:
        return []
    if (
        change.resource.type == "AWS::CloudFormation::Stack"
        and target.attribute
        and target.attribute.startswith("Outputs.")
        and change.impact < Impact.MAY_REPLACE
    ):
        child = diff.nested.get(target.logical_id)
        name = target.attribute[len("Outputs.") :]
        inner = child.outputs.get(name) if child else None
        head_line = Cause(
            "nested-output-changed",
            f"Nested stack {target.logical_id} output {name} changes",
            {"stack": diff.head.stack_name, "resource": target.logical_id, "output": name},
        )
        return [head_line, *(inner.causes if inner else ())]
    return _explain_resource(diff, change, depth)


def _explain_resource(diff: StackDiff, change: ResourceChange, depth: int) -> list[Cause]:
    resource = change.resource
    details = {
        "stack": diff.head.stack_name,
        "resource": change.logical_id,
        "resource_type": resource.type,
        "construct_path": resource.construct_path,
    }
    if change.type_changed:
        assert change.base is not None
        return [
            Cause(
                "type-changed",
                f"{change.logical_id} changes type from {change.base.type} to {resource.type}: "
                "it is replaced",
                details,
            )
        ]
    causes: list[Cause] = []
    if change.impact is Impact.REPLACE:
        causes.append(Cause("resource-replaced", f"{resource.type} {change.logical_id} is replaced", details))
    elif change.impact is Impact.MAY_REPLACE:
        unknown = schemas.rules_for(resource.type) is None
        reason = (
            f"the type {resource.type} is not in the CloudFormation schemas, so any change may replace it"
            if unknown
            else "a property that replaces it only in some cases changes"
        )
        causes.append(
            Cause(
                "unknown-resource-type" if unknown else "resource-may-be-replaced",
                f"{resource.type} {change.logical_id} may be replaced: {reason}",
                details,
            )
        )
    relevant = [c for c in change.changes if c.create_only != "no"] or list(change.changes)
    for prop in relevant:
        if prop.via is not None:
            if depth < _CHAIN_DEPTH:
                target = Target(prop.path, prop.via, prop.via_attribute)
                causes.extend(explain_target(diff, target, depth + 1))
            continue
        causes.append(_property_cause(diff, change, prop))
    return causes


def _property_cause(diff: StackDiff, change: ResourceChange, prop: PropertyChange) -> Cause:
    resource = change.resource
    dotted = ".".join(str(p) for p in prop.path)
    shown_base, shown_head = masked(prop.base, prop.path), masked(prop.head, prop.path)
    asset = _asset_in(prop.head, diff.head.assets)
    details: dict[str, Json] = {
        "stack": diff.head.stack_name,
        "resource": change.logical_id,
        "resource_type": resource.type,
        "construct_path": resource.construct_path,
        "property": dotted,
        "create_only": prop.create_only,
        "base": describe(shown_base, 300),
        "head": describe(shown_head, 300),
    }
    if asset is not None:
        base_hash = _first_hash(prop.base)
        base_asset = diff.base.assets.get(base_hash) if base_hash else None
        details.update(
            {
                "asset_hash": asset.hash,
                "base_asset_hash": base_hash,
                "asset_kind": asset.kind,
                "display_name": asset.display_name,
                "source_path": asset.source_path,
                "base_source_path": base_asset.source_path if base_asset else None,
            }
        )
        label = asset.display_name or resource.asset_path or asset.hash[:12]
        return Cause(
            "asset-changed",
            f"asset {label} of {change.logical_id} changed ({dotted}: "
            f"{(base_hash or '?')[:12]}… -> {asset.hash[:12]}…)",
            details,
        )
    verb = {"yes": "a create-only property", "conditional": "a conditionally create-only property"}
    return Cause(
        "property-changed",
        f"{change.logical_id}.{dotted} changes from {describe(shown_base)} to {describe(shown_head)}"
        + (f" ({verb[prop.create_only]})" if prop.create_only in verb else ""),
        details,
    )


def _asset_in(value: Json, assets: Mapping[str, Asset]) -> Asset | None:
    text = value if isinstance(value, str) else json.dumps(value)
    for match in _HASH.finditer(text):
        if match.group(0) in assets:
            return assets[match.group(0)]
    return None


def _first_hash(value: Json) -> str | None:
    text = value if isinstance(value, str) else json.dumps(value)
    match = _HASH.search(text)
    return match.group(0) if match else None


def _canonical(value: Json) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _dedupe(causes: list[Cause]) -> list[Cause]:
    seen: set[str] = set()
    out = []
    for cause in causes:
        key = cause.kind + cause.message
        if key not in seen:
            seen.add(key)
            out.append(cause)
    return out
