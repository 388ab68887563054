"""One plan for blockers of one producer whose fixes ship in the same release. Pure.

Each finding's own plan is checked with only its export moving; applied alone on the real
pull request, the other exports still move and it is refused. The combined plans are
checked on the unfocused head: the pull request as it is.

Removals only: the consumers deploy first, alone, then the producers; or every export is
kept one more release.

Mixed groups, where some exports change value and others disappear: the removal's fix
(consumers first) is refused by the value change, and the SSM split of the value change
still deletes the removed export while the consumers import it. What works for both
(DOMAIN.md section 5):

- the weak-reference split for the whole group (automatic exports only: the flag changes
  only references CDK makes): change 1 on the base branch with
  ``@aws-cdk/core:defaultCrossStackReferences`` = ``both`` (every consumer stops importing,
  every export stays), change 2 this pull request with ``weak`` (the exports go, none is
  imported any more; ``--force`` so the consumers read the new value);
- one hand-named value change (the flag cannot help it): change 1 passes the value through
  an SSM parameter (patches); change 2, this pull request with the same switch, deploys the
  consumers first (they let go of the removed exports), the producer, the consumers again;
- otherwise: the consumers let go of every export of the group first (an edit by hand),
  then the producer, then the consumers with this pull request.
"""

from __future__ import annotations

from bot.core.model import Change, Finding, Plan, Step
from bot.plans import versions
from bot.plans.simulate import AppVersion, upstream
from bot.plans.strategies.base import Candidate, Planning
from bot.plans.strategies.keep_export import keep_candidates
from bot.plans.strategies.split import SPLIT_STEP
from bot.plans.strategies.ssm_parameter import parameter_name, ssm_patches
from bot.plans.strategies.weak_reference import FLAG, supported, upgrade_step
from bot.plans.wording import automatic, names

VALUE_RULES = ("export-value-change-in-use", "export-value-may-change-in-use")
REMOVED_RULES = ("export-removed-in-use", "import-missing-export")


def plan_together(planning: Planning, group: list[Finding]) -> Plan | None:
    """The checked plan covering every finding of the group, or None."""
    if is_mixed(group):
        return _plan_mixed(planning, group)
    if len(group) >= 2 and all(f.rule in VALUE_RULES and f.export for f in group):
        return _plan_values(planning, group)
    removed = [f for f in group if f.rule in REMOVED_RULES and f.producer_key is not None and f.export]
    if len(removed) != len(group) or len(group) < 2:
        return None
    pairs = [(planning.selector(f.producer_key), f.export) for f in removed if f.producer_key and f.export]
    consumers = sorted({planning.selector(k) for f in removed for k in f.consumer_keys})
    producers = list(dict.fromkeys(p for p, _ in pairs))
    head = planning.scoped_head([*producers, *consumers])
    if any(c not in head.stacks for c in consumers):
        return None
    first = planning.command(head, consumers, exclusively=True)
    then = planning.command(head, producers, exclusively=True)
    ids = tuple(f.id for f in group)
    together = Candidate(
        Plan("deploy-consumers-first",
             f"Deploy {names(consumers)} first, alone, so nothing imports the {len(pairs)} removed exports; "
             f"then deploy {names(producers)}.",
             (Step(title=f"Deploy {names(consumers)} alone", kind="deploy", commands=(first,), applies_to="head"),
              Step(title=f"Then deploy {names(producers)}", kind="deploy", commands=(then,), applies_to="head")),
             deploy_command=f"{first} && {then}", covers=ids),
        ((head, first), (head, then)),
        versions.restrict(head, [*producers, *consumers]),
    )
    keep = keep_candidates(planning, group[0], head, pairs, consumers, covers=tuple(group))
    plan = planning.choose([together, *keep])
    return plan if plan.checked else None


def is_mixed(group: list[Finding]) -> bool:
    """Blockers of one producer with both a value change and a removal among them."""
    rules = {f.rule for f in group}
    return bool(rules & set(VALUE_RULES)) and bool(rules & set(REMOVED_RULES)) \
        and all(f.rule in VALUE_RULES + REMOVED_RULES and f.export for f in group)


