"""An export removed while consumers still import it, and the pipeline deploys the
producer first: a temporary ``add_dependency`` for one release puts the consumers first. Pure.

CDK Pipelines orders a stage's actions by stack dependencies, so the consumers' Deploy
(dropping the import) runs before the producer's (deleting the export).
"""

from __future__ import annotations

from bot.core.model import Finding, Plan, Step
from bot.plans import versions, wording
from bot.plans.pipelines.edits import added_code, code_at, depend
from bot.plans.pipelines.strategies.base import Candidate, Planning, Release
from bot.plans.simulate import AppVersion, upstream


def candidates(planning: Planning, finding: Finding, head: AppVersion, producer: str,
               consumers: list[str]) -> list[Candidate]:
    if any(producer in upstream(head, [c]) for c in consumers):
        return []  # head already puts the producer first: a dependency the other way would be a cycle
    first = depend(head, producer, consumers, label="release 1")
    changes = tuple(planning.dependency(producer, c) for c in consumers)
    call = added_code(changes) or planning.call(producer, "add_dependency", consumers)
    names = wording.names(planning.name(c) for c in consumers)
    plan = Plan(
        "pipeline-temporary-dependency",
        f"The pipeline must deploy {names} before {planning.name(producer)}, which deletes {finding.export}. "
        f"{planning.race_text(head, producer, consumers)}"
        "Add a temporary dependency for one release, then remove it.",
        (
            Step(title=f"Release 1: add `{call}` (temporary), merge with this change",
                 kind="code-change",
                 detail=f"Where the stage creates these stacks. CDK Pipelines "
                 f"then runs {planning.name(producer)}'s Prepare/Deploy after "
                 f"{names}'s: {planning.order_text(first, producer)}.",
                 code=code_at(changes, planning.language, call), changes=changes, applies_to="head"),
            Step(title="Release 2: remove that line once release 1 has run through every stage",
                 kind="code-change",
                 detail="Nothing imports the export any more; the pipeline's order no longer matters.",
                 applies_to="head"),
        ),
    )
    return [Candidate(plan, (Release(first, "release 1"), Release(head, "release 2")),
                      versions.restrict(head, [producer, *consumers]))]
