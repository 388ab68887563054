"""Edits to the repository's own deploy commands, so they run a chosen plan's last step right. Pure.

The commands of one file run in order (a buildspec's phases, a workflow's steps, a
pipeline's command list), so each file's deploys are simulated as a sequence in place of
the plan's last step, after its earlier steps. When that fails or leaves a consumer behind,
the file's first deploy that selects a stack of the step is rewritten with the missing
stacks and flags (keeping its own runner and options); the edit is kept only if the file's
sequence then verifies.
"""

from __future__ import annotations

from dataclasses import replace

from bot.core.model import PipelineEdit
from bot.plans.command_lines import DELETE_STACK, simulate_commands
from bot.plans.deploy_command import DeployCommand, parse_deploy, render_deploy
from bot.plans.deploy_sites import DeploySite, EditError, propose_edit
from bot.plans.simulate import AppVersion, SelectionError, differences, select, widest_wave
from bot.plans.strategies.base import Candidate, Planning


def pipeline_edits(planning: Planning, candidate: Candidate) -> tuple[PipelineEdit, ...]:
    """Deploy commands in the repository that would run the plan's last step wrongly, rewritten."""
    *before, (version, last_line) = candidate.invocations
    wanted = parse_deploy(last_line) if not last_line.startswith(DELETE_STACK) else None
    if wanted is None or " && " in last_line:
        return ()
    try:
        wanted_ids = set(select(version, wanted))
    except SelectionError:
        return ()
    by_file: dict[str, list[DeploySite]] = {}
    for site in planning.sites:
        # Deploys of stacks this app does not have belong to another app or stage.
        if site.command.all_stacks or _selects(version, _scoped(planning, site.command, version)):
            by_file.setdefault(site.path, []).append(site)
    edits = []
    for sites in by_file.values():
        relevant = [s for s in sites if s.command.all_stacks
                    or _selects(version, _scoped(planning, s.command, version)) & wanted_ids]
        if not relevant:
            continue
        lines = [render_deploy(s.command) for s in sites]
        if _sequence_reaches(planning, candidate, before, version, lines):
            continue
        edit = _minimal_edit(planning, candidate, before, version, sites, relevant, wanted, lines)
        if edit is not None:
            edits.append(edit)
    return tuple(edits)


def _selects(version: AppVersion, command: DeployCommand) -> set[str]:
    try:
        return set(select(version, command))
    except SelectionError:
        return set()


def _scoped(planning: Planning, command: DeployCommand, version: AppVersion) -> DeployCommand:
    """The command without selectors naming only app stacks outside this finding's scope.

    Plans simulate only the stacks a finding involves; a repository command that also
    deploys unrelated stacks of the app (``cdk deploy Data Compute Api Admin``) is judged
    on the rest. A selector matching no stack of the app at all stays, and fails as it would.
    """
    skeleton = planning.versions.skeleton
    kept = tuple(s for s in command.selectors
                 if _selects(version, replace(command, selectors=(s,), exclusively=True))
                 or not _selects(skeleton, replace(command, selectors=(s,), exclusively=True)))
    return command if kept == command.selectors or not kept else replace(command, selectors=kept)


def _sequence_reaches(planning: Planning, candidate: Candidate, before: list[tuple[AppVersion, str]],
                      version: AppVersion, lines: list[str]) -> bool:
    scoped = []
    for line in lines:
        parsed = parse_deploy(line)
        scoped.append(render_deploy(_scoped(planning, parsed, version)) if parsed is not None else line)
    try:
        simulation = simulate_commands(planning.initial, [*before, *((version, line) for line in scoped)])
    except ValueError:
        return False
    return simulation.ok and not differences(simulation.state, candidate.target)


def _minimal_edit(planning: Planning, candidate: Candidate, before: list[tuple[AppVersion, str]],
                  version: AppVersion, sites: list[DeploySite], relevant: list[DeploySite],
                  wanted: DeployCommand, lines: list[str]) -> PipelineEdit | None:
    """The smallest rewrite of one deploy in the file that makes the file's sequence work."""
    for site in relevant:
        for fixed in _rewrites(planning, site.command, wanted, version):
            trial = list(lines)
            trial[sites.index(site)] = fixed
            if _sequence_reaches(planning, candidate, before, version, trial):
                try:
                    return propose_edit(site, fixed)
                except EditError:
                    break
    return None


def _rewrites(planning: Planning, site: DeployCommand, wanted: DeployCommand, version: AppVersion) -> list[str]:
    """Rewrites of a deploy, smallest first: add --force; add the missing stacks; both."""
    missing = tuple(s for s in wanted.selectors if s not in site.selectors)
    variants = []
    if wanted.force and not site.force:
        variants.append(replace(site, force=True))
    if missing and not site.all_stacks:
        variants.append(replace(site, selectors=site.selectors + missing,
                                exclusively=site.exclusively and wanted.exclusively))
        if wanted.force and not site.force:
            variants.append(replace(site, selectors=site.selectors + missing, force=True,
                                    exclusively=site.exclusively and wanted.exclusively))
    out = []
    for variant in variants:
        try:
            width = widest_wave(version, select(version, _scoped(planning, variant, version)))
        except SelectionError:
            continue
        out.append(render_deploy(replace(variant, concurrency=max(site.concurrency, width))))
    return out
