"""Move the consumers to weak references (``Fn::GetStackOutput``) in a change of their own. Pure.

DOMAIN.md section 5: change 1, without this pull request's change, sets the flag to ``both``
(the consumers stop importing, the export stays); change 2 is this pull request with ``weak``,
deployed producer then consumers, forced so they read the new value. The flag changes only
references CDK makes itself (automatic exports), and needs aws-cdk-lib >= 2.254.
"""

from __future__ import annotations

from bot.core.model import Change, CodeLocation, Finding, Plan, Step
from bot.plans import versions
from bot.plans.simulate import AppVersion
from bot.plans.strategies.base import Candidate, Planning
from bot.plans.strategies.split import SPLIT_STEP, refusal
from bot.plans.wording import automatic, names, version_at_least

WEAK_REFERENCES_SINCE = (2, 254, 0)
FLAG = "@aws-cdk/core:defaultCrossStackReferences"


def supported(library: str | None) -> bool | None:
    """Whether the app's aws-cdk-lib has weak references; None when its version is unknown."""
    return version_at_least(library, WEAK_REFERENCES_SINCE)


def split(planning: Planning, finding: Finding, head: AppVersion, producer: str,
          consumers: list[str]) -> list[Candidate]:
    """The weak split of a value change, first where the library may support it."""
    return _split(planning, finding, head, producer, consumers) if supported(planning.library) is not False else []


def split_after_upgrade(planning: Planning, finding: Finding, head: AppVersion, producer: str,
                        consumers: list[str]) -> list[Candidate]:
    """Below 2.254 the flag is silently ignored: the weak split comes after the SSM one, with an upgrade."""
    return _split(planning, finding, head, producer, consumers) if supported(planning.library) is False else []


def _split(planning: Planning, finding: Finding, head: AppVersion, producer: str,
           consumers: list[str]) -> list[Candidate]:
    export = finding.export
    assert export is not None
    # The flag only changes references CDK makes itself: a hand-named export
    # (CfnOutput(export_name=...) + Fn.import_value) synthesizes identically with it.
    if not automatic(export):
        return []
    both_ids = [producer, *consumers]
    v1 = versions.weak_switch(planning.base, export, producer, consumers, keep_export=True, label="both")
    v2 = versions.weak_switch(head, export, producer, consumers, keep_export=False, label="weak")
    first = planning.command(v1, both_ids)
    second = planning.command(v2, both_ids, force=True)
    steps = (
        SPLIT_STEP,
        *upgrade_step(planning.library),
        Step(
            title=f"Change 1 (without this PR's change): set `{FLAG}` to `both` in cdk.json, "
            "merge and deploy",
            kind="code-change",
            detail=(
                f'In cdk.json, under "context": `"{FLAG}": "both"`. {producer} keeps the '
                f"export and also publishes a plain output; {names(consumers)} "
                f"{'switches' if len(consumers) == 1 else 'switch'} to Fn::GetStackOutput and "
                f"{'stops' if len(consumers) == 1 else 'stop'} importing the export. The flag "
                "applies to every automatic reference of the app."
            ),
            commands=(first,),
            code=CodeLocation("json", "cdk.json", None, f'"{FLAG}": "both"'),
            changes=(Change("context", key=FLAG, value="both"),),
            applies_to="base",
        ),
        Step(
            title=f"Change 2: this PR's change, with `{FLAG}` set to `weak`; deploy the "
            "producer, then the consumers",
            kind="deploy",
            detail=(
                "`--force`: the consumers' templates do not change, and the CLI skips a "
                "stack whose template is unchanged; forced, they deploy after "
                f"{producer} and read its new value."
            ),
            commands=(second,),
            code=planning.code_step(finding),
            changes=(Change("context", key=FLAG, value="weak"),),
            applies_to="head",
        ),
    )
    return [Candidate(Plan("split-weak-reference", refusal(planning, finding, head, producer, consumers), steps),
                      ((v1, first), (v2, second)), versions.restrict(v2, both_ids))]


def let_go_first(planning: Planning, finding: Finding, head: AppVersion, producer: str,
                 consumers: list[str]) -> list[Candidate]:
    """A removed export nothing in head produces any more (a replaced `current_version`): it cannot
    be kept, and the consumers cannot go first (they import the new export). Change 1 `both` on
    base: the consumers stop importing; change 2 this PR with `weak`."""
    export = finding.export
    assert export is not None
    if not planning.values.old_value_gone(export) or not automatic(export) \
            or supported(planning.library) is False:
        return []
    both_ids = [producer, *consumers]
    v1 = versions.weak_switch(planning.base, export, producer, consumers, keep_export=True, label="both")
    v2 = versions.weak_all(head, producer, consumers, label="weak")
    first = planning.command(v1, both_ids)
    second = planning.command(v2, both_ids, force=True)
    steps = (
        SPLIT_STEP,
        *upgrade_step(planning.library),
        Step(title=f"Change 1 (without this PR's change): set `{FLAG}` to `both` in cdk.json, merge and deploy",
             kind="code-change",
             detail=f"{names(consumers)} switch to Fn::GetStackOutput and stop importing {export}; "
             f"{producer} keeps the export.",
             commands=(first,), changes=(Change("context", key=FLAG, value="both"),), applies_to="base"),
        Step(title=f"Change 2: this PR's change, with `{FLAG}` set to `weak`; deploy the producer, then the "
             "consumers", kind="deploy",
             detail=f"Nothing imports the old export any more, so {producer} may drop it.",
             commands=(second,), changes=(Change("context", key=FLAG, value="weak"),), applies_to="head"),
    )
    return [Candidate(
        Plan("split-weak-reference",
             f"Nothing in this pull request still produces the value {export} carries (its resource got a "
             "new logical id), so it cannot be kept one more release, and the consumers cannot go first "
             "(they import the new export). Move them to weak references first.", steps),
        ((v1, first), (v2, second)),
        versions.restrict(v2, both_ids),
    )]


def upgrade_step(library: str | None) -> tuple[Step, ...]:
    """The release raising aws-cdk-lib to 2.254, unless the app is known to have it."""
    if supported(library):
        return ()
    known = f"this app synthesizes with aws-cdk-lib {library}" if library else \
        "the aws-cdk-lib version could not be read from the assembly or the app's lock files"
    return (Step(
        title="Upgrade aws-cdk-lib to 2.254.0 or later first (its own release)",
        kind="code-change",
        detail=(f"Weak references need aws-cdk-lib >= 2.254; {known}. On older versions the flag is "
                "ignored without a warning and the templates stay identical."),
        changes=(Change("description", description="raise aws-cdk-lib to >= 2.254.0 in the app's "
                        "dependency file (requirements.txt / package.json) and its lock file"),),
        applies_to="base",
    ),)
