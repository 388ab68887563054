"""Read a JSON report (schema version 1) back into the model, treating it as hostile.

The fork-safe workflow analyzes a pull request without secrets and uploads the JSON
report; a privileged `workflow_run` job publishes it. Whatever that file says, it
must not be able to make us post more than a report could say: every field is
type-checked, sizes are capped, unknown enum values refused; rendering then escapes
every string as it does for assemblies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.core import semver
from bot.core.model import (
    APPLIES_TO,
    AnalysisResult,
    Assembly,
    Cause,
    Change,
    CodeLocation,
    Environment,
    Finding,
    Level,
    PipelineEdit,
    Plan,
    ReferenceKind,
    Severity,
    StackChanges,
    StackKey,
    Step,
    Usage,
    Verification,
)

MAX_REPORT_BYTES = 5 * 1024 * 1024
MAX_ITEMS = 2000  # findings, stacks, causes, usages... per list
MAX_STRING = 20_000


class ReportError(Exception):
    """The report is not a valid schema-v1 report; the message says where."""


def load_report(path: Path, max_bytes: int = MAX_REPORT_BYTES) -> AnalysisResult:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ReportError(f"cannot read report {path}: {exc.strerror}") from None
    if size > max_bytes:
        raise ReportError(f"report {path} is {size} bytes, over the limit of {max_bytes}")
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ReportError(f"report {path} is not valid JSON: {exc}") from None
    try:
        return from_dict(data)
    except ReportError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
        # A shape the field checks missed: still one line, never a traceback in the publish job.
        raise ReportError(f"report {path} is malformed: {type(exc).__name__}: {exc}"[:500]) from None


def from_dict(data: Any) -> AnalysisResult:
    root = _obj(data, "$")
    version = root.get("schema_version")
    if version != 1:
        raise ReportError(f"$.schema_version is {version!r}; this tool reads version 1")
    findings = tuple(_finding(f, f"$.findings[{i}]") for i, f in enumerate(_list(root, "findings", "$")))
    stacks = tuple(_stack(s, f"$.stacks[{i}]") for i, s in enumerate(_list(root, "stacks", "$")))
    notes = tuple(_str(n, f"$.notes[{i}]") for i, n in enumerate(_list(root, "notes", "$", required=False)))
    return AnalysisResult(
        base=_assembly(root.get("base"), "$.base"),
        head=_assembly(root.get("head"), "$.head"),
        findings=findings,
        stacks=stacks,
        notes=notes,
    )


# --- field readers -----------------------------------------------------------------


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ReportError(f"{where} must be an object")
    return value


def _list(parent: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> list[Any]:
    value = parent.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise ReportError(f"{where}.{key} must be a list")
    if len(value) > MAX_ITEMS:
        raise ReportError(f"{where}.{key} has {len(value)} items, over the limit of {MAX_ITEMS}")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ReportError(f"{where} must be a string")
    if len(value) > MAX_STRING:
        raise ReportError(f"{where} is longer than {MAX_STRING} characters")
    return value


def _opt_str(value: Any, where: str) -> str | None:
    return None if value is None else _str(value, where)


def _field(parent: Mapping[str, Any], key: str, where: str) -> str:
    return _str(parent.get(key), f"{where}.{key}")


def _strings(parent: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    return tuple(_str(v, f"{where}.{key}[{i}]") for i, v in enumerate(_list(parent, key, where)))


def _environment(value: Any, where: str) -> Environment:
    text = _str(value, where)
    env = Environment.parse(text)
    if str(env) != text and text != "aws://unknown-account/unknown-region":
        raise ReportError(f"{where} must look like aws://ACCOUNT/REGION")
    return env


def _version(value: Any, where: str) -> str | None:
    text = _opt_str(value, where)
    # A merged report lists each app's version: "36.0.0, 55.0.0".
    if text and not all(semver.is_version(part) for part in text.split(", ")):
        raise ReportError(f"{where} must be a version like 55.0.0, not {text[:40]!r}")
    return text


def _assembly(value: Any, where: str) -> Assembly:
    data = _obj(value, where)
    return Assembly(
        path=_field(data, "assembly", where),
        manifest_version=_version(data.get("manifest_version"), f"{where}.manifest_version") or "",
        stacks={},
        cdk_library_version=_version(data.get("cdk_library_version"), f"{where}.cdk_library_version"),
        report_stack_names=_strings(data, "stacks", where),
    )


def _finding(value: Any, where: str) -> Finding:
    data = _obj(value, where)
    severity = _field(data, "severity", where)
    if severity not in {s.label for s in Severity}:
        raise ReportError(f"{where}.severity {severity!r} is not blocker, warning or notice")
    kind = _str(data.get("reference_kind", "strong"), f"{where}.reference_kind")
    if kind not in {k.value for k in ReferenceKind}:
        raise ReportError(f"{where}.reference_kind {kind[:40]!r} is not strong, weak, ssm or nested")
    producer = _opt_str(data.get("producer"), f"{where}.producer") or ""
    consumers = _strings(data, "consumers", where)
    remediation = data.get("remediation")
    return Finding(
        rule=_field(data, "rule", where),
        severity=Severity.parse(severity),
        environment=_environment(data.get("environment"), f"{where}.environment"),
        producer=producer,
        producer_key=StackKey(producer) if producer else None,
        export=_opt_str(data.get("export"), f"{where}.export"),
        output=_opt_str(data.get("output"), f"{where}.output"),
        consumers=consumers,
        consumer_keys=tuple(StackKey(c) for c in consumers),
        reference_kind=ReferenceKind(kind),
        message=_field(data, "message", where),
        causes=tuple(_cause(c, f"{where}.causes[{i}]") for i, c in enumerate(_list(data, "causes", where))),
        usages=tuple(_usage(u, f"{where}.usages[{i}]") for i, u in enumerate(_list(data, "usages", where))),
        remediation=None if remediation is None else _plan(remediation, f"{where}.remediation", 0),
    )


def _cause(value: Any, where: str) -> Cause:
    data = _obj(value, where)
    details = {}
    for key, item in data.items():
        if key in ("kind", "message"):
            continue
        if item is not None and not isinstance(item, (str, int, float, bool)):
            raise ReportError(f"{where}.{key} must be a plain value")
        details[_str(key, f"{where} key")] = _str(item, f"{where}.{key}") if isinstance(item, str) else item
    return Cause(_field(data, "kind", where), _field(data, "message", where), details)


def _usage(value: Any, where: str) -> Usage:
    data = _obj(value, where)
    return Usage(
        stack=_field(data, "stack", where),
        resource=_opt_str(data.get("resource"), f"{where}.resource"),
        path=_field(data, "path", where),
        construct_path=_opt_str(data.get("construct_path"), f"{where}.construct_path"),
    )


def _plan(value: Any, where: str, depth: int) -> Plan:
    if depth > 2:
        raise ReportError(f"{where}: alternatives are nested too deeply")
    data = _obj(value, where)
    verified = data.get("verified", False)
    if not isinstance(verified, bool):
        raise ReportError(f"{where}.verified must be true or false")
    return Plan(
        strategy=_field(data, "strategy", where),
        summary=_field(data, "summary", where),
        steps=tuple(_step(s, f"{where}.steps[{i}]") for i, s in enumerate(_list(data, "steps", where))),
        deploy_command=_opt_str(data.get("deploy_command"), f"{where}.deploy_command"),
        pipeline_edits=tuple(
            _edit(e, f"{where}.pipeline_edits[{i}]")
            for i, e in enumerate(_list(data, "pipeline_edits", where, required=False))
        ),
        verification=_verification(data.get("verification"), verified, f"{where}.verification"),
        covers=_strings(data, "covers", where) if "covers" in data else (),
        alternatives=tuple(
            _plan(a, f"{where}.alternatives[{i}]", depth + 1)
            for i, a in enumerate(_list(data, "alternatives", where, required=False))
        ),
        simulation=_strings(data, "simulation", where) if "simulation" in data else (),
        deployed_by=_strings(data, "deployed_by", where) if "deployed_by" in data else (),
    )


def _verification(value: Any, verified: bool, where: str) -> Verification:
    """The plan's level; a report without one (older) is at most modelled, never synthesized."""
    if value is None:
        if verified:
            return Verification(Level.MODELLED, (), "from a report without verification levels")
        return Verification()
    data = _obj(value, where)
    level = _str(data.get("level"), f"{where}.level")
    if level not in {lv.value for lv in Level}:
        raise ReportError(f"{where}.level {level[:40]!r} is not synthesized, modelled or none")
    if (level == Level.SYNTHESIZED.value) != verified:
        raise ReportError(f"{where}.level {level!r} disagrees with verified={verified}")
    return Verification(Level(level), _strings(data, "states", where) if "states" in data else (),
                        _opt_str(data.get("reason"), f"{where}.reason") or "")