def _one_producer(planning: Planning, group: list[Finding]) -> tuple[str, list[str], AppVersion] | None:
    """The group's one producer, its consumers and the head scoped to them; None when the
    group has several producers or a consumer is gone from head."""
    producers = {planning.selector(f.producer_key) for f in group if f.producer_key}
    if len(producers) != 1:
        return None
    (producer,) = producers
    consumers = sorted({planning.selector(k) for f in group for k in f.consumer_keys})
    head = planning.scoped_head([producer, *consumers])
    return None if any(c not in head.stacks for c in consumers) else (producer, consumers, head)


def _plan_mixed(planning: Planning, group: list[Finding]) -> Plan | None:
    scope = _one_producer(planning, group)
    if scope is None:
        return None
    producer, consumers, head = scope
    plan = planning.choose(_mixed_candidates(planning, group, head, producer, consumers))
    return plan if plan.checked else None


def _mixed_candidates(planning: Planning, group: list[Finding], head: AppVersion, producer: str,
                      consumers: list[str]) -> list[Candidate]:
    """The combined candidates, best first; each covers every finding of the group."""
    exports = [f.export for f in group if f.export]
    ids = tuple(f.id for f in group)
    out = []
    if all(automatic(e) for e in exports) and supported(planning.library) is not False:
        out.append(_weak(planning, group, head, producer, consumers, exports, ids))
    ssm = _ssm(planning, group, head, producer, consumers, ids)
    if ssm is not None:
        out.append(ssm)
    out.append(_detach(planning, head, producer, consumers, exports, ids))
    return out


def _plan_values(planning: Planning, group: list[Finding]) -> Plan | None:
    """Value changes of automatic exports and of one hand-named export of one producer (a
    renamed table: its automatic Ref and Arn exports and a CfnOutput of its name). The weak
    split is refused (the hand-named value still changes while imported) and so is the SSM
    split of the hand-named one (the automatic ones still change): only both together work."""
    named = [f.export for f in group if f.export and not automatic(f.export)]
    scope = _one_producer(planning, group)
    if scope is None or len(named) != 1 or len(named) == len(group) or supported(planning.library) is False:
        return None
    producer, consumers, head = scope
    candidate = _weak_and_ssm(planning, head, producer, consumers, named[0], tuple(f.id for f in group))
    if candidate is None:
        return None
    plan = planning.choose([candidate])
    return plan if plan.checked else None


def _weak_and_ssm(planning: Planning, head: AppVersion, producer: str, consumers: list[str], named: str,
                  ids: tuple[str, ...]) -> Candidate | None:
    """Change 1: the flag ``both`` (the automatic references become weak, their exports stay)
    and the hand-named value through an SSM parameter (its CfnOutput stays, the reads move);
    change 2: this pull request with ``weak`` and the same switch, the consumers forced to
    read the new values (DOMAIN.md section 5, both fixes in one split)."""
    switch = _named_switch(planning, head, producer, consumers, named)
    if switch is None:
        return None
    parameter, change1, change2 = switch
    both_ids = [producer, *consumers]
    v1 = planning.base
    for export in [e for e in v1.stacks[producer].exports if automatic(e)]:
        importers = [c for c in consumers if export in v1.stacks[c].imports]
        if importers:
            v1 = versions.weak_switch(v1, export, producer, importers, keep_export=True, label="both")
    v1 = versions.ssm_switch(v1, named, producer, consumers, parameter=parameter, keep_export=True, label="ssm")
    v2 = versions.weak_all(head, producer, consumers, label="weak")
    v2 = versions.ssm_switch(v2, named, producer, consumers, parameter=parameter, keep_export=True,
                             label="ssm-head")
    first = planning.command(v1, both_ids)
    second = planning.command(v2, both_ids, force=True)
    one = len(consumers) == 1
    summary = (f"This pull request changes the values of automatic exports and of the hand-named export {named} "
               f"of {producer} while {names(consumers)} import{'s' if one else ''} them. The reference flag "
               "moves only the automatic references and an SSM parameter only the hand-named one: each alone "
               "is refused by the other's value change. Do both in change 1, then ship this pull request.")
    steps = (
        SPLIT_STEP,
        *upgrade_step(planning.library),
        Step(title=f"Change 1 (without this PR's change): set `{FLAG}` to `both` and pass {named} through an "
             "SSM parameter", kind="code-change",
             detail=f"{names(consumers)} read{'s' if one else ''} the automatic exports with Fn::GetStackOutput "
             f"and {named} from the parameter {parameter} (a suggested name); {producer} keeps every export. "
             "The flag applies to "
             "every automatic reference of the app.",
             commands=(first,), changes=(Change("context", key=FLAG, value="both"), *change1), applies_to="base"),
        Step(title=f"Change 2: this PR's change, with `{FLAG}` set to `weak` and the same switch; deploy the "
             "producer, then the consumers", kind="code-change",
             detail=f"Nothing imports the changed exports any more, so {producer} may change them. `--force`: "
             "the consumers' templates do not change, and forced they deploy after it and read its new values.",
             commands=(second,), changes=(Change("context", key=FLAG, value="weak"), *change2),
             applies_to="head"),
    )
    return Candidate(Plan("split-weak-reference", summary, steps, covers=ids),
                     ((v1, first), (v2, second)), versions.restrict(v2, both_ids))


