"""Plain text for terminals. Reads top-down like the comment: the verdict, then each finding
with its fix first, then why and where; prose wraps at about 100 characters, code and
commands never wrap, and every location line introduces the code under it."""

from __future__ import annotations

import re
import textwrap

from bot.core.model import AnalysisResult, Finding, Plan, Severity, Step
from bot.render import levels
from bot.render.markdown import cloudformation_errors

WIDTH = 100
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")  # a tab (\x09) is kept: Makefiles need it
_MARK = {"blocker": "BLOCKER", "warning": "WARNING", "notice": "NOTICE"}
_VERDICT = {
    "blocker": "Cannot be deployed as it is: CloudFormation refuses to change an export another stack imports.",
    "warning": "The deploy can succeed, but needs attention: a consumer may keep a stale value.",
    "notice": "Nothing breaks, but the deploy order below matters.",
}


def clean(text: str) -> str:
    """One line, no terminal control sequences: assembly values come from the PR."""
    return _CONTROL.sub(lambda m: "\\n" if m.group() == "\n" else "?", text)


def render(result: AnalysisResult) -> str:
    return "\n".join(_lines(result)) + "\n"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _wrap(text: str, indent: str, first: str | None = None) -> list[str]:
    """Prose, cleaned and wrapped at WIDTH; ``first`` replaces the indent of the first line."""
    return textwrap.wrap(clean(text), WIDTH, initial_indent=indent if first is None else first,
                         subsequent_indent=indent, break_long_words=False, break_on_hyphens=False) or [indent]


def _code(text: str, indent: str, prefix: str = "") -> list[str]:
    """Code or commands, line by line, never wrapped."""
    return [f"{indent}{prefix}{clean(line)}" for line in text.split("\n")]


def _lines(result: AnalysisResult) -> list[str]:
    severities = sorted({f.severity for f in result.findings}, reverse=True)
    if not result.findings:
        lines = ["cdk-export-guard: no cross-stack reference is at risk in this change."]
    else:
        counts = ", ".join(_plural(result.count(s), s.label) for s in severities)
        lines = [f"cdk-export-guard: {counts}.", *_wrap(_VERDICT[severities[0].label], "")]
    ordered = [f for s in sorted(Severity, reverse=True) for f in result.findings if f.severity is s]
    for number, finding in enumerate(ordered, 1):
        lines.append("")
        lines.extend(_finding(number, finding))
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
            lines.append(clean(f"  {stack.stack_name} ({stack.status}): {', '.join(parts) or 'outputs only'}"))
    for note in result.notes:
        lines.extend(_wrap(note, "      ", "note: "))
    return lines


def _finding(number: int, finding: Finding) -> list[str]:
    consumers = ", ".join(finding.consumers)
    kind = "export" if finding.export else "output"
    head = (f"{_MARK[finding.severity.label]} {number}: {finding.producer or '(not in this app)'} -> {consumers}, "
            f"{kind} {finding.subject} [{finding.rule}]")
    lines = _wrap(head, "    ", "")
    plan = finding.remediation
    if plan:
        lines.extend(_plan(plan))
    errors = cloudformation_errors(finding)
    message = finding.message
    for error in errors:  # shown once, whole, on its own line below
        message = message.replace(f' CloudFormation: "{error}".', "")
    lines.extend(_wrap(message, "       ", "  Why: "))
    for cause in finding.causes:
        lines.extend(_wrap(cause.message, "      ", "    - "))
    if errors:
        lines.append("  CloudFormation refuses the deploy with:")
        lines.extend(_code("\n".join(errors), "    "))
    if finding.usages:
        lines.append("  Used by:")
        for usage in finding.usages:
            where = f"{usage.stack}: {usage.resource or '(outputs)'} at {usage.path}"
            lines.extend(_wrap(where + (f" ({usage.construct_path})" if usage.construct_path else ""),
                               "      ", "    - "))
    if plan and plan.summary:
        lines.extend(_wrap(f"{plan.summary} ({plan.strategy}; {levels.describe(plan)}.)", "    ", "  Why this fix: "))
    if plan and plan.alternatives:
        names = ", ".join(a.strategy for a in plan.alternatives)
        lines.extend(_wrap(f"{names} (--format markdown or json shows them)", "    ", "  Alternatives: "))
    return lines


def _plan(plan: Plan) -> list[str]:
    lines = [f"  Fix ({levels.short(plan)}):"]
    if len(plan.covers) > 1:
        lines.append(f"    One plan for {len(plan.covers)} findings of this pull request: apply it once.")
    if plan.deployed_by:
        lines.extend(_wrap(f"Deployed by {'; '.join(plan.deployed_by)}.", "      ", "    "))
    for i, step in enumerate(plan.steps, 1):
        lines.extend(_step(i, step))
    if plan.pipeline_edits:
        lines.append("    Pipeline changes:")
    for edit in plan.pipeline_edits:
        lines.append(clean(f"      In {edit.path} line {edit.line}:"))
        lines.extend(_code(edit.before, "        ", "- "))
        lines.extend(_code(edit.after, "        ", "+ "))
    if not plan.checked and plan.simulation:
        lines.append("    What the simulator saw:")
        for seen in plan.simulation:
            lines.extend(_wrap(seen, "        ", "      - "))
    return lines


def _step(number: int, step: Step) -> list[str]:
    pad = "       "
    lines = _wrap(step.title, pad, f"    {number}. ")
    if step.detail:
        lines.extend(_wrap(step.detail, pad))
    if step.code:
        where = step.code.path and (f"{step.code.path} line {step.code.line}" if step.code.line else step.code.path)
        lines.append(clean(f"{pad}In {where}:" if where else f"{pad}The code:"))
        lines.extend(_code(step.code.snippet, pad + "  "))
    lines.extend(clean(line) for line in _changes(step))
    if step.commands:
        if step.code or step.changes:
            lines.append(f"{pad}Then run:")
        lines.extend(_code("\n".join(step.commands), pad + "  ", "$ "))
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
