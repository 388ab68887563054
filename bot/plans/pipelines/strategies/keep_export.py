"""Keep the export the consumers import: ``export_value`` re-creates exactly its name, so the
pipeline may deploy the stacks in any order. Pure.

For a removed export it is kept one more release, then removed (``one_more_release``); for
an import of an export head no longer makes, it is restored (``restore``).
"""

from __future__ import annotations

from bot.core.model import Finding, Plan, Step
from bot.plans import snippets, versions
from bot.plans.pipelines.edits import added_code, code_at, placeholder_note
from bot.plans.pipelines.strategies.base import Candidate, Planning, Release
from bot.plans.simulate import AppVersion
from bot.plans.strategies.keep_export import keep_export_changes


def one_more_release(planning: Planning, finding: Finding, head: AppVersion, producer: str,
                     consumers: list[str]) -> list[Candidate]:
    return [_keep(planning, finding, head, producer, consumers, follow_up=True)]


def restore(planning: Planning, finding: Finding, head: AppVersion, producer: str,
            consumers: list[str]) -> list[Candidate]:
    if not finding.export:
        return []
    return [_keep(planning, finding, head, producer, consumers, follow_up=False)]


def _keep(planning: Planning, finding: Finding, head: AppVersion, producer: str, consumers: list[str],
          *, follow_up: bool) -> Candidate:
    export = finding.export
    assert export is not None
    base = planning.base
    token = base.stacks[producer].exports.get(export, f"{export}@base") \
        if producer in base.stacks else f"{export}@base"
    kept = versions.keep_export(head, export, producer, token, label="release 1")
    language = planning.language
    value = planning.value(finding) or "<the attribute it exported>"
    call = snippets.export_value(snippets.this(language), value, language,
                                 None if ":ExportsOutput" in export else export)
    changes = tuple(keep_export_changes(planning.context, planning.sources, language, [(producer, export)]))
    call = added_code(changes) or call
    steps = [Step(title=f"Release 1: keep the export in {planning.name(producer)}, merge with this change",
                  kind="code-change",
                  detail=f"`{call}` in {producer}{placeholder_note(call)}: it re-creates "
                  "exactly this export name, "
                  "so the pipeline can deploy the stacks in any order.",
                  code=code_at(changes, language, call), changes=changes, applies_to="head")]
    releases = [Release(kept, "release 1")]
    if follow_up:
        steps.append(Step(title="Release 2: remove the export_value line once release 1 has run through "
                          "every stage", kind="code-change",
                          detail="No deployed stack imports it any more, so its deletion is accepted.",
                          applies_to="head"))
        releases.append(Release(head, "release 2"))
    return Candidate(
        Plan("pipeline-keep-export" if follow_up else "pipeline-restore-export",
             f"Keep exporting {export} from {planning.name(producer)}"
             + (" for one more release, then remove it." if follow_up else "."),
             tuple(steps)),
        tuple(releases),
        versions.restrict(releases[-1].version, [producer, *consumers]),
    )
