"""Pass the value through an SSM parameter in a change of its own, then ship the change. Pure.

DOMAIN.md section 5, for any aws-cdk-lib and for hand-named exports (which the weak-reference
flag cannot move): change 1 has the producer write the value to a parameter and the consumers
read it (the export kept one more release); change 2 is this pull request, producer then
consumers (the CLI always redeploys stacks with SSM parameters, so they read the new value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.core.model import Change, Finding, Plan, Step
from bot.plans import patches, reference_changes, snippets, versions
from bot.plans.patches import SourceSite
from bot.plans.simulate import AppVersion, upstream
from bot.plans.strategies.base import Candidate, Planning, no_patch_reason
from bot.plans.strategies.split import SPLIT_STEP, refusal
from bot.plans.value_sites import ValueSites
from bot.plans.wording import automatic, names, slug


def parameter_name(export: str) -> str:
    """A suggested parameter name for the export's value."""
    return f"/cdk-export-guard/{slug(export)}"


def split(planning: Planning, finding: Finding, head: AppVersion, producer: str,
          consumers: list[str]) -> list[Candidate]:
    export = finding.export
    assert export is not None
    both_ids = [producer, *consumers]
    parameter = parameter_name(export)
    s1 = versions.ssm_switch(planning.base, export, producer, consumers, parameter=parameter,
                             keep_export=True, label="ssm")
    s2 = versions.ssm_switch(head, export, producer, consumers, parameter=parameter,
                             keep_export=False, label="ssm-only")
    first = planning.command(s1, both_ids)
    second = planning.command(s2, both_ids)
    language = planning.language
    value = planning.values.value_expression(finding) or "<the exported value>"
    write = snippets.ssm_write(snippets.this(language), "CdkExportGuardParameter", parameter, value, language)
    read = snippets.ssm_read(snippets.this(language), parameter, language)
    edits: list[Change] = [
        Change("description", path=planning.values.site_path(finding),
               description=f"in {producer}: add `{write}`"),
    ]
    if automatic(export):
        # Once the consumers stop using the attribute, CDK drops the automatic export;
        # CloudFormation refuses to delete it while the deployed consumers import it.
        keep = snippets.export_value(snippets.this(language), value, language)
        edits.append(Change("description", path=planning.values.site_path(finding),
                            description=f"in {producer}, for this release only: `{keep}` (keeps the "
                            "automatic export the consumers still import until they are deployed)"))
    edits.append(Change("description", description=f"in {names(consumers)}: read the value with `{read}` "
                        "instead of the producer's attribute or import"))
    edits.append(Change("description", description=f"where the stacks are created: "
                        f"`{snippets.add_dependency('<consumer>', '<producer>', language)}` for each consumer "
                        "(an SSM read makes no dependency by itself)"))
    later: tuple[Change, ...] = (Change("description", description="this pull request on top of change 1"),)
    declared = all(head.stacks[producer].id in upstream(head, [c]) for c in consumers if c in head.stacks)
    if not automatic(export) and declared:
        # Hand-named: the CfnOutput export stays by itself; the reads are `Fn.import_value("<name>")`.
        patched = ssm_patches(planning.values, export, parameter, planning.base_sources, planning.base_readers)
        patched_head = ssm_patches(planning.values, export, parameter, planning.sources, planning.readers)
        if patched and patched_head:
            edits, later = patched, tuple(patched_head)
    elif automatic(export):
        # Automatic: the consumers use the producer's object; change 1 keeps the export.
        patched = _automatic_patches(planning, finding, parameter, producer, consumers, planning.base_sources,
                                     keep=True)
        patched_head = _automatic_patches(planning, finding, parameter, producer, consumers, planning.sources,
                                          keep=False)
        if patched and patched_head:
            edits, later = patched, tuple(patched_head)
    patched_all = all(c.kind == "patch" for c in edits)
    steps = (
        SPLIT_STEP,
        Step(
            title="Change 1 (without this PR's change): pass the value through an SSM parameter",
            kind="code-change",
            detail=f"The parameter name {parameter} is a suggestion."
            + ("" if patched_all else f" {no_patch_reason(planning)}: edit by hand as below."),
            commands=(first,),
            changes=tuple(edits),
            applies_to="base",
        ),
        Step(
            title="Change 2: this PR's change; deploy the producer, then the consumers",
            kind="deploy",
            detail="The CLI always redeploys stacks with SSM parameters, so the consumers "
            "read the new value." + (" Remove the temporary export line." if automatic(export) else ""),
            commands=(second,),
            code=planning.code_step(finding),
            changes=later,
            applies_to="head",
        ),
    )
    plan = Plan("split-ssm-parameter", refusal(planning, finding, head, producer, consumers), steps)
    return [Candidate(plan, ((s1, first), (s2, second)), versions.restrict(s2, both_ids))]


def ssm_patches(values: ValueSites, export: str, parameter: str, sources: Mapping[str, SourceSite],
                readers: Mapping[str, Sequence[SourceSite]]) -> list[Change] | None:
    """Patches for the SSM route of a hand-named export, on the tree of ``sources``."""
    found = values.value_site(export, sources)
    if found is None or not readers.get(export):
        return None
    site, construct_id, attribute = found
    return patches.ssm_switch_patches(site, construct_id, attribute, parameter, export, list(readers[export]))


def _automatic_patches(planning: Planning, finding: Finding, parameter: str, producer: str, consumers: list[str],
                       sources: Mapping[str, SourceSite], *, keep: bool) -> list[Change] | None:
    """Patches for the SSM route of an automatic reference, on the tree of ``sources``."""
    value = planning.values.producer_value(finding.export or "", sources)
    p_site = sources.get(producer)
    c_sites = [sources.get(c) for c in consumers]
    if value is None or p_site is None or any(c is None for c in c_sites):
        return None
    dependencies = [(c, p_site, cid.rsplit("/", 1)[-1], producer.rsplit("/", 1)[-1])
                    for c, cid in zip(c_sites, consumers, strict=True) if c is not None]
    return reference_changes.ssm_route_changes(value, finding.usages, sources, parameter, keep_export=keep,
                                               dependencies=dependencies)
