"""A new or weak reference in a pipeline: make the pipeline deploy the consumers after the
producer (a kept ``add_dependency``), and for a weak reference whose consumer template does
not change, tag it for one release so its change set re-reads the new value. Pure."""

from __future__ import annotations

from dataclasses import replace

from bot.core.model import Finding, Plan, ReferenceKind, Step
from bot.plans import versions, wording
from bot.plans.pipelines.edits import added_code, code_at, depend, touch
from bot.plans.pipelines.strategies.base import Candidate, Planning, Release
from bot.plans.simulate import AppVersion, upstream


def candidates(planning: Planning, finding: Finding, head: AppVersion, producer: str,
               consumers: list[str]) -> list[Candidate]:
    target = versions.restrict(head, [producer, *consumers])
    declared = all(producer in upstream(head, [c]) for c in consumers)
    weak = finding.reference_kind is ReferenceKind.WEAK and finding.rule == "weak-reference-stale"
    if declared and not weak:
        return [Candidate(
            Plan("pipeline-order", f"Nothing to change: {planning.order_text(head, consumers[0])}.", ()),
            (Release(head, "this change"),), target,
        )]
    version, steps = head, []
    if not declared:
        version = depend(version, consumers[0], [producer], label="this change")
        for c in consumers[1:]:
            version = depend(version, c, [producer], label="this change")
        changes = tuple(planning.dependency(c, producer) for c in consumers)
        call = added_code(changes) or planning.call(consumers[0], "add_dependency", [producer])
        steps.append(Step(title=f"Add `{call}` for every consumer (keep it)", kind="code-change",
                          detail=f"The app declares no dependency, so the pipeline runs them in parallel; with "
                          f"it: {planning.order_text(version, consumers[0])}.",
                          code=code_at(changes, planning.language, call), changes=changes, applies_to="head"))
    releases = [Release(version, "this change")]
    if weak:
        version = touch(version, consumers)
        tags = tuple(planning.tag(c, finding) for c in consumers)
        tag = added_code(tags) or planning.tag_call(consumers)
        before = steps[-1].changes if steps else ()
        steps.append(Step(title=f"Add `{tag}` in this change (temporary)", kind="code-change",
                          detail="The consumer's template does not change, and the pipeline has no `--force`; "
                          "the tag makes its change set re-read the new value.",
                          code=code_at(tags, planning.language, tag),
                          changes=(*before, *tags), applies_to="head"))
        steps.append(Step(title="Remove the tag in a later release", kind="code-change",
                          changes=before, applies_to="head"))
        releases = [Release(version, "this change"), Release(replace(releases[0].version, label="follow-up"),
                                                             "follow-up")]
    names = wording.names(planning.name(c) for c in consumers)
    if not weak:
        summary = f"Make the pipeline deploy {names} after {planning.name(producer)}."
    else:
        order = "" if not declared else f"In head, {planning.order_text(head, consumers[0])}, after " \
            f"{planning.name(producer)}; but "
        summary = (f"{order}{names}'s template does not change, so its change set would be empty and keep "
                   "the old value: change its template for this release.")
    return [Candidate(
        Plan("pipeline-order" if not weak else "pipeline-refresh-consumer", summary, tuple(steps)),
        tuple(releases), target,
    )]
