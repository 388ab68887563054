"""import-missing-export: a head stack imports a name nothing in the app exports."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.model import Cause, Finding, Reference, ReferenceKind, Severity
from bot.core.references import Published
from bot.core.rules.common import ReferenceIndex, base_reference_ids, make_finding


def check(context: Context) -> list[Finding]:
    findings = []
    existing = base_reference_ids(context, ReferenceKind.STRONG)
    for ref in context.head_graph.strong():
        if ref.producer is not None:
            continue
        was_exported = context.base_graph.export(ref.environment, ref.name)
        finding = (
            _external(context, ref, existing) if was_exported is None else _was_exported(context, ref, was_exported)
        )
        if finding is not None:
            findings.append(finding)
    return findings


def _was_exported(context: Context, ref: Reference, published: Published) -> Finding:
    """The app exported it in base: gone from head, or its producer left the app."""
    consumer = context.head_stacks[ref.consumer].stack_name
    producer = context.base_stacks[published.stack]
    name = producer.stack_name
    if published.stack not in context.head_key_of:
        # The producer left the app; `cdk deploy` never deletes it, so its export stays.
        severity = Severity.WARNING
        message = (
            f"{consumer} imports {ref.name}, exported by {name}, which is no longer part of the app. "
            f"The deployed {name} keeps the export, so the deploy works, but destroying {name} will fail "
            f"while {consumer} imports it."
        )
        cause = Cause("stack-removed", f"{name} is no longer in the app, but `cdk deploy` does not delete it",
                      {"stack": name})
    else:
        severity = Severity.BLOCKER
        message = (
            f"{consumer} imports {ref.name}, which {name} exports today but no longer exports in this change: "
            f"the producer's deploy fails (\"Export {ref.name} cannot be deleted as it is in use by {consumer}\") "
            f"and a fresh deploy of {consumer} fails (\"No export named {ref.name} found\")."
        )
        cause = Cause("output-removed", f"{name} no longer exports {ref.name}", {"stack": name, "export": ref.name})
    return make_finding("import-missing-export", severity=severity, refs=[ref], producer=producer,
                        consumer_stacks=context.head_stacks, message=message, causes=[cause],
                        export=ref.name, output=published.source)


def _external(context: Context, ref: Reference, existing: ReferenceIndex) -> Finding | None:
    """Nothing in the app ever exported it: only a new import is this change's risk."""
    consumer = context.head_stacks[ref.consumer].stack_name
    if (ref.environment, ref.name, consumer) in existing:
        return None
    return make_finding(
        "import-missing-export",
        severity=Severity.WARNING,
        refs=[ref],
        producer=None,
        consumer_stacks=context.head_stacks,
        message=(
            f"{consumer} now imports {ref.name}, which no stack of this app exports. If nothing outside the app "
            f"exports it in {ref.environment}, the deploy fails with \"No export named {ref.name} found\" "
            "(not verifiable offline; see --live)."
        ),
        causes=[Cause("external-import", f"{ref.name} is not exported by any stack in the assembly",
                      {"export": ref.name})],
        export=ref.name,
        output=None,
    )
