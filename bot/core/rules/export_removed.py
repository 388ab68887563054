"""export-removed-in-use: an export disappears while a deployed stack imports it."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.context import Context
from bot.core.intrinsics import walk_targets
from bot.core.model import Cause, Finding, Json, Reference, Resource
from bot.core.rules.common import ReferenceIndex, and_list, group_by_name, make_finding


def check(context: Context) -> list[Finding]:
    findings = []
    head_imports = ReferenceIndex(
        (r.environment, r.name, context.head_stacks[r.consumer].stack_name)
        for r in context.head_graph.strong()
    )
    imported = group_by_name(r for r in context.base_graph.strong() if r.producer is not None)
    for (environment, name), refs in imported.items():
        if context.head_graph.export(environment, name) is not None:
            continue
        published = context.base_graph.exports[(environment, name)]
        diff = context.diff_of_base(published.stack)
        if diff is None:
            continue  # the producer left the app: nothing deploys it, its export stays
        upstream = context.upstream_in_head(diff.head.key)
        # Consumers that still import it in head are import-missing-export's to report.
        dropped = [
            r
            for r in refs
            if (environment, name, context.base_stacks[r.consumer].stack_name) not in head_imports
        ]
        # A consumer the producer depends on in head deploys first and drops the import.
        blocking = [r for r in dropped if context.head_key_of.get(r.consumer) not in upstream]
        if not blocking:
            continue
        consumers = and_list(sorted({context.base_stacks[r.consumer].stack_name for r in blocking}))
        base_output = diff.base.outputs[published.source]
        causes = [
            Cause(
                "output-removed",
                f"Output {base_output.logical_id} (export {name}) is no longer in "
                f"{diff.head.stack_name}'s template",
                {"stack": diff.head.stack_name, "output": base_output.logical_id, "export": name},
            )
        ]
        causes.extend(_why_removed(context, blocking, diff.head.resources, base_output.value))
        message = (
            f"Deploying {diff.head.stack_name} will fail: export {name} is deleted while "
            f"{consumers} still import{'s' if len(blocking) == 1 else ''} it in the deployed "
            f"state, and the default deploy order updates {diff.head.stack_name} first. "
            f"CloudFormation: \"Export {name} cannot be deleted as it is in use by {consumers}\"."
        )
        findings.append(
            make_finding(
                "export-removed-in-use",
                refs=blocking,
                producer=diff.head,
                consumer_stacks=context.base_stacks,
                message=message,
                causes=causes,
                export=name,
                output=base_output.logical_id,
            )
        )
    return findings


def _why_removed(
    context: Context, refs: list[Reference], head_resources: Mapping[str, Resource], value: Json
) -> list[Cause]:
    causes = []
    for ref in refs:
        consumer = context.base_stacks[ref.consumer]
        head_key = context.head_key_of.get(ref.consumer)
        if head_key is None:
            causes.append(
                Cause(
                    "stack-removed",
                    f"{consumer.stack_name} is no longer in the app, but `cdk deploy` does not "
                    "delete it: the deployed stack keeps importing",
                    {"stack": consumer.stack_name},
                )
            )
        else:
            causes.append(
                Cause(
                    "import-dropped",
                    f"{consumer.stack_name} no longer imports it in head, but its deployed "
                    "version does until it is redeployed",
                    {"stack": consumer.stack_name},
                )
            )
    targets = sorted({t.logical_id for t in walk_targets(value)})
    for logical_id in targets:
        if logical_id not in head_resources:
            causes.append(
                Cause(
                    "resource-removed",
                    f"{logical_id}, the resource the export pointed at, is gone or renamed in head",
                    {"resource": logical_id},
                )
            )
    return causes
