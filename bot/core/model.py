"""Plain data the analysis works on: a loaded cloud assembly and the findings about it.

Everything here is frozen; nothing here does I/O or imports a renderer.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NewType

Json = Any  # a value decoded from a template: dict | list | str | int | float | bool | None

StackKey = NewType("StackKey", str)
"""Unique id of a stack within one assembly: its artifact id, prefixed by the nested
assembly folders it lives in (``assembly-Prod/ProdService1234``)."""

UNKNOWN_ACCOUNT = "unknown-account"
UNKNOWN_REGION = "unknown-region"


@dataclass(frozen=True, order=True)
class Environment:
    account: str
    region: str

    @classmethod
    def parse(cls, text: object) -> Environment:
        """Parse ``aws://ACCOUNT/REGION``; anything else is environment-agnostic."""
        if isinstance(text, str) and text.startswith("aws://"):
            parts = text[len("aws://") :].split("/")
            if len(parts) == 2 and parts[0] and parts[1]:
                return cls(parts[0], parts[1])
        return cls(UNKNOWN_ACCOUNT, UNKNOWN_REGION)

    def __str__(self) -> str:
        return f"aws://{self.account}/{self.region}"

    def compatible(self, other: Environment) -> bool:
        """Whether both may be the same place: equal, or unknown where they differ.

        An environment-agnostic stack deploys wherever the CLI's credentials point, so
        an app moving from agnostic to an explicit account is still the same stack.
        """
        return all(
            a == b or UNKNOWN_ACCOUNT in (a, b) or UNKNOWN_REGION in (a, b)
            for a, b in ((self.account, other.account), (self.region, other.region))
        )


@dataclass(frozen=True)
class Asset:
    """One file or container image asset from a ``*.assets.json`` manifest."""

    hash: str
    kind: str  # "file" | "docker-image"
    display_name: str | None
    source_path: str | None


@dataclass(frozen=True)
class Resource:
    logical_id: str
    type: str
    properties: Mapping[str, Json]
    construct_path: str | None
    asset_path: str | None = None
    asset_property: str | None = None
    # The resource's UpdatePolicy attribute: it decides some conditional replacements.
    update_policy: Mapping[str, Json] = field(default_factory=dict)


