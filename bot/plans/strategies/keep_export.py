"""Keep a removed export one more release with ``export_value``, or restore one still imported. Pure.

DOMAIN.md section 5: ``stack.export_value(...)`` re-creates exactly the automatic export
name, so the consumers keep importing while they move; it cannot help when nothing in head
produces the old value any more (its resource got a new logical id).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bot.core.context import Context
from bot.core.model import Change, Finding, Plan, Step
from bot.plans import patches, snippets, versions
from bot.plans.patches import SourceSite
from bot.plans.simulate import AppVersion
from bot.plans.strategies.base import Candidate, Planning
from bot.plans.value_sites import ValueSites
from bot.plans.wording import automatic, names


def candidates(planning: Planning, finding: Finding, head: AppVersion, producer: str,
               consumers: list[str]) -> list[Candidate]:
    """For a removed export: keep exporting it from the producer one more release."""
    assert finding.export is not None
    return keep_candidates(planning, finding, head, [(producer, finding.export)], consumers)


def restore(planning: Planning, finding: Finding, head: AppVersion, producer: str,
            consumers: list[str]) -> list[Candidate]:
    """For an import of an export head no longer has: keep exporting it (one release, as is)."""
    export = finding.export
    assert export is not None
    out = []
    for candidate in keep_candidates(planning, finding, head, [(producer, export)], consumers):
        release1 = candidate.plan.steps[0]
        line = release1.commands[0]
        out.append(replace(candidate, plan=Plan(
            "restore-export",
            f"{names(finding.consumers)} still import{'s' if len(consumers) == 1 else ''} "
            f"{export}: keep exporting it from {producer} (`export_value`), or "
            "change the consumers to stop importing it.",
            (replace(release1, title=f"Keep {export} exported from {producer}"),),
            deploy_command=line,
        ), invocations=candidate.invocations[:1], target=versions.restrict(
            candidate.invocations[0][0], [producer, *consumers])))
    return out


def keep_candidates(planning: Planning, finding: Finding, head: AppVersion, kept_exports: list[tuple[str, str]],
                    consumers: list[str], covers: tuple[Finding, ...] = ()) -> list[Candidate]:
    """Keep the exports one more release with export_value; none when head cannot produce one."""
    kept, kept_names = head, []
    for producer, export in kept_exports:
        if planning.values.old_value_gone(export):
            return []
        token = planning.base.stacks[producer].exports.get(export, f"{export}@base") \
            if producer in planning.base.stacks else f"{export}@base"
        kept = versions.keep_export(kept, export, producer, token, label="kept")
        kept_names.append(export)
    changes = keep_changes(planning.values, planning.language, kept_exports)
    producers = list(dict.fromkeys(p for p, _ in kept_exports))
    release1 = planning.command(kept, [*producers, *consumers])
    release2 = planning.command(head, producers, exclusively=True)
    patched = all(c.kind == "patch" for c in changes)
    label = names(kept_names) if len(kept_names) < 4 else f"{len(kept_names)} exports"
    plan = Plan(
        "keep-export-one-release",
        f"Keep exporting {label} from {names(producers)} for one more release "
        "(`export_value` re-creates exactly the automatic export name), deploy, then "
        "remove it in a later release once nothing imports it.",
        (
            Step(
                title=f"Release 1: this pull request, keeping the export{'s' if len(kept_names) > 1 else ''}; "
                "deploy producer then consumers",
                kind="code-change",
                detail="" if patched else "No patch could be produced for every export: edit by hand as "
                "described.",
                commands=(release1,),
                code=planning.code_step(finding),
                changes=tuple(changes),
                applies_to="head",
            ),
            Step(title="Release 2: remove the kept export lines; deploy the producer",
                 kind="deploy", commands=(release2,), applies_to="head"),
        ),
        covers=tuple(f.id for f in covers),
    )
    return [Candidate(plan, ((kept, release1), (head, release2)),
                      versions.restrict(head, [*producers, *consumers]))]


def keep_export_changes(context: Context, sources: Mapping[str, SourceSite], language: str | None,
                        kept_exports: list[tuple[str, str]]) -> list[Change]:
    """``export_value`` patches keeping each (producer id, export) one release, or what to
    write by hand where none can be made: the same changes these plans carry, for other
    planners (pipelines)."""
    known = language if language in snippets.LANGUAGES else "python"
    return keep_changes(ValueSites(context, sources), known, kept_exports)


def keep_changes(values: ValueSites, language: str, kept_exports: list[tuple[str, str]]) -> list[Change]:
    """One export_value patch per source file; a description for what cannot be located."""
    by_file: dict[str, list[tuple[SourceSite, str, str, str | None]]] = {}
    described = []
    for producer, export in kept_exports:
        found = values.value_site(export)
        if found is None:
            code = snippets.export_value(snippets.this(language), "<the attribute it exported>",
                                         language, None if automatic(export) else export)
            described.append(Change("description", description=f"in {producer}: `{code}` (the value "
                                    f"{export} carries today; its construct could not be located for a patch)"))
            continue
        site, construct_id, attribute = found
        by_file.setdefault(site.path, []).append(
            (site, construct_id, attribute, None if automatic(export) else export))
    changes = []
    for items in by_file.values():
        change = patches.export_values_patch(items)
        if change is None:
            item_names = ", ".join(i[1] for i in items)
            change = Change("description", path=items[0][0].path,
                            description=f"after creating {item_names}: `export_value` of each (no patch could "
                            "be produced)")
        changes.append(change)
    return changes + described
