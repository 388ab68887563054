"""The JSON report, schema version 1: a contract other tools read (see README)."""

from __future__ import annotations

import json
from typing import Any

from bot import __version__
from bot.core.model import AnalysisResult, Assembly, Finding, Plan, Severity, StackChanges, Step

SCHEMA_VERSION = 1


def to_dict(result: AnalysisResult) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "cdk-export-guard", "version": __version__},
        "base": _assembly(result.base),
        "head": _assembly(result.head),
        "summary": {s.label: result.count(s) for s in sorted(Severity, reverse=True)},
        "findings": [finding_to_dict(f) for f in result.findings],
        "stacks": [_stack(s) for s in result.stacks],
        "notes": list(result.notes),
    }


def render(result: AnalysisResult) -> str:
    return json.dumps(to_dict(result), indent=2, sort_keys=False) + "\n"


def _assembly(assembly: Assembly) -> dict[str, Any]:
    return {
        "assembly": assembly.path,
        "manifest_version": assembly.manifest_version,
        "cdk_library_version": assembly.cdk_library_version,
        "stacks": assembly.stack_names,
    }


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.id,
        "rule": finding.rule,
        "severity": finding.severity.label,
        "producer": finding.producer or None,
        "export": finding.export,
        "output": finding.output,
        "consumers": list(finding.consumers),
        "reference_kind": finding.reference_kind.value,
        "environment": str(finding.environment),
        "causes": [c.to_json() for c in finding.causes],
        "usages": [u.to_json() for u in finding.usages],
        "message": finding.message,
        "remediation": plan_to_dict(finding.remediation) if finding.remediation else None,
    }


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "strategy": plan.strategy,
        "summary": plan.summary,
        "steps": [_step(s) for s in plan.steps],
        "deploy_command": plan.deploy_command,
        "pipeline_edits": [
            {"path": e.path, "line": e.line, "before": e.before, "after": e.after}
            for e in plan.pipeline_edits
        ],
        "verified": plan.verified,
        "verification": plan.verification.to_json(),
        "covers": list(plan.covers),
        "simulation": list(plan.simulation),
        "deployed_by": list(plan.deployed_by),  # empty unless a pipeline deploys the stacks
        "alternatives": [plan_to_dict(a) for a in plan.alternatives],
    }


def _step(step: Step) -> dict[str, Any]:
    return {
        "title": step.title,
        "kind": step.kind,
        "detail": step.detail,
        "commands": list(step.commands),
        "code": None
        if step.code is None
        else {
            "language": step.code.language,
            "path": step.code.path,
            "line": step.code.line,
            "snippet": step.code.snippet,
        },
        "applies_to": step.applies_to,
        "changes": [c.to_json() for c in step.changes],
    }


def _stack(stack: StackChanges) -> dict[str, Any]:
    return {
        "name": stack.stack_name,
        "artifact_id": stack.artifact_id,
        "environment": str(stack.environment),
        "status": stack.status,
        "changes": {
            "added": list(stack.added),
            "updated": list(stack.updated),
            "replaced": list(stack.replaced),
            "removed": list(stack.removed),
        },
    }
