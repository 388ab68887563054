"""SARIF 2.1.0 for code scanning: one result per finding.

When the fix found the construct in the app's source, the result is located at that source
line, with a path relative to the repository root (what GitHub code scanning resolves, so the
alert shows in the pull request's diff); the templates become related locations. Otherwise
it is located at the producer's template. Template locations are relative to the head
assembly (``uriBaseId`` ``HEADASSEMBLY``; a stack that only the base has is located in
``BASEASSEMBLY``); both bases are declared in ``originalUriBaseIds`` by description only:
an assembly is a build output, and its absolute path on the runner means nothing elsewhere.
The fingerprint is ``Finding.id``, which stays the same across pushes.
"""

from __future__ import annotations

import json
import posixpath
import re
from typing import Any
from urllib.parse import quote

from bot import __version__
from bot.core.model import AnalysisResult, Assembly, Finding, Severity, Stack, Usage
from bot.core.rules.common import RULE_DOCS

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"
TOOL_NAME = "cdk-export-guard"
# Where people read about the tool and its rules; the project has no public home
# yet, so this is the address the README is expected to live at.
INFORMATION_URI = "https://github.com/cdk-export-guard/cdk-export-guard"
FINGERPRINT = "cdkExportGuard/v1"
HEAD_BASE = "HEADASSEMBLY"
BASE_BASE = "BASEASSEMBLY"

LEVELS = {Severity.BLOCKER: "error", Severity.WARNING: "warning", Severity.NOTICE: "note"}


def render(result: AnalysisResult, *, source_root: str = "") -> str:
    """``source_root``: the app's source folder relative to the repository root ("" for the root)."""
    return json.dumps(to_dict(result, source_root=source_root), indent=2, ensure_ascii=False) + "\n"


def to_dict(result: AnalysisResult, *, source_root: str = "") -> dict[str, Any]:
    rule_ids = list(RULE_DOCS)
    return {
        "$schema": SCHEMA,
        "version": VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(rule_id) for rule_id in rule_ids],
                    }
                },
                "originalUriBaseIds": {
                    HEAD_BASE: {"description": {"text": "the head cloud assembly (cdk.out) of the analysis"}},
                    BASE_BASE: {"description": {"text": "the base cloud assembly (cdk.out) of the analysis"}},
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(result, f, rule_ids, source_root) for f in result.findings],
            }
        ],
    }


def _rule(rule_id: str) -> dict[str, Any]:
    severity, description = RULE_DOCS[rule_id]
    return {
        "id": rule_id,
        "name": _camel(rule_id),
        "shortDescription": {"text": _first_sentence(description)},
        "fullDescription": {"text": description},
        "helpUri": f"{INFORMATION_URI}#{rule_id}",
        "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": {"severity": severity.label, "tags": ["cloudformation", "aws-cdk"]},
    }


def _result(result: AnalysisResult, finding: Finding, rule_ids: list[str], source_root: str) -> dict[str, Any]:
    out: dict[str, Any] = {"ruleId": finding.rule}
    if finding.rule in rule_ids:
        out["ruleIndex"] = rule_ids.index(finding.rule)
    out["level"] = LEVELS[finding.severity]
    out["message"] = {"text": finding.message}
    out["partialFingerprints"] = {FINGERPRINT: finding.id}
    primary = _producer_location(result, finding)
    out["locations"] = [primary] if primary else []
    related = [
        location
        for i, usage in enumerate(finding.usages)
        if (location := _usage_location(result, finding, usage, i)) is not None
    ]
    if related:
        out["relatedLocations"] = related
    if not out["locations"] and related:  # no producer in the app: point at the importer
        first = dict(related[0])
        first.pop("id", None)
        out["locations"] = [first]
    source = _source_location(finding, source_root)
    if source is not None:  # the construct's line in the app: where the PR diff shows it
        if primary is not None:
            related.insert(0, {"id": len(related), **primary,
                               "message": {"text": f"the producer's template ({finding.producer})"}})
            out["relatedLocations"] = related
        out["locations"] = [source]
    out["properties"] = {
        "export": finding.export,
        "output": finding.output,
        "producer": finding.producer or None,
        "consumers": list(finding.consumers),
        "referenceKind": finding.reference_kind.value,
        "environment": str(finding.environment),
        "severity": finding.severity.label,
        "causes": [c.message for c in finding.causes],
    }
    if finding.remediation:
        out["properties"]["remediation"] = finding.remediation.summary
    return out


