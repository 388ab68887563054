"""App versions for the simulator, built from the analyzed assemblies. Pure.

``base_version`` is what is deployed; ``head_version`` is the pull request, optionally
focused on one finding (every other export keeps its base value and presence, so a
plan is judged on the problem it is meant to fix). The transforms build the
intermediate versions a plan asks people to write (a consumer moved to a weak
reference, an export kept one more release, a reference detached).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import replace

from bot.analysis import Context
from bot.changes import property_value_change
from bot.model import Assembly, Finding, ReferenceKind, Stack, StackKey, ValueChange
from bot.references import ReferenceGraph
from bot.simulate import AppVersion, StackSpec

BASE = "base"
HEAD = "head"


def base_version(context: Context) -> AppVersion:
    return _version(context.base, context.base_graph, BASE, lambda *_: BASE)


def head_version(context: Context, focus: Finding | None = None) -> AppVersion:
    """Head as the simulator sees it; with ``focus``, only that finding's value moves."""

    def token(kind: str, stack: Stack, name: str) -> str:
        if focus is not None and not _is_subject(focus, kind, stack, name):
            return BASE
        return HEAD if _changes(context, kind, stack, name) else BASE

    version = _version(context.head, context.head_graph, HEAD, token)
    return _neutralize_others(context, version, focus) if focus is not None else version


def _is_subject(focus: Finding, kind: str, stack: Stack, name: str) -> bool:
    if focus.producer_key is not None and stack.key != focus.producer_key and stack.parent != focus.producer_key:
        return False
    return name in (focus.export, focus.output)


def _changes(context: Context, kind: str, stack: Stack, name: str) -> bool:
    """Whether a published value of a head stack differs from its base value."""
    base_key = next((b for b, h in context.head_key_of.items() if h == stack.key), None)
    diff = context.diffs.get(stack.key)
    if base_key is None or diff is None:
        return True  # a new stack publishes new values
    if kind == "ssm":
        resource = next(
            (lid for lid, r in stack.resources.items() if r.type == "AWS::SSM::Parameter"
             and _ssm_name(context.head_graph, stack.key, lid) == name),
            None,
        )
        if resource is None:
            return True
        return property_value_change(diff, resource, "Value")[0] is not ValueChange.SAME
    head_output = _output(diff.head, kind, name)
    base_output = _output(diff.base, kind, name)
    if head_output is None or base_output is None:
        return True
    return diff.output_change(base_output, head_output).change is not ValueChange.SAME


def _output(stack: Stack, kind: str, name: str):  # type: ignore[no-untyped-def]
    if kind == "export":
        return next((o for o in stack.outputs.values() if o.export_name == name), None)
    return stack.outputs.get(name)


def _ssm_name(graph: ReferenceGraph, key: StackKey, logical_id: str) -> str | None:
    return next((p.name for p in graph.ssm_parameters.values() if p.stack == key and p.source == logical_id), None)


def _version(
    assembly: Assembly,
    graph: ReferenceGraph,
    label: str,
    token: Callable[[str, Stack, str], str],
) -> AppVersion:
    ids = {s.key: s.hierarchical_id for s in assembly.stacks.values()}
    top_of = {s.key: _top(assembly, s) for s in assembly.all_stacks()}
    specs: dict[str, StackSpec] = {}
    for stack in assembly.stacks.values():
        members = [s for s in assembly.all_stacks() if top_of[s.key] == stack.key]
        specs[stack.hierarchical_id] = StackSpec(
            id=stack.hierarchical_id,
            name=stack.stack_name,
            template=f"{stack.stack_name}@{_template_hash(stack)}",
            dependencies=frozenset(ids[d] for d in stack.dependencies if d in ids),
            exports={
                o.export_name: f"{o.export_name}@{token('export', s, o.export_name)}"
                for s in members for o in s.outputs.values() if o.export_name
            },
            outputs={
                o.logical_id: f"{stack.stack_name}.{o.logical_id}@{token('output', stack, o.logical_id)}"
                for o in stack.outputs.values()
            },
            ssm_writes={
                p.name: f"{p.name}@{token('ssm', assembly_stack(assembly, p.stack), p.name)}"
                for p in graph.ssm_parameters.values() if top_of.get(p.stack) == stack.key
            },
        )
    by_key = {s.key: s for s in assembly.all_stacks()}
    for ref in graph.references:
        consumer_id = ids[top_of[ref.consumer]]
        spec = specs[consumer_id]
        if ref.kind is ReferenceKind.STRONG:
            spec = replace(spec, imports=spec.imports | {ref.name})
        elif ref.kind is ReferenceKind.WEAK and ref.producer is not None and ref.output:
            producer = by_key[ref.producer]
            spec = replace(spec, weak_reads=spec.weak_reads | {(producer.stack_name, ref.output)})
        elif ref.kind is ReferenceKind.SSM:
            spec = replace(spec, ssm_reads=spec.ssm_reads | {ref.name})
        specs[consumer_id] = spec
    return AppVersion(label, specs)


