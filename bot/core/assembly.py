"""Read a cloud assembly (``cdk.out``) into the model.

Handles what aws-cdk-lib v2 writes: stacks, Stages as nested assemblies (recursively),
nested stacks (templates referenced from ``AWS::CloudFormation::Stack`` resources),
asset manifests and legacy-synthesizer asset metadata. Every path read from the
manifest must stay inside the assembly folder: fork pull requests control these files.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.core import cdk_metadata, semver
from bot.core.bounded_json import DecodedSizeError, JsonLimitError, Shape, one_line, parse, read_regular_file
from bot.core.gcpause import paused
from bot.core.intrinsics import Scope, Unresolvable, describe, resolve_string
from bot.core.memory_budget import MemoryBudget, MemoryBudgetError, json_bytes
from bot.core.model import (
    UNKNOWN_ACCOUNT,
    UNKNOWN_REGION,
    Assembly,
    Asset,
    Environment,
    Json,
    Output,
    Parameter,
    Resources,
    ResourceWithoutType,
    Stack,
    StackKey,
)

MAX_SUPPORTED_MAJOR = 99
NEWEST_TESTED_MAJOR = 55


class AssemblyError(Exception):
    """The assembly cannot be analyzed; the message is one line for the user."""


@dataclass(frozen=True)
class Limits:
    """Bounds on what one assembly may make us read (hostile input protection)."""

    max_file_bytes: int = 256 * 1024 * 1024
    max_total_bytes: int = 2 * 1024 * 1024 * 1024
    max_nesting: int = 32  # Stage depth and nested-stack depth
    max_depth: int = Shape.max_depth  # JSON nesting inside one file
    max_expansion: int = Shape.max_expansion  # estimated bytes to decode per byte of a template
    decode_allowance: int = Shape.allowance  # estimated bytes to decode any file may take
    # Manifests (and metadata files, asset manifests) list every stack, asset and construct
    # path: dense in small dicts and strs, and CloudFormation caps none of them, so they grow
    # with the app. Estimated 5.4x for the corpus app's, 8.6x for a 5,000-stack app's (1.4 MiB,
    # which takes 5.3x once decoded, measured); with 2x they refused that app (`make bench`).
    max_manifest_expansion: int = 10
    # The whole load (both assemblies) may grow resident memory by this many times their JSON
    # on disk, plus memory_allowance (bot/core/memory_budget.py). Real apps grow by 0.9x (the
    # 200-stack pair) to 1.6x (the same with every template changed), all phases included.
    max_memory_ratio: int = 3
    memory_allowance: int = 8 * 1024 * 1024

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> Limits:
        """Defaults, overridden by CDK_EXPORT_GUARD_MAX_FILE_MB / _MAX_TOTAL_MB / _MAX_NESTING /
        _MAX_DEPTH / _MAX_EXPANSION / _DECODE_ALLOWANCE_MB / _MAX_MANIFEST_EXPANSION /
        _MAX_MEMORY_RATIO / _MEMORY_ALLOWANCE_MB."""
        def number(name: str, default: int, scale: int = 1) -> int:
            text = env.get(f"CDK_EXPORT_GUARD_{name}", "").strip()
            if not text:
                return default
            if not text.isdigit() or int(text) <= 0:
                raise AssemblyError(f"CDK_EXPORT_GUARD_{name} must be a positive whole number, not {text!r}")
            return int(text) * scale

        mib = 1024 * 1024
        return cls(
            max_file_bytes=number("MAX_FILE_MB", cls.max_file_bytes, mib),
            max_total_bytes=number("MAX_TOTAL_MB", cls.max_total_bytes, mib),
            max_nesting=number("MAX_NESTING", cls.max_nesting),
            max_depth=number("MAX_DEPTH", cls.max_depth),
            max_expansion=number("MAX_EXPANSION", cls.max_expansion),
            decode_allowance=number("DECODE_ALLOWANCE_MB", cls.decode_allowance, mib),
            max_manifest_expansion=number("MAX_MANIFEST_EXPANSION", cls.max_manifest_expansion),
            max_memory_ratio=number("MAX_MEMORY_RATIO", cls.max_memory_ratio),
            memory_allowance=number("MEMORY_ALLOWANCE_MB", cls.memory_allowance, mib),
        )

    def memory_budget(self, *roots: Path) -> MemoryBudget | None:
        """The budget of a load of the assemblies in ``roots`` (None when one is not a folder:
        the load says why)."""
        if not all(root.is_dir() for root in roots):
            return None
        return MemoryBudget(self.max_memory_ratio, self.memory_allowance, json_bytes(*roots))

    @property
    def shape(self) -> Shape:
        return Shape(max_depth=self.max_depth, max_expansion=self.max_expansion, allowance=self.decode_allowance)

    def shape_of(self, what: str) -> tuple[Shape, str]:
        """The shape a file of kind ``what`` must fit, and the variable that widens it."""
        if what in _LISTINGS:
            return (replace(self.shape, max_expansion=self.max_manifest_expansion),
                    "CDK_EXPORT_GUARD_MAX_MANIFEST_EXPANSION")
        return self.shape, "CDK_EXPORT_GUARD_MAX_EXPANSION or CDK_EXPORT_GUARD_DECODE_ALLOWANCE_MB"


_LISTINGS = frozenset({"manifest", "metadata file", "asset manifest"})  # reader.json's ``what``


@dataclass
class _Shared:
    """What base and head share when their files are byte-identical (most of a pull request).

    Keyed by sha256 of the bytes: an identical template is parsed once and its model
    objects are built once; the two assemblies then hold the same (read-only) objects.
    Its resources are modelled only on demand (``Resources``), once for both sides.
    """

    parsed: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, Resources] = field(default_factory=dict)
    parameters: dict[str, dict[str, Parameter]] = field(default_factory=dict)
    outputs: dict[tuple[str, str, Environment], dict[str, Output]] = field(default_factory=dict)
    missing_paths: dict[str, tuple[str, ...]] = field(default_factory=dict)  # resources without aws:cdk:path
    assets: dict[str, dict[str, Asset]] = field(default_factory=dict)  # by asset manifest digest
    budget: MemoryBudget | None = None  # the load's memory, over both assemblies


@dataclass
class _Reader:
    root: Path
    limits: Limits
    total_bytes: int = 0
    problems: list[str] = field(default_factory=list)
    digests: dict[Path, str] = field(default_factory=dict)  # sha256 of each file read
    shared: _Shared = field(default_factory=_Shared)

    def path(self, relative: Any, base: Path | None = None) -> Path:
        """Resolve a manifest-given path, refusing anything outside the assembly."""
        if not isinstance(relative, str) or not relative:
            raise AssemblyError(f"invalid file reference {relative!r} in the manifest")
        if "\0" in relative:
            # The OS refuses NUL in a path; say so instead of crashing in realpath.
            raise AssemblyError(f"path {relative!r} holds a NUL character")
        if os.path.isabs(relative):
            raise AssemblyError(f"path {relative!r} is absolute; it must stay inside the assembly")
        candidate = ((base or self.root) / relative).resolve()
        if candidate != self.root and self.root not in candidate.parents:
            raise AssemblyError(f"path {relative!r} escapes the assembly folder")
        return candidate

    def json(self, path: Path, what: str) -> Any:
        """Parse one file within the limits; identical bytes already parsed are reused."""
        display = self.display(path)
        try:
            data = read_regular_file(path, self.limits.max_file_bytes)
        except JsonLimitError as exc:
            raise AssemblyError(f"{what} {display} {exc}") from None
        self.total_bytes += len(data)
        if self.total_bytes > self.limits.max_total_bytes:
            raise AssemblyError(
                f"the assembly is over the limit of {self.limits.max_total_bytes} bytes in total"
            )
        budget = self.shared.budget
        digest = hashlib.sha256(data).hexdigest()
        self.digests[path] = digest
        if digest in self.shared.parsed:
            return self.shared.parsed[digest]
        shape, widen = self.limits.shape_of(what)
        try:
            document = parse(data, shape, budget.admit if budget is not None else None)
        except DecodedSizeError as exc:
            raise AssemblyError(f"{what} {display} {exc}; {widen} raises the limit") from None
        except MemoryBudgetError as exc:
            raise AssemblyError(f"{what} {display} {exc}; CDK_EXPORT_GUARD_MAX_MEMORY_RATIO or "
                                "CDK_EXPORT_GUARD_MEMORY_ALLOWANCE_MB raises it") from None
        except JsonLimitError as exc:
            raise AssemblyError(f"{what} {display} {exc}") from None
        except RecursionError:
            raise AssemblyError(f"{what} {display} is nested too deeply to read") from None
        except ValueError as exc:  # orjson's JSONDecodeError, invalid UTF-8 included
            hint = " (YAML is not supported; cdk synth writes JSON)" if _looks_like_yaml(data) else ""
            raise AssemblyError(f"{what} {display} is not valid JSON{hint}: {one_line(exc)}") from None
        self.shared.parsed[digest] = document
        return document

    def display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def _looks_like_yaml(text: bytes) -> bool:
    head = text[:200].lstrip()
    return bool(head) and not head.startswith((b"{", b"[")) and b":" in head


@paused
def load_assembly(directory: str | os.PathLike[str], limits: Limits = Limits()) -> Assembly:
    """Load ``directory/manifest.json`` and every stack it names."""
    return _load(directory, limits, _Shared(budget=limits.memory_budget(Path(directory))))


@paused
def load_assemblies(base: str | os.PathLike[str], head: str | os.PathLike[str],
                    limits: Limits = Limits()) -> tuple[Assembly, Assembly]:
    """Load base and head; what their files share byte for byte is parsed and built once."""
    shared = _Shared(budget=limits.memory_budget(Path(base), Path(head)))
    return _load(base, limits, shared), _load(head, limits, shared)


def _load(directory: str | os.PathLike[str], limits: Limits, shared: _Shared) -> Assembly:
    root = Path(directory)
    if not root.is_dir():
        raise AssemblyError(f"{root} is not a directory")
    if not (root / "manifest.json").is_file():
        raise AssemblyError(f"{root} has no manifest.json; is it a cdk.out folder?")
    reader = _Reader(root.resolve(), limits, shared=shared)
    manifest = reader.json(reader.path("manifest.json"), "manifest")
    version = _check_version(manifest, reader)
    stacks: dict[StackKey, Stack] = {}
    _load_manifest(reader, manifest, reader.root, "", stacks, depth=0)
    stacks = _fold_successive_versions(stacks, reader.problems)
    return Assembly(
        path=str(root),
        manifest_version=version,
        stacks=stacks,
        # Order of trust: tree.json's App construct (the library that ran), then the stacks'
        # CDKMetadata (absent with --no-version-reporting), then (orchestrate) the app's lock files.
        cdk_library_version=_library_version(reader) or _metadata_version(stacks.values()),
        problems=tuple(reader.problems),
    )


def _fold_successive_versions(stacks: dict[StackKey, Stack], problems: list[str]) -> dict[StackKey, Stack]:
    """Artifacts that share one CloudFormation stack (environment and stack name).

    CDK synthesizes this on purpose when one artifact depends on another of the same name
    (aws-redshift-alpha's integ.cluster-reboot: ``update`` after ``create``): a full deploy
    applies the templates in dependency order, so the stack ends as the last one. That last
    version is what the analysis compares; the earlier ones are transient and only noted.
    Without an order between them the final template is undecidable: the last artifact in
    manifest order is analysed and the note says so.
    """
    groups: dict[tuple[Environment, str], list[Stack]] = defaultdict(list)
    for stack in stacks.values():
        groups[(stack.environment, stack.stack_name)].append(stack)
    folded = dict(stacks)
    for (environment, name), versions in groups.items():
        if len(versions) == 1:
            continue
        ordered = _dependency_order(versions, stacks)
        final = (ordered or versions)[-1]
        earlier = [v for v in versions if v is not final]
        labels = ", ".join(v.key for v in earlier)
        if ordered:
            problems.append(
                f"stack {name} in {environment} is synthesized as {len(versions)} successive versions "
                f"({', '.join(v.key for v in ordered)}), deployed in that order; analysed as its final "
                f"version {final.key} (the transient versions {labels} are not checked)"
            )
        else:
            problems.append(
                f"stack name {name!r} is used by {len(versions)} artifacts in {environment} with no deploy "
                f"order between them ({', '.join(v.key for v in versions)}); analysed as {final.key}, "
                "the last in the manifest"
            )
        inherited = {d for v in versions for d in v.dependencies} - {v.key for v in versions}
        for version in earlier:
            del folded[version.key]
        folded[final.key] = replace(final, dependencies=tuple(sorted(inherited)))
        renamed = {v.key: final.key for v in earlier}
        for key, stack in folded.items():
            if renamed.keys() & set(stack.dependencies):
                deps = dict.fromkeys(renamed.get(d, d) for d in stack.dependencies if renamed.get(d, d) != key)
                folded[key] = replace(stack, dependencies=tuple(deps))
    return folded


def _dependency_order(versions: list[Stack], stacks: Mapping[StackKey, Stack]) -> list[Stack] | None:
    """The versions in deploy order when their dependencies chain them all, else None."""
    keys = {v.key for v in versions}

    def before(stack: Stack) -> set[StackKey]:  # same-name versions this one waits for, transitively
        seen: set[StackKey] = set()
        todo = list(stack.dependencies)
        while todo:
            key = todo.pop()
            if key in seen:
                continue
            seen.add(key)
            if key in stacks:
                todo.extend(stacks[key].dependencies)
        return seen & keys

    ordered = sorted(versions, key=lambda v: len(before(v)))
    chained = all(len(before(v)) == i for i, v in enumerate(ordered))
    return ordered if chained else None


def _check_version(manifest: Any, reader: _Reader) -> str:
    if not isinstance(manifest, dict):
        raise AssemblyError("manifest.json is not a JSON object")
    version = manifest.get("version")
    major = semver.major(version)  # strict: the version is printed in the comment
    if major is None:
        raise AssemblyError(f"manifest.json has no valid version (found {str(version)[:80]!r})")
    if major > MAX_SUPPORTED_MAJOR:
        raise AssemblyError(
            f"manifest version {version} is not supported (this tool reads versions up to "
            f"{MAX_SUPPORTED_MAJOR}.x); upgrade cdk-export-guard"
        )
    if major > NEWEST_TESTED_MAJOR:
        reader.problems.append(
            f"manifest version {version} is newer than the newest tested ({NEWEST_TESTED_MAJOR}.x)"
        )
    if not isinstance(manifest.get("artifacts", {}), dict):
        raise AssemblyError("manifest.json 'artifacts' is not an object")
    return str(version)


def _load_manifest(
    reader: _Reader,
    manifest: Mapping[str, Any],
    folder: Path,
    prefix: str,
    stacks: dict[StackKey, Stack],
    depth: int,
) -> None:
    if depth > reader.limits.max_nesting:
        raise AssemblyError(f"Stages are nested more than {reader.limits.max_nesting} deep")
    artifacts: Mapping[str, Any] = _dict(manifest.get("artifacts"))
    asset_files = {
        artifact_id: _dict(spec.get("properties")).get("file")
        for artifact_id, spec in artifacts.items()
        if isinstance(spec, dict) and spec.get("type") == "cdk:asset-manifest"
    }
    stack_ids = {
        artifact_id
        for artifact_id, spec in artifacts.items()
        if isinstance(spec, dict) and spec.get("type") == "aws:cloudformation:stack"
    }
    for artifact_id, spec in artifacts.items():
        if not isinstance(spec, dict):
            raise AssemblyError(f"artifact {artifact_id!r} in the manifest is not an object")
        kind = spec.get("type")
        if kind == "aws:cloudformation:stack":
            stack = _load_stack(reader, artifact_id, spec, folder, prefix, asset_files, stack_ids)
            if stack.key in stacks:
                raise AssemblyError(f"stack {stack.key!r} appears twice in the assembly")
            stacks[stack.key] = stack
        elif kind == "cdk:cloud-assembly":
            directory = (_dict(spec.get("properties"))).get("directoryName")
            nested_folder = reader.path(directory, folder)
            nested_manifest = reader.json(nested_folder / "manifest.json", "manifest")
            if not isinstance(nested_manifest, dict):
                raise AssemblyError(f"{reader.display(nested_folder)}/manifest.json is not an object")
            nested_prefix = f"{prefix}{directory}/"
            _load_manifest(reader, nested_manifest, nested_folder, nested_prefix, stacks, depth + 1)


def _load_stack(
    reader: _Reader,
    artifact_id: str,
    spec: Mapping[str, Any],
    folder: Path,
    prefix: str,
    asset_files: Mapping[str, Any],
    stack_ids: set[str],
) -> Stack:
    props = _dict(spec.get("properties"))
    template_path = reader.path(props.get("templateFile"), folder)
    template = reader.json(template_path, "template")
    if not isinstance(template, dict):
        raise AssemblyError(f"template {reader.display(template_path)} is not a JSON object")
    if not isinstance(spec.get("environment", ""), str):
        raise AssemblyError(f"stack {artifact_id!r} has an invalid environment")
    environment = Environment.parse(spec.get("environment"))
    stack_name = props.get("stackName") or artifact_id
    if not isinstance(stack_name, str):
        raise AssemblyError(f"stack {artifact_id!r} has an invalid stackName")
    declared = _strings(spec.get("dependencies"))
    dependencies = tuple(StackKey(prefix + dep) for dep in declared if dep in stack_ids)
    assets: dict[str, Asset] = {}
    for dep in declared:
        if dep in asset_files:
            assets.update(_load_asset_manifest(reader, reader.path(asset_files[dep], folder)))
    assets.update(_legacy_assets(spec.get("metadata")))
    key = StackKey(prefix + artifact_id)
    display = _str_or_none(spec.get("displayName")) or artifact_id
    stack = _stack_from_template(
        reader,
        template,
        key=key,
        artifact_id=artifact_id,
        hierarchical_id=display,
        stack_name=stack_name,
        environment=environment,
        template_file=reader.display(template_path),
        dependencies=dependencies,
        assets=assets,
        folder=folder,
        depth=0,
        digest=reader.digests.get(template_path, ""),
    )
    return _with_construct_paths(reader, stack, spec, folder)


def _with_construct_paths(reader: _Reader, stack: Stack, spec: Mapping[str, Any], folder: Path) -> Stack:
    """Fill in construct paths from the stack's metadata where the template has no `aws:cdk:path`.

    Apps synthesized with `--no-path-metadata` keep construct paths only in the
    manifest's inline `metadata` or the `additionalMetadataFile` (which also holds
    stack traces, so it is read only when needed).
    """
    missing = reader.shared.missing_paths.get(stack.digest) if stack.digest else None
    if missing is None:
        missing = stack.resources.without_construct_path()
        if stack.digest:
            reader.shared.missing_paths[stack.digest] = missing
    if not missing:
        return stack
    metadata = dict(_dict(spec.get("metadata")))
    extra = _str_or_none(spec.get("additionalMetadataFile"))
    if extra:
        try:
            metadata.update(_dict(reader.json(reader.path(extra, folder), "metadata file")))
        except AssemblyError as exc:
            reader.problems.append(f"construct paths unavailable: {exc}")
    paths = {}
    for path, entries in metadata.items():
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or entry.get("type") != "aws:cdk:logicalId":
                continue
            logical_id = entry.get("data")
            if isinstance(logical_id, str):
                paths[logical_id] = path.lstrip("/")
    found = {lid: paths[lid] for lid in missing if lid in paths}
    if not found:
        return stack
    return replace(stack, resources=stack.resources.with_construct_paths(found))  # the shared one stays as read


def _stack_from_template(
    reader: _Reader,
    template: Mapping[str, Any],
    *,
    key: StackKey,
    artifact_id: str,
    hierarchical_id: str,
    stack_name: str,
    environment: Environment,
    template_file: str,
    dependencies: tuple[StackKey, ...],
    assets: Mapping[str, Asset],
    folder: Path,
    depth: int,
    parent: StackKey | None = None,
    digest: str = "",
) -> Stack:
    parameters, resources, outputs = _parts(reader, template, digest, stack_name, environment, template_file)
    stack = Stack(
        key=key,
        artifact_id=artifact_id,
        hierarchical_id=hierarchical_id,
        stack_name=stack_name,
        environment=environment,
        template_file=template_file,
        resources=resources,
        outputs=outputs,
        parameters=parameters,
        dependencies=dependencies,
        assets=assets,
        parent=parent,
        digest=digest,
    )
    nested = _nested_stacks(reader, stack, folder, depth)
    if not nested:
        return stack
    parts = [digest, *(f"{k}={n.digest}" for k, n in sorted(nested.items()))]
    combined = hashlib.sha256("|".join(parts).encode()).hexdigest() if all(n.digest for n in nested.values()) \
        and digest else ""
    return replace(stack, nested=nested, digest=combined)


def _parts(
    reader: _Reader,
    template: Mapping[str, Any],
    digest: str,
    stack_name: str,
    environment: Environment,
    template_file: str,
) -> tuple[dict[str, Parameter], Resources, dict[str, Output]]:
    """Parameters, resources and outputs of a template; built once per identical template."""
    shared = reader.shared
    if digest and digest in shared.resources:
        parameters, resources = shared.parameters[digest], shared.resources[digest]
    else:
        parameters = _parameters(template.get("Parameters"))
        resources = _resources(template.get("Resources"), template_file)
        if digest:
            shared.parameters[digest], shared.resources[digest] = parameters, resources
    key = (digest, stack_name, environment)  # export names may use the stack's name and region
    if digest and key in shared.outputs:
        return parameters, resources, shared.outputs[key]
    scope = Scope(
        stack_name=stack_name,
        account=None if environment.account == UNKNOWN_ACCOUNT else environment.account,
        region=None if environment.region == UNKNOWN_REGION else environment.region,
        parameters={name: p.default for name, p in parameters.items()},
    )
    outputs = _outputs(template.get("Outputs"), scope, template_file)
    if digest:
        shared.outputs[key] = outputs
    return parameters, resources, outputs


def stack_with_template(stack: Stack, template: Mapping[str, Any]) -> Stack:
    """The same stack with the resources, outputs and parameters of another template.

    Identity, environment, dependencies, assets and nested stacks are kept: used to put
    the template CloudFormation has deployed in place of the base one (live mode). Pure;
    raises AssemblyError when the template is not a readable CloudFormation template.
    """
    label = f"for {stack.stack_name}"
    if not isinstance(template, Mapping):
        raise AssemblyError(f"template {label} is not an object")
    parameters = _parameters(template.get("Parameters"))
    resources = _resources(template.get("Resources"), label)
    environment = stack.environment
    scope = Scope(
        stack_name=stack.stack_name,
        account=None if environment.account == UNKNOWN_ACCOUNT else environment.account,
        region=None if environment.region == UNKNOWN_REGION else environment.region,
        parameters={name: p.default for name, p in parameters.items()},
    )
    outputs = _outputs(template.get("Outputs"), scope, label)
    # digest "": the template no longer matches any file, so nothing may skip its diff.
    return replace(stack, resources=resources, outputs=outputs, parameters=parameters, digest="")


def _nested_stacks(reader: _Reader, stack: Stack, folder: Path, depth: int) -> dict[str, Stack]:
    nested: dict[str, Stack] = {}
    for logical_id in stack.resources.of_type("AWS::CloudFormation::Stack"):
        asset_path = stack.resources.asset_path(logical_id)
        if not asset_path or not asset_path.endswith(".json"):
            continue
        if depth + 1 > reader.limits.max_nesting:
            raise AssemblyError(f"nested stacks go more than {reader.limits.max_nesting} deep")
        path = reader.path(asset_path, folder)
        if not path.is_file():
            reader.problems.append(
                f"nested stack template {reader.display(path)} of {stack.stack_name}/"
                f"{logical_id} is missing; its outputs are treated as unknown"
            )
            continue
        template = reader.json(path, "nested stack template")
        if not isinstance(template, dict):
            raise AssemblyError(f"nested stack template {reader.display(path)} is not an object")
        nested[logical_id] = _stack_from_template(
            reader,
            template,
            key=StackKey(f"{stack.key}/{logical_id}"),
            artifact_id=stack.artifact_id,
            hierarchical_id=stack.hierarchical_id,
            # The real name gets a random suffix at deploy time.
            stack_name=f"{stack.stack_name}-{logical_id}",
            environment=stack.environment,
            template_file=reader.display(path),
            dependencies=(),
            assets=stack.assets,
            folder=folder,
            depth=depth + 1,
            parent=stack.key,
            digest=reader.digests.get(path, ""),
        )
    return nested


def _parameters(section: Any) -> dict[str, Parameter]:
    if not isinstance(section, dict):
        return {}
    out = {}
    for name, spec in section.items():
        if isinstance(spec, dict):
            out[name] = Parameter(
                name=name,
                type=str(spec.get("Type", "String")),
                default=spec.get("Default"),
                no_echo=str(spec.get("NoEcho", "false")).lower() == "true",
            )
    return out


def _resources(section: Any, template_file: str) -> Resources:
    """The section checked (an object, every entry with a string Type); modelled on demand."""
    if section is None:
        return Resources({})
    if not isinstance(section, dict):
        raise AssemblyError(f"template {template_file}: Resources is not an object")
    try:
        return Resources.read(section)
    except ResourceWithoutType as exc:
        raise AssemblyError(f"template {template_file}: resource {exc.logical_id!r} has no Type") from None


def _outputs(section: Any, scope: Scope, template_file: str) -> dict[str, Output]:
    if not isinstance(section, dict):
        return {}
    out = {}
    for logical_id, spec in section.items():
        if not isinstance(spec, dict):
            continue
        export = spec.get("Export")
        export_name: str | None = None
        resolved = True
        if isinstance(export, dict) and "Name" in export:
            try:
                export_name = resolve_string(export["Name"], scope)
            except Unresolvable:
                export_name = f"<unresolved: {describe(export['Name'])}>"
                resolved = False
        out[logical_id] = Output(
            logical_id=logical_id,
            value=spec.get("Value"),
            export_name=export_name,
            export_resolved=resolved,
        )
    return out


def _load_asset_manifest(reader: _Reader, path: Path) -> dict[str, Asset]:
    try:
        data = reader.json(path, "asset manifest")
    except AssemblyError as exc:
        # Assets only explain a cause; their absence must not stop the analysis.
        reader.problems.append(str(exc))
        return {}
    digest = reader.digests.get(path, "")
    if digest in reader.shared.assets:
        return reader.shared.assets[digest]  # read-only: callers copy what they keep
    if not isinstance(data, dict):
        return {}
    assets: dict[str, Asset] = {}
    reader.shared.assets[digest] = assets
    for kind, section in (("file", data.get("files")), ("docker-image", data.get("dockerImages"))):
        if not isinstance(section, dict):
            continue
        for asset_hash, spec in section.items():
            if not isinstance(spec, dict):
                continue
            source = _dict(spec.get("source"))
            assets[asset_hash] = Asset(
                hash=asset_hash,
                kind=kind,
                display_name=_str_or_none(spec.get("displayName")),
                source_path=_str_or_none(source.get("path") or source.get("directory")),
            )
    return assets


def _legacy_assets(metadata: Any) -> dict[str, Asset]:
    """Assets recorded by the legacy synthesizer as ``aws:cdk:asset`` stack metadata."""
    assets: dict[str, Asset] = {}
    if not isinstance(metadata, dict):
        return assets
    for entries in metadata.values():
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or entry.get("type") != "aws:cdk:asset":
                continue
            data = _dict(entry.get("data"))
            asset_hash = data.get("sourceHash") or data.get("id")
            if isinstance(asset_hash, str):
                packaging = data.get("packaging")
                assets[asset_hash] = Asset(
                    hash=asset_hash,
                    kind="docker-image" if packaging == "container-image" else "file",
                    display_name=_str_or_none(data.get("id")),
                    source_path=_str_or_none(data.get("path")),
                )
    return assets


# The version is checked strictly (bot.core.semver): anything else in tree.json (a fork controls it) reads as unknown.
_LIBRARY_VERSION = re.compile(rb'"fqn"\s*:\s*"aws-cdk-lib\.App"\s*,\s*"version"\s*:\s*"([^"]{1,80})"')


def _library_version(reader: _Reader) -> str | None:
    """The aws-cdk-lib version that synthesized the app, from the start of tree.json.

    Optional: tree.json missing, not a regular file, outside the assembly or unreadable
    only leaves the version unknown (with a note when it looks hostile).
    """
    if not (reader.root / "tree.json").exists():
        return None
    try:
        head = read_regular_file(reader.path("tree.json"), reader.limits.max_file_bytes, prefix=64 * 1024)
    except AssemblyError as exc:
        reader.problems.append(f"tree.json ignored: {exc}")
        return None
    except JsonLimitError as exc:
        reader.problems.append(f"tree.json ignored: it {exc}")
        return None
    match = _LIBRARY_VERSION.search(head)
    version = match.group(1).decode(errors="replace") if match else None
    return version if semver.is_version(version) else None


def _metadata_version(stacks: Iterable[Stack]) -> str | None:
    """The aws-cdk-lib version the stacks' ``CDKMetadata`` resources name (nested stacks too)."""
    def analytics(stack: Stack) -> Iterator[str]:
        for logical_id in stack.resources.of_type(cdk_metadata.METADATA_TYPE):
            value = stack.resources.properties(logical_id).get("Analytics")
            if isinstance(value, str):
                yield value
        for nested in stack.nested.values():
            yield from analytics(nested)

    return cdk_metadata.library_version(a for stack in stacks for a in analytics(stack))


def _str_or_none(value: Json) -> str | None:
    return value if isinstance(value, str) else None


def _dict(value: Any) -> dict[str, Any]:
    """The value when it is a JSON object, else an empty one (input may be anything)."""
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    """The strings of a JSON list; anything else reads as empty."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