def _change(value: Any, where: str) -> Change:
    data = _obj(value, where)
    kind = _field(data, "kind", where)
    if kind not in ("context", "patch", "description"):
        raise ReportError(f"{where}.kind {kind!r} is unknown")
    item = data.get("value")
    if item is not None and not isinstance(item, (str, int, float, bool)):
        raise ReportError(f"{where}.value must be a plain value")
    required = {"context": ("key",), "patch": ("path", "diff"), "description": ("description",)}[kind]
    for name in required:
        _field(data, name, where)  # a string, or a ReportError
    return Change(
        kind=kind,
        key=_opt_str(data.get("key"), f"{where}.key"),
        value=item,
        path=_opt_str(data.get("path"), f"{where}.path"),
        diff=_opt_str(data.get("diff"), f"{where}.diff"),
        description=_opt_str(data.get("description"), f"{where}.description"),
    )


def _step(value: Any, where: str) -> Step:
    data = _obj(value, where)
    kind = _field(data, "kind", where)
    if kind not in ("deploy", "code-change", "split", "pipeline-edit"):
        raise ReportError(f"{where}.kind {kind!r} is unknown")
    code = data.get("code")
    return Step(
        title=_field(data, "title", where),
        kind=kind,
        commands=_strings(data, "commands", where),
        code=None if code is None else _code(code, f"{where}.code"),
        detail=_opt_str(data.get("detail"), f"{where}.detail") or "",
        changes=tuple(_change(c, f"{where}.changes[{i}]")
                      for i, c in enumerate(_list(data, "changes", where, required=False))),
        applies_to=_applies_to(data.get("applies_to"), f"{where}.applies_to"),
    )