class Resources(Mapping[str, Resource]):
    """A template's ``Resources`` section; each ``Resource`` is made on first access.

    Most stacks of a pull request are byte-identical on both sides, and the analysis
    needs from them only what one pass over the raw section finds (references, SSM
    parameters, nested stacks, pipelines: ``scan``). Their ``Resource`` objects are
    made only when a rule asks for one (issue #14); ``built`` counts them.
    """

    __slots__ = ("_section", "_paths", "_made", "_types", "_unpathed")

    def __init__(self, section: Mapping[str, Mapping[str, Json]], construct_paths: Mapping[str, str] | None = None
                 ) -> None:
        """``section``: already checked (``read``); ``construct_paths``: the manifest's, for resources without."""
        self._section = section
        self._paths = construct_paths or {}
        self._made: dict[str, Resource] = {}
        self._types: dict[str, list[str]] = {}  # logical ids by type, in template order
        self._unpathed: tuple[str, ...] = ()  # logical ids without aws:cdk:path

    @classmethod
    def read(cls, section: Mapping[str, Json]) -> Resources:
        """Check a template's section (every entry an object with a string Type) and index it,
        in one pass; raises ResourceWithoutType."""
        types: dict[str, list[str]] = {}
        unpathed = []
        for logical_id, spec in section.items():
            kind = spec.get("Type") if isinstance(spec, dict) else None
            if not isinstance(kind, str):
                raise ResourceWithoutType(logical_id)
            types.setdefault(kind, []).append(logical_id)
            metadata = spec.get("Metadata")
            if not isinstance(metadata, dict) or not isinstance(metadata.get("aws:cdk:path"), str):
                unpathed.append(logical_id)
        resources = cls(section)
        resources._types, resources._unpathed = types, tuple(unpathed)
        return resources

    def __getitem__(self, logical_id: str) -> Resource:
        made = self._made.get(logical_id)
        if made is None:
            spec = self._section[logical_id]
            metadata = _object(spec.get("Metadata"))
            made = Resource(
                logical_id=logical_id,
                type=spec["Type"],
                properties=_object(spec.get("Properties")),
                construct_path=self.construct_path(logical_id),
                asset_path=_string(metadata.get("aws:asset:path")),
                asset_property=_string(metadata.get("aws:asset:property")),
                update_policy=_object(spec.get("UpdatePolicy")),
            )
            self._made[logical_id] = made
        return made

    def __iter__(self) -> Iterator[str]:
        return iter(self._section)

    def __len__(self) -> int:
        return len(self._section)

    def __contains__(self, logical_id: object) -> bool:
        return logical_id in self._section

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Resources) and other._section is self._section and other._paths == self._paths:
            return True
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # a mapping: unhashable, as a dict

    def __repr__(self) -> str:
        return f"Resources({dict(self)!r})"

    def scan(self) -> Iterator[tuple[str, str, Mapping[str, Json]]]:
        """(logical id, type, properties) of every resource, without making ``Resource`` objects."""
        for logical_id, spec in self._section.items():
            yield logical_id, spec["Type"], _object(spec.get("Properties"))

    def of_type(self, kind: str) -> list[str]:
        """Logical ids of the resources of one type, in template order."""
        return self._types.get(kind, [])

    def properties(self, logical_id: str) -> Mapping[str, Json]:
        """A resource's properties as read, without making it."""
        return _object(self._section[logical_id].get("Properties"))

    @property
    def raw(self) -> Mapping[str, Mapping[str, Json]]:
        """The section as read (read-only): for scans of its text."""
        return self._section

    def construct_path(self, logical_id: str) -> str | None:
        """The resource's construct path (``aws:cdk:path``, else the manifest's), without making it."""
        found = _string(_object(self._section[logical_id].get("Metadata")).get("aws:cdk:path"))
        return found if found is not None else self._paths.get(logical_id)

    def without_construct_path(self) -> tuple[str, ...]:
        """Logical ids of the resources that have no construct path, in template order."""
        return tuple(logical_id for logical_id in self._unpathed if logical_id not in self._paths)

    def asset_path(self, logical_id: str) -> str | None:
        return _string(_object(self._section[logical_id].get("Metadata")).get("aws:asset:path"))

    def with_construct_paths(self, paths: Mapping[str, str]) -> Resources:
        """The same section, with construct paths for resources whose template has none."""
        resources = Resources(self._section, {**self._paths, **paths})
        resources._types, resources._unpathed = self._types, self._unpathed
        return resources

    @property
    def built(self) -> int:
        """How many ``Resource`` objects were made (a test checks unchanged stacks make none)."""
        return len(self._made)


class ResourceWithoutType(ValueError):
    """A ``Resources`` entry that is not an object with a string Type."""

    def __init__(self, logical_id: str) -> None:
        super().__init__(logical_id)
        self.logical_id = logical_id


def _object(value: Json) -> Mapping[str, Json]:
    return value if isinstance(value, dict) else {}


def _string(value: Json) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Output:
    logical_id: str
    value: Json
    export_name: str | None  # resolved where possible, else a readable placeholder
    export_resolved: bool = True


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: Json = None
    no_echo: bool = False


@dataclass(frozen=True)
class Stack:
    key: StackKey
    artifact_id: str
    hierarchical_id: str  # what `cdk deploy` accepts: `Prod/Service` inside Stages
    stack_name: str  # the CloudFormation stack name
    environment: Environment
    template_file: str  # path relative to the top assembly folder
    resources: Resources
    outputs: Mapping[str, Output]
    parameters: Mapping[str, Parameter]
    dependencies: tuple[StackKey, ...]
    assets: Mapping[str, Asset] = field(default_factory=dict)
    # Nested stacks by the logical id of their AWS::CloudFormation::Stack resource.
    nested: Mapping[str, Stack] = field(default_factory=dict)
    parent: StackKey | None = None
    # sha256 of the template file's bytes (and its nested templates'): equal digests mean
    # identical templates, so a diff can be skipped. Empty when unknown.
    digest: str = ""

    @property
    def display(self) -> str:
        return self.stack_name