def _producer_location(result: AnalysisResult, finding: Finding) -> dict[str, Any] | None:
    found = _stack_by_key(result, finding.producer_key)
    if found is None:
        return None
    stack, base_id = found
    logical = (
        [{"name": finding.output, "fullyQualifiedName": f"{stack.stack_name}/Outputs/{finding.output}",
          "kind": "member"}]
        if finding.output
        else []
    )
    location: dict[str, Any] = {"physicalLocation": _physical(stack, base_id)}
    if logical:
        location["logicalLocations"] = logical
    return location


def _usage_location(result: AnalysisResult, finding: Finding, usage: Usage,
                    index: int) -> dict[str, Any] | None:
    found = _stack_by_usage(result, finding, usage)
    if found is None:
        return None
    stack, base_id = found
    where = f"{usage.stack} reads it at {usage.path}"
    if usage.construct_path:
        where += f" ({usage.construct_path})"
    return {
        "id": index,
        "physicalLocation": _physical(stack, base_id),
        "logicalLocations": [
            {"name": usage.resource or usage.path, "fullyQualifiedName": f"{usage.stack}{usage.path}",
             "kind": "member"}
        ],
        "message": {"text": where},
    }


def _physical(stack: Stack, base_id: str) -> dict[str, Any]:
    return {
        "artifactLocation": {"uri": quote(stack.template_file.replace("\\", "/")), "uriBaseId": base_id}
    }


def _stack_by_key(result: AnalysisResult, key: str | None) -> tuple[Stack, str] | None:
    if key is None:
        return None
    for assembly, base_id in ((result.head, HEAD_BASE), (result.base, BASE_BASE)):
        for stack in assembly.all_stacks():
            if stack.key == key:
                return stack, base_id
    return None


def _stack_by_usage(result: AnalysisResult, finding: Finding, usage: Usage) -> tuple[Stack, str] | None:
    """The consumer template that holds the usage: head's, unless only base's has it.

    A usage of a reference the consumer dropped in head (export-removed-in-use) is
    only in the base template.
    """
    found = [
        (stack, base_id)
        for assembly, base_id in ((result.head, HEAD_BASE), (result.base, BASE_BASE))
        if (stack := _named(assembly, usage.stack, finding)) is not None
    ]
    holding = [(s, b) for s, b in found if usage.resource is None or usage.resource in s.resources]
    best = holding or found
    return best[0] if best else None


def _named(assembly: Assembly, name: str, finding: Finding) -> Stack | None:
    candidates = [s for s in assembly.all_stacks() if s.stack_name == name]
    preferred = [s for s in candidates if s.key in finding.consumer_keys]
    same_env = [s for s in candidates if s.environment == finding.environment]
    found = preferred or same_env or candidates
    return found[0] if found else None


def _source_location(finding: Finding, source_root: str) -> dict[str, Any] | None:
    """The first source line the fix points at, relative to the repository root."""
    plan = finding.remediation
    for step in plan.steps if plan else ():
        code = step.code
        if code is None or not code.path or not code.line or code.path.startswith(("/", "..")):
            continue
        root = source_root.strip().strip("/")
        path = posixpath.normpath(posixpath.join(root, code.path) if root and root != "." else code.path)
        if path.startswith(".."):
            continue
        return {"physicalLocation": {"artifactLocation": {"uri": quote(path)},
                                     "region": {"startLine": code.line}}}
    return None


def _camel(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.split("-"))


def _first_sentence(text: str) -> str:
    """Up to the first clause break: "A strong export changes value while ... imports it."."""
    text = re.sub(r"\s*\([^)]*\)", "", text)
    return re.split(r"(?<=\w)[.:;](?:\s|$)", text, maxsplit=1)[0] + "."
