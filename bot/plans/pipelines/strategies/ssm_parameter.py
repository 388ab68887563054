"""A value change in use, in a pipeline: pass the value through an SSM parameter in change 1,
then ship it in change 2. Pure.

Every change set re-reads SSM-typed parameters, and ``add_dependency`` puts each consumer's
Prepare after the producer's Deploy, so no tag is needed.
"""

from __future__ import annotations

from bot.core.model import Change, Finding, Plan, Step
from bot.plans import snippets, versions, wording
from bot.plans.pipelines.edits import added_code, placeholder_note
from bot.plans.pipelines.strategies.base import Candidate, Planning, Release
from bot.plans.pipelines.strategies.split import refusal
from bot.plans.simulate import AppVersion


def split(planning: Planning, finding: Finding, head: AppVersion, producer: str,
          consumers: list[str]) -> list[Candidate]:
    export = finding.export
    assert export is not None
    parameter = f"/cdk-export-guard/{wording.slug(export)}"
    s1 = versions.ssm_switch(planning.base, export, producer, consumers, parameter=parameter,
                             keep_export=True, label="change 1")
    s2 = versions.ssm_switch(head, export, producer, consumers, parameter=parameter,
                             keep_export=False, label="change 2")
    language = planning.language
    value = planning.value(finding) or "<the exported attribute>"
    write = snippets.ssm_write(snippets.this(language), "CdkExportGuardParameter", parameter, value, language)
    read = snippets.ssm_read(snippets.this(language), parameter, language)
    dependency = added_code([planning.dependency(consumers[0], producer)]) \
        or planning.call(consumers[0], "add_dependency", [producer])
    plan = Plan("pipeline-split-ssm-parameter", refusal(planning, finding, consumers), (
        Step(title="Split this pull request: land change 1 alone first", kind="split"),
        Step(title="Change 1 (without this PR's change): pass the value through an SSM parameter",
             kind="code-change",
             detail=f"In {producer}: `{write}`; in each consumer: `{read}` and `{dependency}`"
             f"{placeholder_note(write, read, dependency)}.",
             changes=(Change("description", description="the SSM parameter: written by the producer, "
                             "read by each consumer, with add_dependency"),), applies_to="base"),
        Step(title="Change 2: this PR's change", kind="code-change", applies_to="previous",
             detail="Every change set re-reads SSM-typed parameters, and the dependency puts the "
             f"consumers' Prepare after {planning.name(producer)}'s Deploy: "
             f"{planning.order_text(s2, consumers[0])}."),
    ))
    return [Candidate(plan, (Release(s1, "change 1"), Release(s2, "change 2")),
                      versions.restrict(s2, [producer, *consumers]))]
