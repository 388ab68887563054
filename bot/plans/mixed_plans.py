"""One plan for a mixed group: blockers of one producer where some exports change value and
others disappear in the same pull request. Pure.

Each finding's own plan is checked with only its export moving. On the real pull request
the other export moves too: the removal's fix (consumers first) is refused by the value
change, and the SSM split of the value change still deletes the removed export while the
consumers import it. What works for both (DOMAIN.md section 5):

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

The planner (``bot.plans.planner``) checks them like any plan: the simulator on the model, then
``bot.plans.verify`` on synthesized states.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.model import Change, Finding, Plan, Step
from bot.plans import versions
from bot.plans.simulate import AppVersion, upstream

if TYPE_CHECKING:  # remedy imports this module when it plans a mixed group
    from bot.plans.planner import Candidate, _Planner

VALUE_RULES = ("export-value-change-in-use", "export-value-may-change-in-use")
REMOVED_RULES = ("export-removed-in-use", "import-missing-export")


def is_mixed(group: list[Finding]) -> bool:
    """Blockers of one producer with both a value change and a removal among them."""
    rules = {f.rule for f in group}
    return bool(rules & set(VALUE_RULES)) and bool(rules & set(REMOVED_RULES)) \
        and all(f.rule in VALUE_RULES + REMOVED_RULES and f.export for f in group)


def candidates(planner: _Planner, group: list[Finding], head: AppVersion, producer: str,
               consumers: list[str]) -> list[Candidate]:
    """The combined candidates, best first; each covers every finding of the group."""
    from bot.plans.planner import WEAK_REFERENCES_SINCE, _automatic, _version_at_least

    exports = [f.export for f in group if f.export]
    ids = tuple(f.id for f in group)
    out = []
    if all(_automatic(e) for e in exports) and _version_at_least(planner.library, WEAK_REFERENCES_SINCE) is not False:
        out.append(_weak(planner, group, head, producer, consumers, exports, ids))
    ssm = _ssm(planner, group, head, producer, consumers, ids)
    if ssm is not None:
        out.append(ssm)
    out.append(_detach(planner, head, producer, consumers, exports, ids))
    return out


def _ssm(planner: _Planner, group: list[Finding], head: AppVersion, producer: str, consumers: list[str],
         ids: tuple[str, ...]) -> Candidate | None:
    """One hand-named value change (the flag cannot help it) with removals: change 1 passes the
    value through an SSM parameter (patches); change 2, this pull request with the same switch,
    deploys the consumers first (they let go of the removed exports; the parameter still holds
    the old value), then the producer, then the consumers again, forced, to read the new value."""
    from bot.plans.planner import Candidate, _automatic, _names, _slug

    changed = [f.export for f in group if f.rule in VALUE_RULES and f.export]
    if len(changed) != 1 or _automatic(changed[0]):
        return None
    export = changed[0]
    # The SSM read makes no dependency: the app must declare it (the patches add none).
    if not all(head.stacks[producer].id in upstream(head, [c]) for c in consumers):
        return None
    parameter = f"/cdk-export-guard/{_slug(export)}"
    change1 = planner._ssm_patches(export, parameter, planner.base_sources, planner.base_readers)
    change2 = planner._ssm_patches(export, parameter, planner.sources, planner.readers)
    if not change1 or not change2:
        return None
    both_ids = [producer, *consumers]
    s1 = versions.ssm_switch(planner.base, export, producer, consumers, parameter=parameter, keep_export=True,
                             label="ssm")
    s2 = versions.ssm_switch(head, export, producer, consumers, parameter=parameter, keep_export=True,
                             label="ssm-head")
    first = planner._command(s1, both_ids)
    lines = [planner._command(s2, consumers, exclusively=True), planner._command(s2, [producer], exclusively=True),
             planner._command(s2, consumers, exclusively=True, force=True)]
    removed = [f.export for f in group if f.rule in REMOVED_RULES and f.export]
    one = len(consumers) == 1
    steps = (
        Step(title="Split this pull request: land change 1 alone first, then this change", kind="split"),
        Step(title="Change 1 (without this PR's change): pass the value through an SSM parameter",
             kind="code-change", detail=f"The parameter name {parameter} is a suggestion.",
             commands=(first,), changes=tuple(change1), applies_to="base"),
        Step(title=f"Change 2: this PR's change with the same switch; deploy {_names(consumers)}, then {producer}, "
             f"then {_names(consumers)} again", kind="code-change",
             detail=f"{_names(consumers)} first: {'it lets' if one else 'they let'} go of {_names(removed)}, "
             f"so {producer} may delete {'it' if len(removed) == 1 else 'them'}; then {producer} changes the "
             "value; then the consumers again, forced, to read it (the parameter is re-read on every deploy).",
             commands=tuple(lines), changes=tuple(change2), applies_to="head"),
    )
    summary = (f"{export} is a hand-named export, so the reference flag cannot move its consumers, and this pull "
               f"request also removes {_names(removed)} from {producer}. Pass the value through an SSM parameter "
               "first; then ship this pull request consumers first, producer, consumers again.")
    return Candidate(Plan("split-ssm-parameter", summary, steps, covers=ids),
                     ((s1, first), *((s2, line) for line in lines)), versions.restrict(s2, both_ids))


def _weak(planner: _Planner, group: list[Finding], head: AppVersion, producer: str, consumers: list[str],
          exports: list[str], ids: tuple[str, ...]) -> Candidate:
    from bot.plans.planner import FLAG, WEAK_REFERENCES_SINCE, Candidate, _names, _version_at_least

    both_ids = [producer, *consumers]
    v1 = planner.base
    for export in exports:
        importers = [c for c in consumers if export in v1.stacks[c].imports]
        if export in v1.stacks[producer].exports and importers:
            v1 = versions.weak_switch(v1, export, producer, importers, keep_export=True, label="both")
    v2 = versions.weak_all(head, producer, consumers, label="weak")
    first = planner._command(v1, both_ids)
    second = planner._command(v2, both_ids, force=True)
    changed = [f.export for f in group if f.rule in VALUE_RULES and f.export]
    removed = [f.export for f in group if f.rule in REMOVED_RULES and f.export]
    one = len(consumers) == 1
    summary = (
        f"This pull request changes {_names(changed)} and removes {_names(removed)} from {producer} in one "
        f"release while {_names(consumers)} import{'s' if one else ''} them. No order of deploys ships it: "
        "the consumers first (the fix for a removal) is refused by the value change, and the producer first "
        "is refused outright. Move the consumers to weak references first (the flag covers every automatic "
        "export of the group), then ship this pull request."
    )
    steps = (
        Step(title="Split this pull request: land change 1 alone first, then this change", kind="split"),
        *planner._upgrade_step(_version_at_least(planner.library, WEAK_REFERENCES_SINCE)),
        Step(title=f"Change 1 (without this PR's change): set `{FLAG}` to `both` in cdk.json, merge and deploy",
             kind="code-change",
             detail=f"{_names(consumers)} switch{'es' if one else ''} to Fn::GetStackOutput and "
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


def _detach(planner: _Planner, head: AppVersion, producer: str, consumers: list[str], exports: list[str],
            ids: tuple[str, ...]) -> Candidate:
    from bot.plans.planner import Candidate, _names

    both_ids = [producer, *consumers]
    d1 = planner.base
    for export in exports:
        d1 = versions.detach(d1, export, consumers, label="detached")
    steps3 = [
        (d1, planner._command(d1, consumers, exclusively=True)),
        (head, planner._command(head, [producer], exclusively=True)),
        (head, planner._command(head, both_ids)),
    ]
    names = _names(exports)
    return Candidate(
        Plan("detach-and-restore",
             "Without weak references: stop using every export of this change in the consumers and deploy them "
             "first, then ship the producer's change, then deploy the consumers with this pull request.",
             (
                 Step(title=f"Release 1: remove the references from {_names(consumers)} on the base branch; deploy "
                      f"{'it' if len(consumers) == 1 else 'them'} alone", kind="code-change",
                      commands=(steps3[0][1],),
                      changes=(Change("description", description=f"in {_names(consumers)}: stop using {names}"),),
                      applies_to="base"),
                 Step(title=f"Release 2: this pull request; deploy {producer} alone", kind="deploy",
                      commands=(steps3[1][1],), applies_to="head"),
                 Step(title="Then deploy the consumers with the references this pull request keeps", kind="deploy",
                      commands=(steps3[2][1],), applies_to="head"),
             ), covers=ids),
        tuple(steps3),
        versions.restrict(head, both_ids),
    )
