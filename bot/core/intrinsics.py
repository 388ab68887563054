"""Reading CloudFormation intrinsic functions without deploying anything.

Two jobs: walk a template value to find what it refers to (``Ref``, ``Fn::GetAtt``,
``Fn::Sub`` placeholders, ``Fn::ImportValue``...), and resolve the few expressions
whose value is knowable at synth time (export names built with ``Fn::Join``/``Fn::Sub``
from ``AWS::StackName``, ``AWS::Region``, parameter defaults).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from bot.core.model import Json

PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)

_SUB_PLACEHOLDER = re.compile(r"\$\{([^}!][^}]*)\}")
_SSM_DYNAMIC = re.compile(r"\{\{resolve:ssm:([^}:]+)(?::\d+)?\}\}")


def pointer(*parts: str | int) -> str:
    """A JSON pointer (RFC 6901) for the given path parts."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(frozen=True)
class Target:
    """A `Ref`/`Fn::GetAtt`/`${}` found inside a value."""

    path: tuple[str | int, ...]  # where inside the walked value
    logical_id: str
    attribute: str | None  # None for Ref


Path = tuple[str | int, ...]


def _children(node: Json, here: Path) -> Iterator[tuple[Json, Path]]:
    """A container's children, last first (the order every walk here has always used)."""
    if isinstance(node, dict):
        for key, child in reversed(node.items()):
            yield child, (*here, key)
    elif isinstance(node, list):
        for index in range(len(node) - 1, -1, -1):
            yield node[index], (*here, index)


def _walk(value: Json, path: Path) -> Iterator[tuple[Json, Path, list[Iterator[tuple[Json, Path]]]]]:
    """Depth first, each node once, with the frame stack so a caller can descend or not.

    Holds one iterator per level (memory grows with depth, not with the number of
    nodes): the caller appends ``_children(node, here)`` to descend.
    """
    frames: list[Iterator[tuple[Json, Path]]] = [iter(((value, path),))]
    while frames:
        for node, here in frames[-1]:
            yield node, here, frames
            break
        else:
            frames.pop()


def walk_targets(value: Json, path: Path = ()) -> Iterator[Target]:
    """Yield every resource, parameter or pseudo-parameter a value refers to."""
    for node, here, frames in _walk(value, path):
        if isinstance(node, dict):
            if len(node) == 1:
                (key, arg), = node.items()
                if key == "Ref" and isinstance(arg, str):
                    yield Target(here, arg, None)
                    continue
                if key == "Fn::GetAtt":
                    target = _getatt_target(arg)
                    if target:
                        yield Target(here, target[0], target[1])
                    continue
                if key == "Fn::Sub":
                    yield from _sub_targets(arg, here)
                    continue
            frames.append(_children(node, here))
        elif isinstance(node, list):
            frames.append(_children(node, here))


def _getatt_target(arg: Json) -> tuple[str, str] | None:
    if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str):
        attr = arg[1] if isinstance(arg[1], str) else "?"
        return arg[0], attr
    if isinstance(arg, str) and "." in arg:
        logical_id, attr = arg.split(".", 1)
        return logical_id, attr
    return None


def _sub_targets(arg: Json, here: tuple[str | int, ...]) -> Iterator[Target]:
    template, variables = (arg, {}) if isinstance(arg, str) else _sub_parts(arg)
    if isinstance(template, str):
        for match in _SUB_PLACEHOLDER.finditer(template):
            name = match.group(1).strip()
            if name in variables:
                continue
            if "." in name:
                logical_id, attr = name.split(".", 1)
                yield Target(here, logical_id, attr)
            else:
                yield Target(here, name, None)
    for k, v in variables.items():
        yield from walk_targets(v, (*here, "Fn::Sub", 1, k))


def _sub_parts(arg: Json) -> tuple[Json, Mapping[str, Json]]:
    if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict):
        return arg[0], arg[1]
    if isinstance(arg, list) and arg:
        return arg[0], {}
    return None, {}


