"""A removed export: deploy the consumers alone first, so nothing imports it, then the producer. Pure.

DOMAIN.md section 2 (b): ``cdk deploy C --exclusively``, then ``cdk deploy P``.
"""

from __future__ import annotations

from bot.core.model import Finding, Plan, Step
from bot.plans import versions
from bot.plans.simulate import AppVersion
from bot.plans.strategies.base import Candidate, Planning
from bot.plans.wording import names


def candidates(planning: Planning, finding: Finding, head: AppVersion, producer: str,
               consumers: list[str]) -> list[Candidate]:
    export = finding.export
    assert export is not None
    first = planning.command(head, consumers, exclusively=True)
    then = planning.command(head, [producer], exclusively=True)
    one = len(consumers) == 1
    return [Candidate(
        Plan(
            "deploy-consumers-first",
            f"Deploy {names(consumers)} first, on {'its' if one else 'their'} "
            f"own, so {'it stops' if one else 'they stop'} importing {export}; "
            f"then deploy {producer}.",
            (
                Step(title=f"Deploy {names(consumers)} alone", kind="deploy", commands=(first,),
                     applies_to="head"),
                Step(title=f"Then deploy {producer}", kind="deploy", commands=(then,), applies_to="head"),
            ),
            deploy_command=f"{first} && {then}",
        ),
        ((head, first), (head, then)),
        versions.restrict(head, [producer, *consumers]),
    )]