def _named_switch(planning: Planning, head: AppVersion, producer: str, consumers: list[str],
                  export: str) -> tuple[str, list[Change], list[Change]] | None:
    """The SSM switch of a hand-named export as patches on the base and head trees: the
    parameter and both changes, or None when either cannot be a patch or the app does not
    declare the consumers' dependency (an SSM read makes none, and the patches add none)."""
    if not all(head.stacks[producer].id in upstream(head, [c]) for c in consumers):
        return None
    parameter = parameter_name(export)
    change1 = ssm_patches(planning.values, export, parameter, planning.base_sources, planning.base_readers)
    change2 = ssm_patches(planning.values, export, parameter, planning.sources, planning.readers)
    return (parameter, change1, change2) if change1 and change2 else None


def _ssm(planning: Planning, group: list[Finding], head: AppVersion, producer: str, consumers: list[str],
         ids: tuple[str, ...]) -> Candidate | None:
    """One hand-named value change (the flag cannot help it) with removals: change 1 passes the
    value through an SSM parameter (patches); change 2, this pull request with the same switch,
    deploys the consumers first (they let go of the removed exports; the parameter still holds
    the old value), then the producer, then the consumers again, forced, to read the new value."""
    changed = [f.export for f in group if f.rule in VALUE_RULES and f.export]
    if len(changed) != 1 or automatic(changed[0]):
        return None
    export = changed[0]
    switch = _named_switch(planning, head, producer, consumers, export)
    if switch is None:
        return None
    parameter, change1, change2 = switch
    both_ids = [producer, *consumers]
    s1 = versions.ssm_switch(planning.base, export, producer, consumers, parameter=parameter, keep_export=True,
                             label="ssm")
    s2 = versions.ssm_switch(head, export, producer, consumers, parameter=parameter, keep_export=True,
                             label="ssm-head")
    first = planning.command(s1, both_ids)
    lines = [planning.command(s2, consumers, exclusively=True),
             planning.command(s2, [producer], exclusively=True),
             planning.command(s2, consumers, exclusively=True, force=True)]
    removed = [f.export for f in group if f.rule in REMOVED_RULES and f.export]
    one = len(consumers) == 1
    steps = (
        SPLIT_STEP,
        Step(title="Change 1 (without this PR's change): pass the value through an SSM parameter",
             kind="code-change", detail=f"The parameter name {parameter} is a suggestion.",
             commands=(first,), changes=tuple(change1), applies_to="base"),
        Step(title=f"Change 2: this PR's change with the same switch; deploy {names(consumers)}, then {producer}, "
             f"then {names(consumers)} again", kind="code-change",
             detail=f"{names(consumers)} first: {'it lets' if one else 'they let'} go of {names(removed)}, "
             f"so {producer} may delete {'it' if len(removed) == 1 else 'them'}; then {producer} changes the "
             "value; then the consumers again, forced, to read it (the parameter is re-read on every deploy).",
             commands=tuple(lines), changes=tuple(change2), applies_to="head"),
    )
    summary = (f"{export} is a hand-named export, so the reference flag cannot move its consumers, and this pull "
               f"request also removes {names(removed)} from {producer}. Pass the value through an SSM parameter "
               "first; then ship this pull request consumers first, producer, consumers again.")
    return Candidate(Plan("split-ssm-parameter", summary, steps, covers=ids),
                     ((s1, first), *((s2, line) for line in lines)), versions.restrict(s2, both_ids))


