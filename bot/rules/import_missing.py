"""import-missing-export: a head stack imports a name nothing in the app exports."""

from __future__ import annotations

from bot.analysis import Context
from bot.model import Cause, Finding, ReferenceKind, Severity
from bot.rules.common import base_reference_ids, make_finding


def check(context: Context) -> list[Finding]:
    findings = []
    existing = base_reference_ids(context, ReferenceKind.STRONG)
    for ref in context.head_graph.strong():
        if ref.producer is not None:
            continue
        consumer = context.head_stacks[ref.consumer]
        was_exported = context.base_graph.export(ref.environment, ref.name)
        if was_exported is not None and was_exported.stack not in context.head_key_of:
            # The producer left the app; `cdk deploy` never deletes it, so its export stays.
            producer = context.base_stacks[was_exported.stack]
            findings.append(
                make_finding(
                    "import-missing-export",
                    severity=Severity.WARNING,
                    refs=[ref],
                    producer=producer,
                    consumer_stacks=context.head_stacks,
                    message=(
                        f"{consumer.stack_name} imports {ref.name}, exported by "
                        f"{producer.stack_name}, which is no longer part of the app. The deployed "
                        f"{producer.stack_name} keeps the export, so the deploy works, but "
                        f"destroying {producer.stack_name} will fail while {consumer.stack_name} "
                        "imports it."
                    ),
                    causes=[
                        Cause(
                            "stack-removed",
                            f"{producer.stack_name} is no longer in the app, but `cdk deploy` does "
                            "not delete it",
                            {"stack": producer.stack_name},
                        )
                    ],
                    export=ref.name,
                    output=was_exported.source,
                )
            )
        elif was_exported is not None:
            producer = context.base_stacks[was_exported.stack]
            findings.append(
                make_finding(
                    "import-missing-export",
                    severity=Severity.BLOCKER,
                    refs=[ref],
                    producer=producer,
                    consumer_stacks=context.head_stacks,
                    message=(
                        f"{consumer.stack_name} imports {ref.name}, which {producer.stack_name} "
                        "exports today but no longer exports in this change: the producer's "
                        f"deploy fails (\"Export {ref.name} cannot be deleted as it is in use by "
                        f"{consumer.stack_name}\") and a fresh deploy of {consumer.stack_name} "
                        f"fails (\"No export named {ref.name} found\")."
                    ),
                    causes=[
                        Cause(
                            "output-removed",
                            f"{producer.stack_name} no longer exports {ref.name}",
                            {"stack": producer.stack_name, "export": ref.name},
                        )
                    ],
                    export=ref.name,
                    output=was_exported.source,
                )
            )
        elif (ref.environment, ref.name, consumer.stack_name) not in existing:
            # Only new external imports: an unchanged one is not this change's risk.
            findings.append(
                make_finding(
                    "import-missing-export",
                    severity=Severity.WARNING,
                    refs=[ref],
                    producer=None,
                    consumer_stacks=context.head_stacks,
                    message=(
                        f"{consumer.stack_name} now imports {ref.name}, which no stack of this "
                        "app exports. If nothing outside the app exports it in "
                        f"{ref.environment}, the deploy fails with \"No export named "
                        f"{ref.name} found\" (not verifiable offline; see --live)."
                    ),
                    causes=[
                        Cause(
                            "external-import",
                            f"{ref.name} is not exported by any stack in the assembly",
                            {"export": ref.name},
                        )
                    ],
                    export=ref.name,
                    output=None,
                )
            )
    return findings
