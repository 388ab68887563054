"""App versions for the simulator, built from the analyzed assemblies. Pure.

``Versions.base`` is what is deployed; ``Versions.head`` is the pull request, optionally
focused on one finding (every other export keeps its base value and presence, so a
plan is judged on the problem it is meant to fix). The transforms build the
intermediate versions a plan asks people to write (a consumer moved to a weak
reference, an export kept one more release, a reference detached).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import orjson

from bot.core.changes import property_value_change
from bot.core.context import Context
from bot.core.model import Assembly, Environment, Finding, Output, ReferenceKind, Stack, StackKey, ValueChange
from bot.core.references import ReferenceGraph
from bot.plans.simulate import AppVersion, StackSpec

BASE = "base"
HEAD = "head"


class Versions:
    """Base and head of one analysis as simulator versions, computed once.

    Per finding, the focused head is derived from a shared skeleton (every value at
    its base token, exports other findings remove restored, imports of names nobody
    exports dropped) by touching only the stacks that publish the finding's subject:
    planning stays linear in the size of the app.
    """

    def __init__(self, context: Context) -> None:
        self.context = context
        self._head_base_key = {h: b for b, h in context.head_key_of.items()}
        self._ssm_sources = {(p.stack, p.name): p.source for p in context.head_graph.ssm_parameters.values()}
        every = context.head.all_stacks()
        by_key = {s.key: s for s in every}
        self._members: dict[StackKey, list[Stack]] = {}
        for stack in every:
            self._members.setdefault(_top_key(context.head, stack, by_key), []).append(stack)
        self.base = _version(context.base, context.base_graph, BASE, lambda *_: BASE)
        skeleton = _version(context.head, context.head_graph, HEAD, lambda *_: BASE)
        self._removed = self._removed_exports(skeleton)
        self.skeleton = _neutralize(skeleton, self._removed)

    def state(self, label: str) -> AppVersion:
        """The whole head assembly as one plan state (a synthesized app state).

        A value that differs from base gets a token naming what makes it: its expression
        and the definitions of the resources it refers to. Two states agree on a value
        exactly when those agree (an in-place change counts as a change: conservative).
        """
        def token(kind: str, stack: Stack, name: str) -> str:
            return "v" + self._identity(kind, stack, name) if self._changes(kind, stack, name) else BASE

        return _version(self.context.head, self.context.head_graph, label, token)

    def _identity(self, kind: str, stack: Stack, name: str) -> str:
        if kind == "ssm":
            resource = stack.resources.get(self._ssm_sources.get((stack.key, name)) or "")
            expression = resource.properties.get("Value") if resource else None
        else:
            output = _output(stack, kind, name)
            expression = output.value if output else None
        referred = {i: [stack.resources[i].type, stack.resources[i].properties]
                    for i in sorted(_referred_ids(expression)) if i in stack.resources}
        body = json.dumps([expression, referred], sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()[:12]

    def head(self, focus: Finding | None = None) -> AppVersion:
        """Head as the simulator sees it; with ``focus``, only that finding's value moves."""
        if focus is None:
            return _version(self.context.head, self.context.head_graph, HEAD, self._token)
        specs = dict(self.skeleton.stacks)
        if focus.export and focus.export in self._removed:
            spec_id, _ = self._removed[focus.export]
            exports = {k: v for k, v in specs[spec_id].exports.items() if k != focus.export}
            specs[spec_id] = replace(specs[spec_id], exports=exports)
        producer = self._head_stack(focus.producer_key)
        if producer is not None:
            spec = specs.get(producer.hierarchical_id)
            if spec is not None:
                members = self._members.get(producer.key, [producer])
                specs[producer.hierarchical_id] = self._flip(spec, producer, members, focus)
        return replace(self.skeleton, stacks=specs)

    def _flip(self, spec: StackSpec, top: Stack, members: list[Stack], focus: Finding) -> StackSpec:
        exports = dict(spec.exports)
        for member in members:
            for output in member.outputs.values():
                name = output.export_name
                if name and name == focus.export and name in exports:
                    exports[name] = f"{name}@{self._token('export', member, name)}"
        outputs = dict(spec.outputs)
        if focus.output in outputs:
            outputs[focus.output] = f"{top.stack_name}.{focus.output}@{self._token('output', top, focus.output)}"
        writes = dict(spec.ssm_writes)
        if focus.output in writes:
            writer = next((m for m in members if (m.key, focus.output) in self._ssm_sources), top)
            writes[focus.output] = f"{focus.output}@{self._token('ssm', writer, focus.output)}"
        return replace(spec, exports=exports, outputs=outputs, ssm_writes=writes)

    def _head_stack(self, key: StackKey | None) -> Stack | None:
        if key is None:
            return None
        stack = self.context.head_stacks.get(key)
        while stack is not None and stack.parent is not None:
            stack = self.context.head_stacks.get(stack.parent)
        return stack

    def _removed_exports(self, head: AppVersion) -> dict[str, tuple[str, str]]:
        """Exports of base that head no longer has: name -> (head spec id to restore on, base token)."""
        head_exports = {e for spec in head.stacks.values() for e in spec.exports}
        id_by_name = {spec.name: spec_id for spec_id, spec in head.stacks.items()}
        removed = {}
        for spec in self.base.stacks.values():
            target = id_by_name.get(spec.name)
            for export, token in spec.exports.items():
                if target is not None and export not in head_exports:
                    removed[export] = (target, token)
        return removed

    def _token(self, kind: str, stack: Stack, name: str) -> str:
        return HEAD if self._changes(kind, stack, name) else BASE

    def _changes(self, kind: str, stack: Stack, name: str) -> bool:
        """Whether a published value of a head stack differs from its base value."""
        diff = self.context.diffs.get(stack.key)
        if self._head_base_key.get(stack.key) is None or diff is None:
            return True  # a new stack publishes new values
        if kind == "ssm":
            resource = self._ssm_sources.get((stack.key, name))
            if resource is None:
                return True
            return property_value_change(diff, resource, "Value")[0] is not ValueChange.SAME
        head_output = _output(diff.head, kind, name)
        base_output = _output(diff.base, kind, name)
        if head_output is None or base_output is None:
            return True
        return diff.output_change(base_output, head_output).change is not ValueChange.SAME