def _weak(planning: Planning, group: list[Finding], head: AppVersion, producer: str, consumers: list[str],
          exports: list[str], ids: tuple[str, ...]) -> Candidate:
    both_ids = [producer, *consumers]
    v1 = planning.base
    for export in exports:
        importers = [c for c in consumers if export in v1.stacks[c].imports]
        if export in v1.stacks[producer].exports and importers:
            v1 = versions.weak_switch(v1, export, producer, importers, keep_export=True, label="both")
    v2 = versions.weak_all(head, producer, consumers, label="weak")
    first = planning.command(v1, both_ids)
    second = planning.command(v2, both_ids, force=True)
    changed = [f.export for f in group if f.rule in VALUE_RULES and f.export]
    removed = [f.export for f in group if f.rule in REMOVED_RULES and f.export]
    one = len(consumers) == 1
    summary = (
        f"This pull request changes {names(changed)} and removes {names(removed)} from {producer} in one "
        f"release while {names(consumers)} import{'s' if one else ''} them. No order of deploys ships it: "
        "the consumers first (the fix for a removal) is refused by the value change, and the producer first "
        "is refused outright. Move the consumers to weak references first (the flag covers every automatic "
        "export of the group), then ship this pull request."
    )
    steps = (
        SPLIT_STEP,
        *upgrade_step(planning.library),
        Step(title=f"Change 1 (without this PR's change): set `{FLAG}` to `both` in cdk.json, merge and deploy",
             kind="code-change",
             detail=f"{names(consumers)} switch{'es' if one else ''} to Fn::GetStackOutput and "
             f"stop{'s' if one else ''} importing all {len(exports)} exports; {producer} keeps them. The flag "
             "applies to every automatic reference of the app.",
             commands=(first,), changes=(Change("context", key=FLAG, value="both"),), applies_to="base"),
        Step(title=f"Change 2: this PR's change, with `{FLAG}` set to `weak`; deploy the producer, then the "
             "consumers", kind="deploy",
             detail=f"Nothing imports the exports any more, so {producer} may change and drop them. `--force`: "
             "the consumers' templates do not change, and forced they deploy after it and read its new values.",
             commands=(second,), changes=(Change("context", key=FLAG, value="weak"),), applies_to="head"),
    )
    return Candidate(Plan("split-weak-reference", summary, steps, covers=ids),
                     ((v1, first), (v2, second)), versions.restrict(v2, both_ids))


def _detach(planning: Planning, head: AppVersion, producer: str, consumers: list[str], exports: list[str],
            ids: tuple[str, ...]) -> Candidate:
    both_ids = [producer, *consumers]
    d1 = planning.base
    for export in exports:
        d1 = versions.detach(d1, export, consumers, label="detached")
    steps3 = [
        (d1, planning.command(d1, consumers, exclusively=True)),
        (head, planning.command(head, [producer], exclusively=True)),
        (head, planning.command(head, both_ids)),
    ]
    export_names = names(exports)
    return Candidate(
        Plan("detach-and-restore",
             "Without weak references: stop using every export of this change in the consumers and deploy them "
             "first, then ship the producer's change, then deploy the consumers with this pull request.",
             (
                 Step(title=f"Release 1: remove the references from {names(consumers)} on the base branch; deploy "
                      f"{'it' if len(consumers) == 1 else 'them'} alone", kind="code-change",
                      commands=(steps3[0][1],),
                      changes=(Change("description", description=f"in {names(consumers)}: stop using "
                                      f"{export_names}"),),
                      applies_to="base"),
                 Step(title=f"Release 2: this pull request; deploy {producer} alone", kind="deploy",
                      commands=(steps3[1][1],), applies_to="head"),
                 Step(title="Then deploy the consumers with the references this pull request keeps", kind="deploy",
                      commands=(steps3[2][1],), applies_to="head"),
             ), covers=ids),
        tuple(steps3),
        versions.restrict(head, both_ids),
    )