@dataclass(frozen=True)
class Assembly:
    path: str
    manifest_version: str
    stacks: Mapping[StackKey, Stack]
    cdk_library_version: str | None = None
    problems: tuple[str, ...] = ()  # parts that could not be read; each is reported
    report_stack_names: tuple[str, ...] = ()  # set only when read back from a JSON report

    @property
    def stack_names(self) -> list[str]:
        return sorted(s.stack_name for s in self.stacks.values()) or list(self.report_stack_names)

    def all_stacks(self) -> list[Stack]:
        """Top-level stacks and, depth first, their nested stacks."""
        out: list[Stack] = []

        def walk(stack: Stack) -> None:
            out.append(stack)
            for child in stack.nested.values():
                walk(child)

        for stack in self.stacks.values():
            walk(stack)
        return out


class Impact(enum.IntEnum):
    """How a resource changes from base to head; ordered so the worst one wins."""

    NONE = 0
    UPDATE = 1
    MAY_REPLACE = 2
    REPLACE = 3

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


class ValueChange(enum.IntEnum):
    """Whether a published value (an Output, an SSM parameter) differs after deploy."""

    SAME = 0
    MAY_CHANGE = 1
    CHANGES = 2

    @classmethod
    def of(cls, impact: Impact) -> ValueChange:
        """What a resource's impact means for the values it returns (Ref, Fn::GetAtt)."""
        if impact is Impact.REPLACE:
            return cls.CHANGES
        if impact is Impact.MAY_REPLACE:
            return cls.MAY_CHANGE
        return cls.SAME


class Severity(enum.IntEnum):
    NOTICE = 1
    WARNING = 2
    BLOCKER = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


class ReferenceKind(enum.Enum):
    STRONG = "strong"  # Fn::ImportValue of an exported Output
    WEAK = "weak"  # Fn::GetStackOutput
    SSM = "ssm"  # SSM parameter written by one stack, read by another
    NESTED = "nested"  # nested stack parameters / outputs: deployed together


@dataclass(frozen=True)
class Usage:
    """One place in a consumer template that reads a producer's value."""

    stack: str  # consumer CloudFormation stack name
    resource: str | None  # logical id, or None when used in Outputs/Conditions
    path: str  # JSON-pointer-like path into the template
    construct_path: str | None

    def to_json(self) -> dict[str, Json]:
        return {
            "stack": self.stack,
            "resource": self.resource,
            "path": self.path,
            "construct_path": self.construct_path,
        }


@dataclass(frozen=True)
class Reference:
    """A consumer stack reading a value a producer publishes."""

    kind: ReferenceKind
    environment: Environment
    name: str  # export name, `Stack.Output`, or SSM parameter name
    producer: StackKey | None  # None when nothing in the app publishes it
    consumer: StackKey
    usages: tuple[Usage, ...]
    output: str | None = None  # producer Output logical id, or SSM parameter's resource id
    # Set when an environment-agnostic consumer reads a name several environments publish.
    ambiguous_producers: tuple[StackKey, ...] = ()


@dataclass(frozen=True)
class Cause:
    """One link of the chain that explains why a value changes.

    ``kind`` is one of: ``asset-changed``, ``property-changed``, ``resource-replaced``,
    ``resource-may-be-replaced``, ``resource-removed``, ``logical-id-changed``,
    ``type-changed``, ``output-value-changed``, ``output-removed``, ``import-dropped``,
    ``stack-removed``, ``nested-output-changed``, ``unknown-resource-type``.
    """

    kind: str
    message: str
    details: Mapping[str, Json] = field(default_factory=dict)

    def to_json(self) -> dict[str, Json]:
        return {"kind": self.kind, "message": self.message, **dict(self.details)}


@dataclass(frozen=True)
class CodeLocation:
    language: str
    path: str | None
    line: int | None
    snippet: str


@dataclass(frozen=True)
class PipelineEdit:
    path: str
    line: int
    before: str
    after: str