def _applies_to(value: Any, where: str) -> str | None:
    if value is not None and value not in APPLIES_TO:
        raise ReportError(f"{where} {value!r} is not base, head or previous")
    return value if isinstance(value, str) else None


def _code(value: Any, where: str) -> CodeLocation:
    data = _obj(value, where)
    line = data.get("line")
    if line is not None and (not isinstance(line, int) or isinstance(line, bool) or line < 0):
        raise ReportError(f"{where}.line must be a positive number")
    return CodeLocation(
        language=_field(data, "language", where),
        path=_opt_str(data.get("path"), f"{where}.path"),
        line=line,
        snippet=_field(data, "snippet", where),
    )


def _edit(value: Any, where: str) -> PipelineEdit:
    data = _obj(value, where)
    line = data.get("line")
    if not isinstance(line, int) or isinstance(line, bool) or line < 1:
        raise ReportError(f"{where}.line must be a positive number")
    return PipelineEdit(
        path=_field(data, "path", where),
        line=line,
        before=_field(data, "before", where),
        after=_field(data, "after", where),
    )


def _stack(value: Any, where: str) -> StackChanges:
    data = _obj(value, where)
    changes = _obj(data.get("changes"), f"{where}.changes")
    status = _field(data, "status", where)
    if status not in ("added", "removed", "changed", "unchanged"):
        raise ReportError(f"{where}.status {status!r} is unknown")
    return StackChanges(
        stack_key=StackKey(_field(data, "name", where)),
        stack_name=_field(data, "name", where),
        artifact_id=_field(data, "artifact_id", where),
        environment=_environment(data.get("environment"), f"{where}.environment"),
        added=_strings(changes, "added", f"{where}.changes"),
        updated=_strings(changes, "updated", f"{where}.changes"),
        replaced=_strings(changes, "replaced", f"{where}.changes"),
        removed=_strings(changes, "removed", f"{where}.changes"),
        status=status,
    )