def _referred_ids(value: Any) -> set[str]:
    """Logical ids a template expression refers to (Ref, Fn::GetAtt, ${X} in Fn::Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt" and isinstance(item, list) and item and isinstance(item[0], str):
                found.add(item[0])
            elif key == "Fn::GetAtt" and isinstance(item, str):
                found.add(item.split(".", 1)[0])
            elif key == "Fn::Sub":
                text = item[0] if isinstance(item, list) and item else item
                if isinstance(text, str):
                    found.update(m.split(".", 1)[0] for m in re.findall(r"\$\{([^}!][^}]*)\}", text))
                found |= _referred_ids(item)
            else:
                found |= _referred_ids(item)
    elif isinstance(value, list):
        for item in value:
            found |= _referred_ids(item)
    return found


def _neutralize(version: AppVersion, removed: dict[str, tuple[str, str]]) -> AppVersion:
    """Restore removed exports; drop imports of names nobody exports (other findings' problems)."""
    specs = dict(version.stacks)
    for export, (spec_id, token) in removed.items():
        specs[spec_id] = replace(specs[spec_id], exports={**specs[spec_id].exports, export: token})
    exported = {e for spec in specs.values() for e in spec.exports}
    for spec_id, spec in specs.items():
        imports = frozenset(i for i in spec.imports if i in exported)
        if imports != spec.imports:
            specs[spec_id] = replace(spec, imports=imports)
    return replace(version, stacks=specs)


def _output(stack: Stack, kind: str, name: str) -> Output | None:
    if kind == "export":
        return next((o for o in stack.outputs.values() if o.export_name == name), None)
    return stack.outputs.get(name)


def _version(
    assembly: Assembly,
    graph: ReferenceGraph,
    label: str,
    token: Callable[[str, Stack, str], str],
) -> AppVersion:
    ids = {s.key: s.hierarchical_id for s in assembly.stacks.values()}
    every = assembly.all_stacks()
    by_key = {s.key: s for s in every}
    top_of = {s.key: _top_key(assembly, s, by_key) for s in every}
    members: dict[StackKey, list[Stack]] = {}
    for s in every:
        members.setdefault(top_of[s.key], []).append(s)
    writes: dict[StackKey, list[tuple[str, Stack]]] = {}
    for p in graph.ssm_parameters.values():
        if p.stack in by_key:
            writes.setdefault(top_of[p.stack], []).append((p.name, by_key[p.stack]))
    specs: dict[str, StackSpec] = {}
    for stack in assembly.stacks.values():
        specs[stack.hierarchical_id] = StackSpec(
            id=stack.hierarchical_id,
            name=stack.stack_name,
            template=f"{stack.stack_name}@{_template_hash(stack)}",
            dependencies=frozenset(ids[d] for d in stack.dependencies if d in ids),
            exports={
                o.export_name: f"{o.export_name}@{token('export', s, o.export_name)}"
                for s in members.get(stack.key, []) for o in s.outputs.values() if o.export_name
            },
            outputs={
                o.logical_id: f"{stack.stack_name}.{o.logical_id}@{token('output', stack, o.logical_id)}"
                for o in stack.outputs.values()
            },
            ssm_writes={name: f"{name}@{token('ssm', writer, name)}" for name, writer in writes.get(stack.key, [])},
        )
    reads: dict[str, dict[str, set[Any]]] = {}
    for ref in graph.references:
        entry = reads.setdefault(ids[top_of[ref.consumer]], {"imports": set(), "weak": set(), "ssm": set()})
        if ref.kind is ReferenceKind.STRONG:
            entry["imports"].add(ref.name)
        elif ref.kind is ReferenceKind.WEAK and ref.producer is not None and ref.output:
            entry["weak"].add((by_key[ref.producer].stack_name, ref.output))
        elif ref.kind is ReferenceKind.SSM:
            entry["ssm"].add(ref.name)
    for consumer_id, entry in reads.items():
        specs[consumer_id] = replace(specs[consumer_id], imports=frozenset(entry["imports"]),
                                     weak_reads=frozenset(entry["weak"]), ssm_reads=frozenset(entry["ssm"]))
    return AppVersion(label, specs)


def _top_key(assembly: Assembly, stack: Stack, by_key: dict[StackKey, Stack] | None = None) -> StackKey:
    """The top-level stack a (nested) stack deploys with."""
    while stack.parent is not None:
        parent = (by_key or {}).get(stack.parent) or next(s for s in assembly.all_stacks() if s.key == stack.parent)
        stack = parent
    return stack.key


def _template_hash(stack: Stack) -> str:
    """A token that changes when what CloudFormation deploys changes (metadata aside)."""
    key = (stack.digest, stack.stack_name, stack.environment)
    if stack.digest and key in _TEMPLATE_HASHES:  # byte-identical templates: most of a pull request
        return _TEMPLATE_HASHES[key]
    body = {
        "resources": {k: [kind, properties] for k, kind, properties in stack.resources.scan()},
        "outputs": {k: [o.value, o.export_name] for k, o in stack.outputs.items()},
        "parameters": {k: [p.type, p.default] for k, p in stack.parameters.items()},
        "nested": {k: _template_hash(s) for k, s in stack.nested.items()},
    }
    token = hashlib.sha256(_canonical(body)).hexdigest()[:12]
    if stack.digest:
        if len(_TEMPLATE_HASHES) >= 100_000:  # one process may analyze many pairs (tests, merge)
            _TEMPLATE_HASHES.clear()
        _TEMPLATE_HASHES[key] = token
    return token


def _canonical(body: Any) -> bytes:
    """Sorted-key JSON: orjson (10x faster); the standard library for what orjson refuses."""
    try:
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS, default=str)
    except (TypeError, ValueError):  # integers over 64 bits, more than 255 levels
        return json.dumps(body, sort_keys=True, default=str).encode()