@dataclass(frozen=True)
class Change:
    """One machine-applicable edit of the app a step asks for.

    ``kind``: ``context`` (``key``/``value``, for cdk.json's context or ``-c``),
    ``patch`` (a unified ``diff`` of the file at ``path``, relative to the app folder),
    or ``description`` (no patch could be produced: ``description`` says exactly what to
    edit, ``path`` where, when known).
    """

    kind: str
    key: str | None = None
    value: Json = None
    path: str | None = None
    diff: str | None = None
    description: str | None = None

    def to_json(self) -> dict[str, Json]:
        if self.kind == "context":
            return {"kind": self.kind, "key": self.key, "value": self.value}
        if self.kind == "patch":
            return {"kind": self.kind, "path": self.path, "diff": self.diff}
        return {"kind": self.kind, "path": self.path, "description": self.description}


# The tree a step's changes are made on (and its commands run against).
APPLIES_TO = ("base", "head", "previous")


@dataclass(frozen=True)
class Step:
    title: str
    kind: str  # deploy | code-change | split | pipeline-edit
    commands: tuple[str, ...] = ()
    code: CodeLocation | None = None
    detail: str = ""
    changes: tuple[Change, ...] = ()
    applies_to: str | None = None  # base | head | previous; None for steps that deploy nothing

    @property
    def patchable(self) -> bool:
        """Every change of the step can be applied by a tool (none is only described)."""
        return all(c.kind != "description" for c in self.changes)


class Level(enum.Enum):
    """How far a plan was checked; only SYNTHESIZED may be called verified."""

    NONE = "none"  # not checked, or the check failed (``reason`` says which)
    MODELLED = "modelled"  # the simulator accepts it on a model of the change, not synthesized
    SYNTHESIZED = "synthesized"  # its changes were applied, synthesized and the real templates accepted


@dataclass(frozen=True)
class Verification:
    level: Level = Level.NONE
    states: tuple[str, ...] = ()  # the app states checked: "head", "base + context ...", ...
    reason: str = ""

    def to_json(self) -> dict[str, Json]:
        return {"level": self.level.value, "states": list(self.states), "reason": self.reason}


@dataclass(frozen=True)
class Plan:
    """How to get a finding's change deployed, and how far that was checked."""

    strategy: str
    summary: str
    steps: tuple[Step, ...]
    deploy_command: str | None = None
    pipeline_edits: tuple[PipelineEdit, ...] = ()
    verification: Verification = Verification()
    alternatives: tuple[Plan, ...] = ()
    simulation: tuple[str, ...] = ()  # what the simulator saw, one line per command
    covers: tuple[str, ...] = ()  # ids of every finding this plan fixes, when it fixes several together

    @property
    def verified(self) -> bool:
        """JSON v1's ``verified``: true only when checked on synthesized templates."""
        return self.verification.level is Level.SYNTHESIZED

    @property
    def checked(self) -> bool:
        """The simulator accepted it, on the model at least."""
        return self.verification.level in (Level.MODELLED, Level.SYNTHESIZED)
    # How the finding's stacks are deployed: "pipeline `P`, stage `S` (stacks)", "`deploy.sh` line 3".
    deployed_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    environment: Environment
    producer: str  # CloudFormation stack name ("" when no producer is known)
    producer_key: StackKey | None
    export: str | None
    output: str | None
    consumers: tuple[str, ...]
    consumer_keys: tuple[StackKey, ...]
    reference_kind: ReferenceKind
    message: str
    causes: tuple[Cause, ...]
    usages: tuple[Usage, ...]
    remediation: Plan | None = None

    @property
    def id(self) -> str:
        """Stable fingerprint: the same problem keeps its id across pushes."""
        key = "|".join((self.rule, str(self.environment), self.producer, self.subject))
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    @property
    def subject(self) -> str:
        """The export name, else the output or parameter the finding is about."""
        return self.export or self.output or ""


@dataclass(frozen=True)
class StackChanges:
    stack_key: StackKey
    stack_name: str
    artifact_id: str
    environment: Environment
    added: tuple[str, ...]
    updated: tuple[str, ...]
    replaced: tuple[str, ...]  # replaced or may be replaced
    removed: tuple[str, ...]
    status: str = "changed"  # "added" | "removed" | "changed" | "unchanged"


@dataclass(frozen=True)
class AnalysisResult:
    base: Assembly
    head: Assembly
    findings: tuple[Finding, ...]
    stacks: tuple[StackChanges, ...]
    notes: tuple[str, ...] = ()

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)