def assembly_stack(assembly: Assembly, key: StackKey) -> Stack:
    return next(s for s in assembly.all_stacks() if s.key == key)


def _top(assembly: Assembly, stack: Stack) -> StackKey:
    by_key = {s.key: s for s in assembly.all_stacks()}
    while stack.parent is not None:
        stack = by_key[stack.parent]
    return stack.key


def _template_hash(stack: Stack) -> str:
    body = {
        "resources": {k: [r.type, r.properties] for k, r in stack.resources.items()},
        "outputs": {k: [o.value, o.export_name] for k, o in stack.outputs.items()},
        "parameters": {k: [p.type, p.default] for k, p in stack.parameters.items()},
        "nested": {k: _template_hash(s) for k, s in stack.nested.items()},
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _neutralize_others(context: Context, version: AppVersion, focus: Finding) -> AppVersion:
    """Restore exports other findings remove; drop imports of names nobody exports."""
    specs = dict(version.stacks)
    head_exports = {e for spec in specs.values() for e in spec.exports}
    id_by_name = {spec.name: spec_id for spec_id, spec in specs.items()}
    for spec in base_version(context).stacks.values():
        target = id_by_name.get(spec.name)
        restored = {
            e: t for e, t in spec.exports.items() if e not in head_exports and e != focus.export
        }
        if target is not None and restored:
            specs[target] = replace(specs[target], exports={**specs[target].exports, **restored})
    exported = {e for spec in specs.values() for e in spec.exports}
    for spec_id, spec in specs.items():
        imports = frozenset(i for i in spec.imports if i in exported or i == focus.export)
        if imports != spec.imports:
            specs[spec_id] = replace(spec, imports=imports)
    return replace(version, stacks=specs)


# --- the versions a plan asks people to write --------------------------------------


def publish_name(export: str) -> str:
    return f"Publish[{export}]"


def weak_switch(version: AppVersion, export: str, producer: str, consumers: Iterable[str],
                *, keep_export: bool, label: str) -> AppVersion:
    """Consumers read ``export``'s value with Fn::GetStackOutput instead of importing it.

    ``keep_export``: the `both` mode (the export stays); False is the `weak` mode.
    """
    specs = dict(version.stacks)
    p = specs[producer]
    outputs = {**p.outputs, publish_name(export): p.exports[export]}
    exports = dict(p.exports) if keep_export else {k: v for k, v in p.exports.items() if k != export}
    specs[producer] = replace(p, outputs=outputs, exports=exports, template=p.template + "+" + label)
    for consumer in consumers:
        c = specs[consumer]
        specs[consumer] = replace(
            c,
            imports=c.imports - {export},
            weak_reads=c.weak_reads | {(p.name, publish_name(export))},
            template=c.template + "+weak-read",
        )
    return replace(version, label=label, stacks=specs)


def ssm_switch(version: AppVersion, export: str, producer: str, consumers: Iterable[str],
               *, parameter: str, keep_export: bool, label: str) -> AppVersion:
    """Consumers read the value from an SSM parameter the producer writes."""
    specs = dict(version.stacks)
    p = specs[producer]
    writes = {**p.ssm_writes, parameter: p.exports[export]}
    exports = dict(p.exports) if keep_export else {k: v for k, v in p.exports.items() if k != export}
    specs[producer] = replace(p, ssm_writes=writes, exports=exports, template=p.template + "+" + label)
    for consumer in consumers:
        c = specs[consumer]
        specs[consumer] = replace(
            c,
            imports=c.imports - {export},
            ssm_reads=c.ssm_reads | {parameter},
            dependencies=c.dependencies | {producer},
            template=c.template + "+ssm-read",
        )
    return replace(version, label=label, stacks=specs)


def detach(version: AppVersion, export: str, consumers: Iterable[str], *, label: str) -> AppVersion:
    """Consumers no longer use the value at all."""
    specs = dict(version.stacks)
    for consumer in consumers:
        c = specs[consumer]
        specs[consumer] = replace(c, imports=c.imports - {export}, template=c.template + "-detached")
    return replace(version, label=label, stacks=specs)


def keep_export(version: AppVersion, export: str, producer: str, token: str, *, label: str) -> AppVersion:
    """The producer keeps exporting ``export`` (``stack.export_value``) one more release."""
    specs = dict(version.stacks)
    p = specs[producer]
    specs[producer] = replace(p, exports={**p.exports, export: token}, template=p.template + "+kept")
    return replace(version, label=label, stacks=specs)


def restrict(version: AppVersion, ids: Iterable[str]) -> AppVersion:
    """Only the given stacks (to check a plan reached its target for them)."""
    wanted = set(ids)
    return replace(version, stacks={k: v for k, v in version.stacks.items() if k in wanted})