# (file digest, stack name, environment) -> token: export names depend on the name and region.
_TEMPLATE_HASHES: dict[tuple[str, str, Environment], str] = {}


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


def add_dependencies(version: AppVersion, producer: str, consumers: Iterable[str], *, label: str) -> AppVersion:
    """The consumers declare a dependency on the producer (``add_dependency``)."""
    specs = dict(version.stacks)
    for consumer in consumers:
        c = specs[consumer]
        specs[consumer] = replace(c, dependencies=c.dependencies | {producer})
    return replace(version, label=label, stacks=specs)


def weak_all(version: AppVersion, producer: str, consumers: Iterable[str], *, label: str) -> AppVersion:
    """The `weak` mode for one producer: its automatic exports the consumers import become
    plain outputs they read with Fn::GetStackOutput; the exports go."""
    specs = dict(version.stacks)
    p = specs[producer]
    automatic = {e for e in p.exports if ":ExportsOutput" in e}
    read = {e for c in consumers for e in specs[c].imports & automatic}
    outputs = {**p.outputs, **{publish_name(e): p.exports[e] for e in read}}
    exports = {k: v for k, v in p.exports.items() if k not in read}
    specs[producer] = replace(p, outputs=outputs, exports=exports, template=p.template + "+" + label)
    for consumer in consumers:
        c = specs[consumer]
        mine = c.imports & read
        specs[consumer] = replace(c, imports=c.imports - mine,
                                  weak_reads=c.weak_reads | {(p.name, publish_name(e)) for e in mine},
                                  template=c.template + "+weak-read")
    return replace(version, label=label, stacks=specs)
