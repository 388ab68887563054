"""Without weak references: the consumers let go of the value first, on the base branch. Pure.

DOMAIN.md section 5: deploy the consumers without the reference (``--exclusively``), then
the producer with this pull request, then the consumers with the reference restored.
"""

from __future__ import annotations

from bot.core.model import Change, Finding, Plan, Step
from bot.plans import reference_changes, versions
from bot.plans.simulate import AppVersion
from bot.plans.strategies.base import Candidate, Planning
from bot.plans.wording import names, usages


def detach_and_restore(planning: Planning, finding: Finding, head: AppVersion, producer: str,
                       consumers: list[str]) -> list[Candidate]:
    """For a value change: the alternative without weak references or SSM."""
    return [_candidate(planning, finding, head, producer, consumers, "detach-and-restore")]


def let_go_first(planning: Planning, finding: Finding, head: AppVersion, producer: str,
                 consumers: list[str]) -> list[Candidate]:
    """For a removed export nothing in head produces any more: it cannot be kept one more release."""
    assert finding.export is not None
    if not planning.values.old_value_gone(finding.export):
        return []
    return [_candidate(planning, finding, head, producer, consumers, "detach-then-deploy")]


def _candidate(planning: Planning, finding: Finding, head: AppVersion, producer: str, consumers: list[str],
               strategy: str) -> Candidate:
    export = finding.export
    assert export is not None
    both_ids = [producer, *consumers]
    d1 = versions.detach(planning.base, export, consumers, label="detached")
    dropped = _drop_reference(planning, finding)
    detach_changes = tuple(dropped) if dropped else (
        Change("description", description=f"in {names(consumers)}: stop using {export} (drop the resources "
               f"or properties that read it: {usages(finding)})"),)
    steps3 = [
        (d1, planning.command(d1, consumers, exclusively=True)),
        (head, planning.command(head, [producer], exclusively=True)),
        (head, planning.command(head, both_ids)),
    ]
    return Candidate(
        Plan(
            strategy,
            "Without weak references: stop using the value in the consumers and deploy "
            "them first, then ship the producer's change, then deploy the consumers with "
            "this pull request (the reference restored).",
            (
                Step(title=f"Release 1: remove the reference from {names(consumers)} on the base "
                     f"branch; deploy {'it' if len(consumers) == 1 else 'them'} alone", kind="code-change",
                     commands=(steps3[0][1],), changes=detach_changes, applies_to="base"),
                Step(title=f"Release 2: this pull request; deploy {producer} alone", kind="deploy",
                     commands=(steps3[1][1],), applies_to="head"),
                Step(title="Then deploy the consumers with the reference restored", kind="deploy",
                     commands=(steps3[2][1],), applies_to="head"),
            ),
        ),
        tuple(steps3),
        versions.restrict(head, both_ids),
    )


def _drop_reference(planning: Planning, finding: Finding) -> list[Change] | None:
    """Patches removing the consumers' usages of the export from the base tree."""
    value = planning.values.producer_value(finding.export or "", planning.base_sources)
    member = value.member if value is not None else None
    return reference_changes.drop_reference_changes(finding.usages, planning.base_sources, member)
