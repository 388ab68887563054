"""The cross-stack reference graph of one assembly: who reads which published value.

Strong references are ``Fn::ImportValue`` of an exported Output (automatic
``<Stack>:ExportsOutput...`` names and hand-named exports alike); weak references
are ``Fn::GetStackOutput``; SSM links are an ``AWS::SSM::Parameter`` written by one
stack and read by another through an SSM-typed template parameter or a
``{{resolve:ssm:...}}`` dynamic reference. Nested stacks pass values through
parameters and outputs and deploy with their parent: they create no reference here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.intrinsics import (
    Scope,
    Unresolvable,
    pointer,
    resolve_string,
    walk_any_calls,
    walk_ssm_dynamic_references,
    walk_targets,
)
from bot.model import (
    UNKNOWN_ACCOUNT,
    UNKNOWN_REGION,
    Assembly,
    Environment,
    Json,
    Reference,
    ReferenceKind,
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


@dataclass(frozen=True)
class ReferenceGraph:
    exports: Mapping[ExportKey, Published]
    ssm_parameters: Mapping[ExportKey, Published]
    references: tuple[Reference, ...]

    def export(self, environment: Environment, name: str) -> Published | None:
        """The export of that name in that environment (or a compatible one)."""
        exact = self.exports.get((environment, name))
        if exact is not None:
            return exact
        return next(
            (p for (env, n), p in self.exports.items() if n == name and env.compatible(environment)),
            None,
        )

    def ssm_parameter(self, environment: Environment, name: str) -> Published | None:
        exact = self.ssm_parameters.get((environment, name))
        if exact is not None:
            return exact
        return next(
            (p for (env, n), p in self.ssm_parameters.items() if n == name and env.compatible(environment)),
            None,
        )

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
    ssm_environments = {environment for environment, _ in ssm}
    references: list[Reference] = []
    for stack in stacks:
        calls = _cached(scans, "calls", stack, _calls)
        references.extend(_strong(stack, exports, calls.get(IMPORT, [])))
        references.extend(_weak(stack, by_name, calls.get(GET_STACK_OUTPUT, [])))
        if stack.environment in ssm_environments:  # no SSM link without a parameter the app writes
            references.extend(_ssm(stack, ssm, _cached(scans, "ssm", stack, _ssm_scan)))
    return ReferenceGraph(exports, ssm, tuple(references))


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


def _calls(stack: Stack) -> dict[str, list[Call]]:
    """Every Fn::ImportValue and Fn::GetStackOutput of a stack, in one walk of its template."""
    found: dict[str, list[Call]] = defaultdict(list)
    for logical_id, prefix, value, construct_path in _sections(stack):
        for path, function, argument in walk_any_calls(value, _READS, prefix):
            found[function].append((logical_id, path, argument, construct_path))
    return found


_READS = frozenset({IMPORT, GET_STACK_OUTPUT})


def _sections(stack: Stack) -> Iterable[tuple[str | None, tuple[str | int, ...], Json, str | None]]:
    """(resource id, path prefix, value, construct path) for every place a value is read."""
    for logical_id, resource in stack.resources.items():
        yield (
            logical_id,
            ("Resources", logical_id, "Properties"),
            resource.properties,
            resource.construct_path,
        )
    for logical_id, output in stack.outputs.items():
        yield None, ("Outputs", logical_id, "Value"), output.value, None


def _strong(stack: Stack, exports: Mapping[ExportKey, Published], calls: list[Call]) -> list[Reference]:
    usages: dict[str, list[Usage]] = defaultdict(list)
    scope = scope_of(stack)
    for logical_id, path, argument, construct_path in calls:
        try:
            name = resolve_string(argument, scope)
        except Unresolvable:
            continue  # an import whose name is only known at deploy time
        usages[name].append(Usage(stack.stack_name, logical_id, pointer(*path), construct_path))
    refs = []
    for name, sites in usages.items():
        published = exports.get((stack.environment, name))
        producer = published.stack if published else None
        if producer == stack.key:
            continue  # CloudFormation rejects a self-import at deploy; not our rule
        refs.append(
            Reference(
                kind=ReferenceKind.STRONG,
                environment=stack.environment,
                name=name,
                producer=producer,
                consumer=stack.key,
                usages=tuple(sites),
                output=published.source if published else None,
            )
        )
    return refs


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
        producer = by_name.get((region, producer_name))
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


def _ssm_parameters_written(stack: Stack) -> Iterable[tuple[str, str]]:
    scope = scope_of(stack)
    for logical_id, resource in stack.resources.items():
        if resource.type != "AWS::SSM::Parameter" or "Name" not in resource.properties:
            continue
        try:
            yield resolve_string(resource.properties["Name"], scope), logical_id
        except Unresolvable:
            continue


SsmRead = tuple[str | None, tuple[str | int, ...], str, bool, str | None]  # resource, path, name, dynamic?, construct


def _ssm_scan(stack: Stack) -> list[SsmRead]:
    """Refs to SSM-typed parameters (by the parameter's logical id) and `{{resolve:ssm:}}` names."""
    typed = {
        name for name, p in stack.parameters.items()
        if p.type.startswith("AWS::SSM::Parameter::Value<") and isinstance(p.default, str)
    }
    found: list[SsmRead] = []
    for logical_id, prefix, value, construct_path in _sections(stack):
        if typed:
            for target in walk_targets(value, prefix):
                if target.attribute is None and target.logical_id in typed:
                    found.append((logical_id, target.path, target.logical_id, False, construct_path))
        for path, name in walk_ssm_dynamic_references(value, prefix):
            found.append((logical_id, path, name, True, construct_path))
    return found


def _ssm(stack: Stack, written: Mapping[ExportKey, Published], scan: list[SsmRead]) -> list[Reference]:
    usages: dict[str, list[Usage]] = defaultdict(list)
    for logical_id, path, name, dynamic, construct_path in scan:
        parameter = name if dynamic else str(stack.parameters[name].default)
        usages[parameter].append(Usage(stack.stack_name, logical_id, pointer(*path), construct_path))
    refs = []
    for name, sites in usages.items():
        published = written.get((stack.environment, name))
        if published is None or published.stack == stack.key:
            continue  # read from outside the app, or within one stack: no link to judge
        refs.append(
            Reference(
                kind=ReferenceKind.SSM,
                environment=stack.environment,
                name=name,
                producer=published.stack,
                consumer=stack.key,
                usages=tuple(sites),
                output=published.source,
            )
        )
    return refs
