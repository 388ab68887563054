"""Consumers removed from the app stay deployed (and keep importing) until deleted. Pure.

`cdk deploy` never deletes a stack: delete the removed consumers first, then deploy the producer.
"""

from __future__ import annotations

import shlex

from bot.core.model import Finding, Plan, Step
from bot.plans import versions
from bot.plans.command_lines import DELETE_STACK
from bot.plans.simulate import AppVersion
from bot.plans.strategies.base import Candidate, Planning
from bot.plans.wording import names


def gone(head: AppVersion, consumers: list[str]) -> list[str]:
    """The consumers head no longer has."""
    return [c for c in consumers if c not in head.stacks]


def candidates(planning: Planning, finding: Finding, head: AppVersion, producer: str,
               consumers: list[str]) -> list[Candidate]:
    removed = gone(head, consumers)
    stack_names = [planning.base.stacks[c].name if c in planning.base.stacks else c for c in removed]
    deletes = [(head, f"{DELETE_STACK}{shlex.quote(n)}") for n in stack_names]
    staying = [c for c in consumers if c not in removed]
    line = planning.command(head, [producer, *staying])
    return [
        Candidate(
            Plan(
                "delete-removed-consumers",
                f"{names(stack_names)} {'is' if len(stack_names) == 1 else 'are'} no longer in the app, but "
                "`cdk deploy` never deletes a stack: the deployed one keeps importing. Delete it "
                f"first (after checking nothing else needs it), then deploy {producer}.",
                (
                    Step(title="Delete the stacks the app no longer has", kind="deploy",
                         commands=tuple(cmd for _, cmd in deletes)),
                    Step(title=f"Deploy {producer}", kind="deploy", commands=(line,)),
                ),
            ),
            (*deletes, (head, line)),
            versions.restrict(head, [producer, *staying]),
        )
    ]
