"""export-value-change-in-use / export-value-may-change-in-use."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.model import Cause, Finding, ValueChange
from bot.core.rules.common import and_list, group_by_name, make_finding


def check(context: Context) -> list[Finding]:
    findings = []
    imported = group_by_name(r for r in context.base_graph.strong() if r.producer is not None)
    for (environment, name), refs in imported.items():
        published = context.base_graph.exports[(environment, name)]
        diff = context.diff_of_base(published.stack)
        head_published = context.head_graph.export(environment, name)
        if diff is None or head_published is None or head_published.stack != diff.head.key:
            continue  # gone, moved or the producer left the app: other rules judge that
        base_output = diff.base.outputs[published.source]
        head_output = diff.head.outputs[head_published.source]
        change = diff.output_change(base_output, head_output)
        if change.change is ValueChange.SAME:
            continue
        consumers = and_list(sorted({context.base_stacks[r.consumer].stack_name for r in refs}))
        definite = change.change is ValueChange.CHANGES
        rule = "export-value-change-in-use" if definite else "export-value-may-change-in-use"
        verb = "changes value" if definite else "may change value"
        message = (
            f"Deploying {diff.head.stack_name} will fail: export {name} {verb} while "
            f"{consumers} import{'s' if len(refs) == 1 else ''} it. CloudFormation: "
            f"\"Cannot update export {name} as it is in use by {consumers}\"."
            if definite
            else f"Export {name} of {diff.head.stack_name} {verb} while {consumers} "
            f"import{'s' if len(refs) == 1 else ''} it; if it does, CloudFormation refuses "
            f"the deploy (\"Cannot update export {name} as it is in use by ...\")."
        )
        export_cause = Cause(
            "output-value-changed" if definite else "output-value-may-change",
            f"Output {head_output.logical_id} (export {name}) of {diff.head.stack_name} "
            f"{'gets a new value' if definite else 'may get a new value'}",
            {"stack": diff.head.stack_name, "output": head_output.logical_id, "export": name},
        )
        causes = [*change.causes]
        if not any(c.kind == "output-value-changed" for c in causes):
            causes.append(export_cause)
        findings.append(
            make_finding(
                rule,
                refs=refs,
                producer=diff.head,
                consumer_stacks=context.base_stacks,
                message=message,
                causes=causes,
                export=name,
                output=head_output.logical_id,
            )
        )
    return findings