def walk_any_calls(value: Json, functions: frozenset[str], path: Path = ()) -> Iterator[
    tuple[Path, str, Json]
]:
    """Yield (path, function, argument) for each call of any of ``functions``, in one pass."""
    for node, here, frames in _walk(value, path):
        if isinstance(node, dict):
            if len(node) == 1:
                (key, argument), = node.items()
                if key in functions:
                    yield here, key, argument
                    continue
            frames.append(_children(node, here))
        elif isinstance(node, list):
            frames.append(_children(node, here))


def walk_ssm_dynamic_references(value: Json, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Yield (path, parameter name) for ``{{resolve:ssm:NAME}}`` inside strings."""
    for node, here, frames in _walk(value, path):
        if isinstance(node, str):
            if "{{resolve:ssm:" in node:
                for match in _SSM_DYNAMIC.finditer(node):
                    yield here, match.group(1)
        elif isinstance(node, (dict, list)):
            frames.append(_children(node, here))


@dataclass(frozen=True)
class Scope:
    """What is known about a stack at synth time, for resolving expressions."""

    stack_name: str
    account: str | None
    region: str | None
    parameters: Mapping[str, Json]  # parameter defaults
    partition: str = "aws"


class Unresolvable(Exception):
    """The expression depends on something only known at deploy time."""


def resolve_string(value: Json, scope: Scope, depth: int = 0) -> str:
    """Resolve an expression to the string CloudFormation would compute, or raise."""
    if depth > 20:
        raise Unresolvable("expression nested too deeply")
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        raise Unresolvable("not a string")
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref" and isinstance(arg, str):
            return _resolve_name(arg, scope, depth)
        if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
            sep, items = arg
            if isinstance(sep, str) and isinstance(items, list):
                return sep.join(resolve_string(i, scope, depth + 1) for i in items)
        if key == "Fn::Sub":
            template, variables = (arg, {}) if isinstance(arg, str) else _sub_parts(arg)
            if isinstance(template, str):
                return _resolve_sub(template, variables, scope, depth)
        if key == "Fn::Select" and isinstance(arg, list) and len(arg) == 2:
            index, items = arg
            if isinstance(items, list):
                try:
                    i = int(resolve_string(index, scope, depth + 1))
                except ValueError:
                    raise Unresolvable("Fn::Select index is not a number") from None
                if 0 <= i < len(items):
                    return resolve_string(items[i], scope, depth + 1)
        raise Unresolvable(f"{key} cannot be resolved offline")
    raise Unresolvable("not a string expression")


def _resolve_name(name: str, scope: Scope, depth: int) -> str:
    if name == "AWS::StackName":
        return scope.stack_name
    if name == "AWS::Region" and scope.region:
        return scope.region
    if name == "AWS::AccountId" and scope.account:
        return scope.account
    if name == "AWS::Partition":
        return scope.partition
    if name == "AWS::URLSuffix":
        return "amazonaws.com"
    if name in scope.parameters and scope.parameters[name] is not None:
        return resolve_string(scope.parameters[name], scope, depth + 1)
    raise Unresolvable(f"Ref {name} is only known at deploy time")


def _resolve_sub(template: str, variables: Mapping[str, Json], scope: Scope, depth: int) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name in variables:
            return resolve_string(variables[name], scope, depth + 1)
        if "." in name:
            raise Unresolvable(f"${{{name}}} is only known at deploy time")
        return _resolve_name(name, scope, depth)

    return _SUB_PLACEHOLDER.sub(replace, template).replace("${!", "${")


def describe(value: Json, limit: int = 120) -> str:
    """A short, single-line rendering of a template value for messages."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, dict) and len(value) == 1 and "Ref" in value:
        text = f"Ref {value['Ref']}"
    elif isinstance(value, dict) and len(value) == 1 and "Fn::GetAtt" in value:
        target = _getatt_target(value["Fn::GetAtt"])
        text = f"GetAtt {target[0]}.{target[1]}" if target else "Fn::GetAtt ?"
    else:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"
