"""The cross-stack reference graph of one assembly: who reads which published value.

Strong references are ``Fn::ImportValue`` of an exported Output (automatic
``<Stack>:ExportsOutput...`` names and hand-named exports alike); weak references
are ``Fn::GetStackOutput``; SSM links are an ``AWS::SSM::Parameter`` written by one
stack and read by another through an SSM-typed template parameter or a
``{{resolve:ssm:...}}`` dynamic reference. Nested stacks pass values through
parameters and outputs and deploy with their parent: they create no reference here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import orjson

from bot.core.intrinsics import (
    Scope,
    Unresolvable,
    pointer,
    resolve_string,
    walk_any_calls,
    walk_ssm_dynamic_references,
    walk_targets,
)
from bot.core.model import (
    UNKNOWN_ACCOUNT,
    UNKNOWN_REGION,
    Assembly,
    Environment,
    Json,
    Reference,
    ReferenceKind,
    Resources,
    Stack,
    StackKey,
    Usage,
)

ExportKey = tuple[Environment, str]


@dataclass(frozen=True)
class Published:
    """Something a stack publishes for others: an export, an output, an SSM parameter."""

    stack: StackKey
    name: str  # export name, output logical id, or parameter name
    source: str  # Output logical id, or the AWS::SSM::Parameter resource's logical id


class PublishedIndex:
    """Published values by name, resolved with the one environment rule used everywhere.

    An exact (environment, name) match wins. Otherwise an environment-agnostic side
    (``unknown-account``/``unknown-region``) resolves against any environment's values
    of that name: when exactly one stack publishes it, that is the match; when several
    environments do, the lookup is ambiguous (the deploy-time environment decides) and
    the caller must not judge it.
    """

    def __init__(self, entries: Mapping[ExportKey, Published]) -> None:
        self.entries = entries
        self._by_name: dict[str, list[tuple[Environment, Published]]] = defaultdict(list)
        for (environment, name), published in entries.items():
            self._by_name[name].append((environment, published))

    def resolve(self, environment: Environment, name: str) -> tuple[Environment, Published] | None | Ambiguous:
        """The matching (environment, published value), None, or the ambiguous candidates."""
        exact = self.entries.get((environment, name))
        if exact is not None:
            return environment, exact
        candidates = [(env, p) for env, p in self._by_name.get(name, ()) if env.compatible(environment)]
        if not candidates:
            return None
        if len({p.stack for _, p in candidates}) == 1:
            return candidates[0]
        return Ambiguous(tuple(sorted(p.stack for _, p in candidates)))

    def get(self, environment: Environment, name: str) -> Published | None:
        """The unambiguous match, or None."""
        found = self.resolve(environment, name)
        return found[1] if isinstance(found, tuple) else None


@dataclass(frozen=True)
class Ambiguous:
    """Several environments publish the name an environment-agnostic stack reads."""

    producers: tuple[StackKey, ...]


@dataclass(frozen=True)
class ReferenceGraph:
    exports: Mapping[ExportKey, Published]
    ssm_parameters: Mapping[ExportKey, Published]
    references: tuple[Reference, ...]
    # Reads an environment-agnostic stack makes of a name several environments publish.
    ambiguous: tuple[Reference, ...] = ()

    @cached_property
    def _export_index(self) -> PublishedIndex:
        return PublishedIndex(self.exports)

    @cached_property
    def _ssm_index(self) -> PublishedIndex:
        return PublishedIndex(self.ssm_parameters)

    def export(self, environment: Environment, name: str) -> Published | None:
        """The export of that name in that environment (or the one compatible one)."""
        return self._export_index.get(environment, name)

    def ssm_parameter(self, environment: Environment, name: str) -> Published | None:
        return self._ssm_index.get(environment, name)

    def strong(self) -> list[Reference]:
        return [r for r in self.references if r.kind is ReferenceKind.STRONG]

    def by_kind(self, *kinds: ReferenceKind) -> list[Reference]:
        return [r for r in self.references if r.kind in kinds]


def scope_of(stack: Stack) -> Scope:
    env = stack.environment
    return Scope(
        stack_name=stack.stack_name,
        account=None if env.account == UNKNOWN_ACCOUNT else env.account,
        region=None if env.region == UNKNOWN_REGION else env.region,
        parameters={name: p.default for name, p in stack.parameters.items()},
    )


def build_graph(assembly: Assembly, scans: dict[str, Any] | None = None) -> ReferenceGraph:
    """The reference graph; ``scans`` shares template walks between assemblies
    (keyed by template digest: the head side reuses the base side's for unchanged stacks)."""
    scans = {} if scans is None else scans
    stacks = assembly.all_stacks()
    exports: dict[ExportKey, Published] = {}
    ssm: dict[ExportKey, Published] = {}
    for stack in stacks:
        for output in stack.outputs.values():
            if output.export_name is not None:
                exports.setdefault(
                    (stack.environment, output.export_name),
                    Published(stack.key, output.export_name, output.logical_id),
                )
        for name, logical_id in _ssm_parameters_written(stack):
            ssm.setdefault((stack.environment, name), Published(stack.key, name, logical_id))

    by_name = {(s.environment.region, s.stack_name): s for s in stacks if s.parent is None}
    export_index, ssm_index = PublishedIndex(exports), PublishedIndex(ssm)
    ssm_environments = {environment for environment, _ in ssm}
    references: list[Reference] = []
    for stack in stacks:
        calls, ssm_reads = _cached(scans, "reads", stack, _reads)
        references.extend(_strong(stack, export_index, calls.get(IMPORT, [])))
        references.extend(_weak(stack, by_name, calls.get(GET_STACK_OUTPUT, [])))
        # No SSM link without a parameter the app writes in a compatible environment.
        if any(e.compatible(stack.environment) for e in ssm_environments):
            references.extend(_ssm(stack, ssm_index, ssm_reads))
    resolved = tuple(r for r in references if r.producer is not None or not r.ambiguous_producers)
    ambiguous = tuple(r for r in references if r.producer is None and r.ambiguous_producers)
    return ReferenceGraph(exports, ssm, resolved, ambiguous)


IMPORT = "Fn::ImportValue"
GET_STACK_OUTPUT = "Fn::GetStackOutput"
Call = tuple[str | None, tuple[str | int, ...], Json, str | None]  # resource, path, argument, construct path


T = TypeVar("T")


def _cached(scans: dict[str, Any], kind: str, stack: Stack, scan: Callable[[Stack], T]) -> T:
    if not stack.digest:
        return scan(stack)
    key = f"{kind}:{stack.digest}"
    if key not in scans:
        scans[key] = scan(stack)
    result: T = scans[key]
    return result


def _reads(stack: Stack) -> tuple[dict[str, list[Call]], list[SsmRead]]:
    """Every Fn::ImportValue, Fn::GetStackOutput and SSM read of a stack.

    Only the values whose JSON text names what is looked for are walked: most resources
    of an app read nothing from another stack (and no ``Resource`` is modelled here).
    """
    typed = {
        name for name, p in stack.parameters.items()
        if p.type.startswith("AWS::SSM::Parameter::Value<") and isinstance(p.default, str)
    }
    typed_names = re.compile("|".join(re.escape(n) for n in sorted(typed)).encode()) if typed else None
    calls: dict[str, list[Call]] = defaultdict(list)
    ssm: list[SsmRead] = []

    def construct_path(logical_id: str | None) -> str | None:  # looked up only for what is found
        return stack.resources.construct_path(logical_id) if logical_id is not None else None

    for logical_id, prefix, value in _sections(stack, typed):
        text = _json_text(value)
        if text is None or _READ_NAMES.search(text):
            for path, function, argument in walk_any_calls(value, _READS, prefix):
                calls[function].append((logical_id, path, argument, construct_path(logical_id)))
        if typed_names is not None and (text is None or typed_names.search(text)):
            for target in walk_targets(value, prefix):
                if target.attribute is None and target.logical_id in typed:
                    ssm.append((logical_id, target.path, target.logical_id, False,
                                construct_path(logical_id)))
        if text is None or _SSM_DYNAMIC_NEEDLE in text:
            for path, name in walk_ssm_dynamic_references(value, prefix):
                ssm.append((logical_id, path, name, True, construct_path(logical_id)))
    return calls, ssm


_READS = frozenset({IMPORT, GET_STACK_OUTPUT})
_READ_NAMES = re.compile(b'"(?:' + b"|".join(re.escape(n.encode()) for n in sorted(_READS)) + b')"')
_SSM_DYNAMIC_NEEDLE = b"{{resolve:ssm:"


def _json_text(value: Json) -> bytes | None:
    """A value's JSON text, to test for names before walking it; None when it cannot be written.

    orjson writes every character but ``"``, ``\\`` and control characters as is, so a
    name made of other characters cannot hide behind an escape. What orjson cannot write
    (a live template's odd scalar, more than 255 levels) is walked to be safe.
    """
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if not isinstance(value, (dict, list)):
        return b""
    try:
        return orjson.dumps(value)
    except (TypeError, ValueError):
        return None


def _sections(stack: Stack, typed: Collection[str]) -> Iterable[tuple[str | None, tuple[str | int, ...], Json]]:
    """(resource id, path prefix, value) for every place that may read a value, in template order."""
    resources = stack.resources
    candidates = _candidates(resources, typed)
    for logical_id in resources if candidates is None else candidates:
        yield logical_id, ("Resources", logical_id, "Properties"), resources.properties(logical_id)
    for logical_id, output in stack.outputs.items():
        yield None, ("Outputs", logical_id, "Value"), output.value


_RESOURCE_KEY = b'\n  "'  # a key of the top level in orjson's OPT_INDENT_2 text


def _candidates(resources: Resources, typed: Collection[str]) -> list[str] | None:
    """The resources whose JSON text holds a name ``_reads`` looks for, in template order
    (a superset of those whose properties do); None: look at every resource.

    One indented dump of the section is searched, instead of one dump per resource
    (issue #14: this pass is most of what an unchanged stack costs). Every name looked
    for matches only inside one JSON string, and indenting adds whitespace only between
    tokens, so a resource whose own properties' dump holds a name holds it here too. A
    hit is mapped to its resource by the top-level key line before it (2 spaces: deeper
    lines have more). Parameter names other than letters and digits (CloudFormation
    allows no others) could match across tokens, so with them every resource is looked at.
    """
    if not all(name.isascii() and name.isalnum() for name in typed):
        return None
    try:
        text = orjson.dumps(resources.raw, option=orjson.OPT_INDENT_2)
    except (TypeError, ValueError):
        return None
    needles = [*(f'"{name}"'.encode() for name in sorted(_READS)), _SSM_DYNAMIC_NEEDLE,
               *(name.encode() for name in sorted(typed))]
    found: dict[int, str] = {}  # key line's offset -> logical id
    for needle in needles:
        at = text.find(needle)
        while at >= 0:
            # `at + 1`: a quoted name may open a key line itself (a logical id "Fn::ImportValue").
            start = text.rfind(_RESOURCE_KEY, 0, at + 1)
            if start < 0:
                return None
            if start not in found:
                line = text[start + 3 : text.find(b"\n", start + 1)]
                try:  # `"<logical id>": {` (the last ": " on the line ends the key)
                    logical_id = orjson.loads(line[: line.rfind(b": ")])
                except ValueError:
                    return None
                if not isinstance(logical_id, str) or logical_id not in resources:
                    return None  # not the text this expects: look at every resource
                found[start] = logical_id
            following = text.find(_RESOURCE_KEY, at)
            at = text.find(needle, following) if following >= 0 else -1
    return [found[offset] for offset in sorted(found)]


def _strong(stack: Stack, exports: PublishedIndex, calls: list[Call]) -> list[Reference]:
    usages: dict[str, list[Usage]] = defaultdict(list)
    scope = scope_of(stack)
    for logical_id, path, argument, construct_path in calls:
        try:
            name = resolve_string(argument, scope)
        except Unresolvable:
            continue  # an import whose name is only known at deploy time
        usages[name].append(Usage(stack.stack_name, logical_id, pointer(*path), construct_path))
    return [
        ref for name, sites in usages.items()
        if (ref := _resolved(ReferenceKind.STRONG, stack, exports, name, tuple(sites))) is not None
    ]


def _resolved(
    kind: ReferenceKind, stack: Stack, index: PublishedIndex, name: str, sites: tuple[Usage, ...]
) -> Reference | None:
    """A reference to the value ``name`` published in ``index``, in the producer's environment."""
    found = index.resolve(stack.environment, name)
    environment, published = found if isinstance(found, tuple) else (stack.environment, None)
    if published is not None and published.stack == stack.key:
        return None  # a read within one stack: CloudFormation's business, not a cross-stack link
    return Reference(
        kind=kind,
        environment=environment,
        name=name,
        producer=published.stack if published else None,
        consumer=stack.key,
        usages=sites,
        output=published.source if published else None,
        ambiguous_producers=found.producers if isinstance(found, Ambiguous) else (),
    )


def _weak(stack: Stack, by_name: Mapping[tuple[str, str], Stack], calls: list[Call]) -> list[Reference]:
    usages: dict[tuple[str, str, str], list[Usage]] = defaultdict(list)
    scope = scope_of(stack)
    for logical_id, path, argument, construct_path in calls:
        if not isinstance(argument, dict):
            continue
        try:
            producer_name = resolve_string(argument.get("StackName"), scope)
            output_name = resolve_string(argument.get("OutputName"), scope)
            region = (
                resolve_string(argument["Region"], scope)
                if "Region" in argument
                else stack.environment.region
            )
        except Unresolvable:
            continue
        usages[(region, producer_name, output_name)].append(
            Usage(stack.stack_name, logical_id, pointer(*path), construct_path)
        )
    refs = []
    for (region, producer_name, output_name), sites in usages.items():
        producer = by_name.get((region, producer_name)) or _only_compatible(by_name, region, producer_name)
        if producer is not None and producer.key == stack.key:
            continue  # a stack reading its own output: no cross-stack link
        refs.append(
            Reference(
                kind=ReferenceKind.WEAK,
                environment=Environment(stack.environment.account, region),
                name=f"{producer_name}.{output_name}",
                producer=producer.key if producer else None,
                consumer=stack.key,
                usages=tuple(sites),
                output=output_name,
            )
        )
    return refs


def _only_compatible(by_name: Mapping[tuple[str, str], Stack], region: str, name: str) -> Stack | None:
    """The one stack of that name in a region an unknown region may be (see PublishedIndex)."""
    matches = [s for (r, n), s in by_name.items() if n == name and UNKNOWN_REGION in (r, region)]
    return matches[0] if len(matches) == 1 else None


def _ssm_parameters_written(stack: Stack) -> Iterable[tuple[str, str]]:
    scope = scope_of(stack)
    for logical_id in stack.resources.of_type("AWS::SSM::Parameter"):
        properties = stack.resources.properties(logical_id)
        if "Name" not in properties:
            continue
        try:
            yield resolve_string(properties["Name"], scope), logical_id
        except Unresolvable:
            continue


SsmRead = tuple[str | None, tuple[str | int, ...], str, bool, str | None]  # resource, path, name, dynamic?, construct


def _ssm(stack: Stack, written: PublishedIndex, scan: list[SsmRead]) -> list[Reference]:
    usages: dict[str, list[Usage]] = defaultdict(list)
    for logical_id, path, name, dynamic, construct_path in scan:
        parameter = name if dynamic else str(stack.parameters[name].default)
        usages[parameter].append(Usage(stack.stack_name, logical_id, pointer(*path), construct_path))
    refs = []
    for name, sites in usages.items():
        ref = _resolved(ReferenceKind.SSM, stack, written, name, tuple(sites))
        if ref is not None and (ref.producer is not None or ref.ambiguous_producers):
            refs.append(ref)  # a parameter nothing in the app writes is read from outside: no link
    return refs
