"""Finding -> plan: the fix that works, as commands and code people paste.

DOMAIN.md section 5 is the source of each strategy. Pure: no I/O.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from bot.model import AnalysisResult, Finding, Plan, Severity, Stack, StackKey, Step

WEAK_REFERENCES_SINCE = (2, 254, 0)
FLAG = "@aws-cdk/core:defaultCrossStackReferences"


def attach_plans(result: AnalysisResult) -> AnalysisResult:
    """Return the result with a remediation plan on every finding."""
    stacks = {s.key: s for s in result.head.all_stacks()}
    stacks.update({s.key: s for s in result.base.all_stacks() if s.key not in stacks})
    library = result.head.cdk_library_version or result.base.cdk_library_version
    findings = tuple(
        replace(f, remediation=plan_for(f, stacks, library)) for f in result.findings
    )
    return replace(result, findings=findings)


def plan_for(finding: Finding, stacks: Mapping[StackKey, Stack], library: str | None) -> Plan:
    producer = _selector(stacks, finding.producer_key) if finding.producer_key else None
    consumers = [_selector(stacks, k) for k in finding.consumer_keys]
    if finding.rule in ("export-value-change-in-use", "export-value-may-change-in-use"):
        assert producer is not None
        return _split_plan(finding, producer, consumers, library)
    if finding.rule == "export-removed-in-use":
        assert producer is not None
        return _consumer_first_plan(finding, producer, consumers)
    if finding.rule == "import-missing-export" and finding.severity is Severity.BLOCKER:
        return _restore_export_plan(finding, producer)
    if finding.rule == "import-missing-export":
        return Plan(
            strategy="verify-external-export",
            summary=f"Check that {finding.export} is exported in {finding.environment} before merging.",
            steps=(
                Step(
                    title="Confirm the export exists in the target account and region",
                    kind="deploy",
                    commands=(
                        "aws cloudformation list-exports --region "
                        f"{finding.environment.region} --query "
                        + shlex.quote(f"Exports[?Name=='{finding.export}']"),
                    ),
                ),
            ),
        )
    assert producer is not None
    return _ordered_deploy_plan(finding, producer, consumers)


def deploy_command(selectors: Sequence[str], *, exclusively: bool = False, concurrency: int = 1,
                   force: bool = False) -> str:
    """The exact `cdk deploy` line, stack ids quoted for a POSIX shell."""
    parts = ["cdk", "deploy", *(shlex.quote(s) for s in selectors)]
    if exclusively:
        parts.append("--exclusively")
    if force:
        parts.append("--force")
    if concurrency > 1:
        parts += ["--concurrency", str(concurrency)]
    return " ".join(parts)


def _selector(stacks: Mapping[StackKey, Stack], key: StackKey) -> str:
    """What `cdk deploy` accepts for a stack: its hierarchical id (``Prod/Service``)."""
    stack = stacks.get(key)
    if stack is None:
        return str(key)
    if stack.parent is not None:  # a nested stack deploys with its top-level parent
        return _selector(stacks, stack.parent)
    return stack.hierarchical_id


def _version_at_least(version: str | None, minimum: tuple[int, ...]) -> bool | None:
    if not version:
        return None
    numbers = tuple(int(n) for n in re.findall(r"\d+", version)[:3])
    return numbers >= minimum


def _split_plan(finding: Finding, producer: str, consumers: list[str], library: str | None) -> Plan:
    both = deploy_command([producer, *consumers], concurrency=_width(consumers))
    weak_ok = _version_at_least(library, WEAK_REFERENCES_SINCE)
    first = (
        Step(
            title="Change 1 (merge and deploy first, without this PR's value change): "
            f"set `{FLAG}` to `both` in cdk.json",
            kind="code-change",
            detail=(
                f"With `both`, {producer} keeps its export and also publishes a plain output; "
                f"{_names(consumers)} read it with Fn::GetStackOutput instead of Fn::ImportValue. "
                "Deploy the producer, then the consumers: after this, nothing imports the export."
            ),
            commands=(both,),
        )
        if weak_ok is not False
        else Step(
            title="Change 1 (merge and deploy first, without this PR's value change): pass the "
            "value through an SSM parameter",
            kind="code-change",
            detail=(
                f"aws-cdk-lib {library} predates weak references: in {producer} write the value "
                "to an `ssm.StringParameter`; in the consumers read it with "
                "`ssm.StringParameter.value_for_string_parameter(...)` and add "
                f"`consumer.add_dependency(producer)`. Deploy the producer, then the consumers: "
                "they stop importing the export."
            ),
            commands=(both,),
        )
    )
    second = Step(
        title="Change 2: this PR's change" + (f" (and set `{FLAG}` to `weak`)" if weak_ok is not False else ""),
        kind="deploy",
        detail=(
            f"Deploy {producer} and then {_names(consumers)} in one command so the consumers pick "
            "up the new value (the --force makes the CLI redeploy consumers whose template did "
            "not change; it skips them otherwise)."
        ),
        commands=(deploy_command([producer, *consumers], concurrency=_width(consumers), force=True),),
    )
    detach = Plan(
        strategy="detach-and-restore",
        summary="Without weak references: remove the reference, deploy the consumers first, "
        "then the producer, then restore the reference (two releases).",
        steps=(
            Step(
                title=f"Release 1: stop using the value in {_names(consumers)}",
                kind="code-change",
                detail=f"Deploy the consumers alone, then {producer} with this PR's change.",
                commands=(
                    deploy_command(consumers, exclusively=True, concurrency=_width(consumers)),
                    deploy_command([producer], exclusively=True),
                ),
            ),
            Step(
                title="Release 2: restore the reference",
                kind="deploy",
                commands=(deploy_command([producer, *consumers], concurrency=_width(consumers)),),
            ),
        ),
    )
    return Plan(
        strategy="split-weak-reference" if weak_ok is not False else "split-ssm-parameter",
        summary=(
            f"No single deploy can ship this change: CloudFormation refuses to change export "
            f"{finding.export} while {_names(finding.consumers)} import it, and "
            f"`{deploy_command([producer, *consumers])}` deploys {producer} first and fails the "
            "same way. Split it into two changes."
        ),
        steps=(
            Step(title="Split this pull request", kind="split"),
            first,
            second,
        ),
        deploy_command=None,
        alternatives=(detach,),
    )


def _consumer_first_plan(finding: Finding, producer: str, consumers: list[str]) -> Plan:
    first = deploy_command(consumers, exclusively=True, concurrency=_width(consumers))
    then = deploy_command([producer], exclusively=True)
    keep = Plan(
        strategy="keep-export-one-release",
        summary=f"Keep the export for one more release with `stack.export_value(...)` in {producer}, "
        "then remove it once no deployed stack imports it.",
        steps=(
            Step(
                title=f"In {producer}, re-create the export for one release",
                kind="code-change",
                detail=(
                    "`self.export_value(<the construct's attribute>, name=\""
                    f"{finding.export}\")` (the attribute is a placeholder: use the value the "
                    "export carried)."
                ),
            ),
        ),
    )
    return Plan(
        strategy="deploy-consumers-first",
        summary=(
            f"Deploy {_names(consumers)} first, on their own, so they stop importing "
            f"{finding.export}; then deploy {producer}."
        ),
        steps=(
            Step(title=f"Deploy {_names(consumers)} alone", kind="deploy", commands=(first,)),
            Step(title=f"Then deploy {producer}", kind="deploy", commands=(then,)),
        ),
        deploy_command=f"{first} && {then}",
        alternatives=(keep,),
    )


def _restore_export_plan(finding: Finding, producer: str | None) -> Plan:
    return Plan(
        strategy="restore-export",
        summary=(
            f"{_names(finding.consumers)} still import {finding.export}: keep exporting it from "
            f"{finding.producer} (`stack.export_value(...)`), or change the consumer to stop "
            "importing it first."
        ),
        steps=(
            Step(
                title=f"Keep {finding.export} exported from {finding.producer}",
                kind="code-change",
                detail=(
                    f"`self.export_value(<value>, name=\"{finding.export}\")` in {finding.producer} "
                    "(the value is a placeholder: the attribute the export carried)."
                ),
            ),
        ),
    )


def _ordered_deploy_plan(finding: Finding, producer: str, consumers: list[str]) -> Plan:
    weak = finding.reference_kind.value == "weak"
    command = deploy_command([producer, *consumers], concurrency=_width(consumers), force=weak)
    why = (
        " `--force`: the consumers' templates do not change, and the CLI skips an unchanged "
        "template unless forced."
        if weak
        else ""
    )
    return Plan(
        strategy="ordered-deploy",
        summary=f"Deploy {producer} and then {_names(consumers)} in one command.{why}",
        steps=(Step(title="Deploy producer, then consumers", kind="deploy", commands=(command,)),),
        deploy_command=command,
    )


def _width(consumers: Iterable[str]) -> int:
    # Consumers of one producer do not depend on each other through this reference.
    return max(1, len(set(consumers)))


def _names(names: Iterable[str]) -> str:
    items = sorted(set(names))
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)
