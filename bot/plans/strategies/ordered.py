"""Deploy in the right order: a new reference, or a weak reference / SSM link whose value changes. Pure.

DOMAIN.md section 2: ordering solves what changes no export in use; the producer deploys
first, then the consumers (forced for a weak reference, whose template does not change).
When the app declares no dependency, one command may deploy them in any order: then two
commands, or an ``add_dependency`` that makes one command right.
"""

from __future__ import annotations

from bot.core.model import Change, Finding, Plan, ReferenceKind, Step
from bot.plans import patches, snippets, versions
from bot.plans.simulate import AppVersion, upstream
from bot.plans.strategies.base import Candidate, Planning
from bot.plans.wording import names


def candidates(planning: Planning, finding: Finding, head: AppVersion, producer: str,
               consumers: list[str]) -> list[Candidate]:
    weak = finding.reference_kind is ReferenceKind.WEAK
    together = planning.command(head, [producer, *consumers], force=weak)
    why = (
        " `--force`: the consumers' templates do not change and the CLI skips an unchanged "
        "template unless forced."
        if weak
        else ""
    )
    one = Candidate(
        Plan(
            "ordered-deploy",
            f"Deploy {producer} and then {names(consumers)} in one command.{why}",
            (Step(title="Deploy the producer, then the consumers", kind="deploy", commands=(together,),
                  applies_to="head"),),
            deploy_command=together,
        ),
        ((head, together),),
        versions.restrict(head, [producer, *consumers]),
    )
    first = planning.command(head, [producer], exclusively=True)
    then = planning.command(head, consumers, exclusively=True, force=weak)
    declared = all(head.stacks[producer].id in upstream(head, [c]) for c in consumers)
    reason = (
        "" if declared else
        f"{names(consumers)} do{'es' if len(consumers) == 1 else ''} not depend on {producer} in "
        "the CDK app (no `add_dependency`), so one command may deploy them in any order. "
    )
    two = Candidate(
        Plan(
            "sequential-deploy",
            f"{reason}Deploy {producer} first, then {names(consumers)}, as two commands.{why}",
            (
                Step(title=f"Deploy {producer}", kind="deploy", commands=(first,), applies_to="head"),
                Step(title=f"Then deploy {names(consumers)}", kind="deploy", commands=(then,),
                     applies_to="head"),
            ),
            deploy_command=f"{first} && {then}",
        ),
        ((head, first), (head, then)),
        versions.restrict(head, [producer, *consumers]),
    )
    out = [one, two]
    if not declared:
        out.insert(1, _dependency_candidate(planning, finding, head, producer, consumers, why))
    return out


def _dependency_candidate(planning: Planning, finding: Finding, head: AppVersion, producer: str,
                          consumers: list[str], why: str) -> Candidate:
    """Declare the order in the app (`add_dependency`), then one command deploys it right."""
    weak = finding.reference_kind is ReferenceKind.WEAK
    ordered = versions.add_dependencies(head, producer, consumers, label="ordered")
    line = planning.command(ordered, [producer, *consumers], force=weak)
    changes = tuple(_dependency_change(planning, c, producer) for c in consumers)
    return Candidate(
        Plan(
            "add-dependency",
            f"Declare that {names(consumers)} depend{'s' if len(consumers) == 1 else ''} on {producer} "
            f"(`add_dependency`), so one `cdk deploy` runs them in order.{why}",
            (Step(title=f"Add the dependency on {producer}, then deploy", kind="code-change",
                  commands=(line,), changes=changes, applies_to="head",
                  detail="" if all(c.kind == "patch" for c in changes) else
                  "No patch could be produced: edit by hand as described."),),
            deploy_command=line,
        ),
        ((ordered, line),),
        versions.restrict(ordered, [producer, *consumers]),
    )


def _dependency_change(planning: Planning, consumer: str, producer: str) -> Change:
    """A patch adding ``consumer.add_dependency(producer)`` where the stacks are created."""
    c_site, p_site = planning.sources.get(consumer), planning.sources.get(producer)
    if c_site is not None and p_site is not None:
        change = patches.add_dependency_patch(c_site, p_site, consumer.rsplit("/", 1)[-1],
                                              producer.rsplit("/", 1)[-1])
        if change is not None:
            return change
    code = snippets.add_dependency(f"<{consumer}>", f"<{producer}>", planning.language)
    return Change("description", description=f"where the stacks are created: `{code}`")
