"""Plain text for terminals: findings first, then the per-stack change summary."""

from __future__ import annotations

import re

from bot.model import AnalysisResult, Finding, Plan, Step
from bot.render import levels

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MARK = {"blocker": "BLOCKER", "warning": "WARNING", "notice": "NOTICE"}


def clean(text: str) -> str:
    """One line, no terminal control sequences: assembly values come from the PR."""
    return _CONTROL.sub(lambda m: "\\n" if m.group() == "\n" else "?", text)


def render(result: AnalysisResult) -> str:
    return "\n".join(clean(line) for line in _lines(result)) + "\n"


def _lines(result: AnalysisResult) -> list[str]:
    lines: list[str] = []
    counts = ", ".join(
        f"{result.count(s)} {s.label}{'s' if result.count(s) != 1 else ''}"
        for s in sorted({f.severity for f in result.findings} | set(), reverse=True)
    )
    if result.findings:
        lines.append(f"cdk-export-guard: {counts}")
    else:
        lines.append("cdk-export-guard: no cross-stack reference is at risk in this change.")
    for finding in result.findings:
        lines.append("")
        lines.extend(_finding(finding))
    changed = [s for s in result.stacks if s.status != "unchanged"]
    if changed:
        lines.append("")
        lines.append("Stacks changed:")
        for stack in changed:
            parts = [
                f"{len(getattr(stack, kind))} {kind}"
                for kind in ("added", "updated", "replaced", "removed")
                if getattr(stack, kind)
            ]
            lines.append(f"  {stack.stack_name} ({stack.status}): {', '.join(parts) or 'outputs only'}")
    for note in result.notes:
        lines.append(f"note: {note}")
    return lines


def _finding(finding: Finding) -> list[str]:
    lines = [f"{_MARK[finding.severity.label]} [{finding.rule}] {finding.message}"]
    if finding.causes:
        lines.append("  Why:")
        lines.extend(f"    - {c.message}" for c in finding.causes)
    if finding.usages:
        lines.append("  Used by:")
        lines.extend(
            f"    - {u.stack} {u.resource or ''} {u.path}"
            + (f" ({u.construct_path})" if u.construct_path else "")
            for u in finding.usages
        )
    if finding.remediation:
        lines.extend(_plan(finding.remediation))
    return lines


def _plan(plan: Plan) -> list[str]:
    lines = [f"  Fix ({levels.describe(plan)}): {plan.summary}"]
    if len(plan.covers) > 1:
        lines.append(f"    One plan for {len(plan.covers)} findings of this pull request: apply it once.")
    if plan.deployed_by:
        lines.append(f"  Deployed by {'; '.join(plan.deployed_by)}.")
    for i, step in enumerate(plan.steps, 1):
        lines.append(f"    {i}. {step.title}")
        if step.detail:
            lines.append(f"       {step.detail}")
        lines.extend(f"       $ {c}" for c in step.commands)
        lines.extend(_changes(step))
        if step.code and step.code.path:
            where = f"{step.code.path}:{step.code.line}" if step.code.line else step.code.path
            lines.append(f"       at {where}: {step.code.snippet}")
    for edit in plan.pipeline_edits:
        lines.append(f"    pipeline {edit.path}:{edit.line}")
        lines.extend(f"      - {line}" for line in edit.before.splitlines())
        lines.extend(f"      + {line}" for line in edit.after.splitlines())
    if not plan.checked and plan.simulation:
        lines.extend(f"    simulated: {s}" for s in plan.simulation)
    return lines


def _changes(step: Step) -> list[str]:
    """The step's edits: context flags and patches by file; described edits in full."""
    out = []
    where = {"base": "on the base branch", "head": "on this pull request", "previous": "on the previous step"}
    if step.changes and step.applies_to:
        out.append(f"       changes ({where[step.applies_to]}):")
    for change in step.changes:
        if change.kind == "context":
            out.append(f"         context {change.key} = {change.value}")
        elif change.kind == "patch":
            out.append(f"         patch {change.path}")
            out.extend(f"           {line}" for line in (change.diff or "").splitlines())
        else:
            out.append(f"         edit by hand{f' in {change.path}' if change.path else ''} (no patch): "
                       f"{change.description}")
    return out
