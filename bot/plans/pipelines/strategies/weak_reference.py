"""A value change in use, in a pipeline: switch the consumers to weak references
(``Fn::GetStackOutput``) in change 1, then ship the value in change 2. Pure.

The pipeline has no ``--force``, and a consumer whose template does not change keeps the
old value, so change 2 also tags each consumer for one release (change 3 removes the tag).
"""

from __future__ import annotations

from dataclasses import replace

from bot.core.model import Change, CodeLocation, Finding, Plan, Step
from bot.plans import versions, wording
from bot.plans.pipelines.edits import added_code, code_at, touch
from bot.plans.pipelines.strategies.base import Candidate, Planning, Release
from bot.plans.pipelines.strategies.split import refusal
from bot.plans.simulate import AppVersion
from bot.plans.strategies.weak_reference import FLAG, WEAK_REFERENCES_SINCE


def split(planning: Planning, finding: Finding, head: AppVersion, producer: str,
          consumers: list[str]) -> list[Candidate]:
    if wording.version_at_least(planning.library, WEAK_REFERENCES_SINCE) is False:
        return []
    export = finding.export
    assert export is not None
    names = wording.names(planning.name(c) for c in consumers)
    v1 = versions.weak_switch(planning.base, export, producer, consumers, keep_export=True, label="change 1")
    v2 = versions.weak_switch(head, export, producer, consumers, keep_export=False, label="change 2")
    v3 = replace(v2, label="change 3")
    v2 = touch(v2, consumers)
    tags = tuple(planning.tag(c, finding) for c in consumers)
    tag = added_code(tags) or planning.tag_call(consumers)
    plan = Plan("pipeline-split-weak-reference", refusal(planning, finding, consumers), (
        Step(title="Split this pull request: land change 1 alone first", kind="split"),
        Step(title=f"Change 1 (without this PR's change): set `{FLAG}` to `both` in cdk.json; "
             "let the pipeline deploy it", kind="code-change",
             detail=f"{planning.name(producer)} keeps the export and also publishes a plain output; "
             f"{names} switch{'es' if len(consumers) == 1 else ''} to Fn::GetStackOutput; "
             f"{planning.order_text(v1, consumers[0])}.",
             code=CodeLocation("json", "cdk.json", None, f'"{FLAG}": "both"'),
             changes=(Change("context", key=FLAG, value="both"),), applies_to="base"),
        Step(title=f"Change 2: this PR's change with `{FLAG}` set to `weak`, and `{tag}` (temporary)",
             kind="code-change",
             detail=f"The pipeline has no `--force`: {names}'s template would not change, and "
             "whether CloudFormation re-reads Fn::GetStackOutput for an unchanged template is not "
             f"documented. The tag changes it, so its change set re-reads {planning.name(producer)}'s "
             f"new value: {planning.order_text(v2, consumers[0])}.",
             code=code_at(tags, planning.language, tag),
             changes=(Change("context", key=FLAG, value="weak"), *tags), applies_to="head"),
        Step(title="Change 3: remove the tag", kind="code-change",
             detail="A later release; removing it is one more template change.",
             changes=(Change("context", key=FLAG, value="weak"),), applies_to="head"),
    ))
    return [Candidate(plan, (Release(v1, "change 1"), Release(v2, "change 2"), Release(v3, "change 3")),
                      versions.restrict(v3, [producer, *consumers]))]
