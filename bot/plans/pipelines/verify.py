"""Pipeline plans checked for real: each release synthesized, run in its own pipeline's order.  [I/O]

A pipeline plan (``bot.plans.pipelines.plans``) is a list of releases, each a step with the tree it
``applies_to`` and the changes (context flags, patches) made on it. Here each release is
built with ``bot.plans.verify``'s synthesis (scratch copies, changes applied, the app's own
synth), its pipeline is read from *its* assembly (the order CDK Pipelines really gave the
changed app), and the releases are run one after the other through the pipeline simulator
from the deployed base. A plan is ``synthesized`` only when every release is accepted, no
consumer is left stale, and the finding's stacks end at the last release.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from bot.core.assembly import AssemblyError, load_assembly
from bot.core.context import build_context
from bot.core.model import AnalysisResult, Assembly, Finding, Level, Plan, Verification
from bot.plans import versions
from bot.plans.pipelines.deploy import find_pipelines
from bot.plans.pipelines.plans import PIPELINE_STRATEGIES
from bot.plans.pipelines.runs import template_runs, transcript
from bot.plans.pipelines.simulate import PipelineRun, run_pipelines
from bot.plans.simulate import AppVersion, deployed_state, differences
from bot.plans.simulate import State as Deployed
from bot.plans.states import State
from bot.plans.verify import VerifyOptions, _Built, _synthesize_all

SYNTHESIZED = "each release was applied, synthesized, and run through its own pipeline's order"


def release_states(plan: Plan) -> list[State] | str:
    """The app state of each release a pipeline plan asks for, or why it cannot be built."""
    states: list[State] = []
    previous: State | None = None
    for number, step in enumerate(plan.steps, 1):
        if step.applies_to is None:
            continue
        described = [c for c in step.changes if c.kind == "description"]
        if described:
            return f"step {number} is an edit by hand (no patch): {described[0].description}"
        if step.applies_to == "previous":
            if previous is None:
                return f"step {number} applies to a previous release that does not exist"
            state = State(previous.tree, previous.changes + step.changes)
        else:
            state = State(step.applies_to, step.changes)
        states.append(state)
        previous = state
    return states or "the plan has no release"


def verify_pipeline_plans(result: AnalysisResult, base_assembly: Path, head_assembly: Path,
                          options: VerifyOptions) -> AnalysisResult:
    """The result with every model-checked pipeline plan rebuilt and run on synthesized releases."""
    plans = [p for p in _plans(result.findings) if p.strategy in PIPELINE_STRATEGIES and p.checked]
    if not plans:
        return result
    wanted: dict[State, None] = {}
    for plan in plans:
        states = release_states(plan)
        if isinstance(states, list):
            wanted.update((s, None) for s in states)
    ready = {State("base"): base_assembly, State("head"): head_assembly} if options.reuse_assemblies \
        else {State("base"): base_assembly}
    with tempfile.TemporaryDirectory(prefix="cdk-export-guard-releases-") as scratch:
        folders = _synthesize_all(list(wanted), ready, Path(scratch), options)
        base = load_assembly(base_assembly)
        built: dict[State, tuple[Assembly, AppVersion] | str] = {}
        for state, folder in folders.items():
            if isinstance(folder, _Built):
                built[state] = folder.problem or "not built"
                continue
            try:
                assembly = load_assembly(folder)
            except (AssemblyError, OSError, ValueError) as exc:
                built[state] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                continue
            built[state] = (assembly, versions.Versions(build_context(base, assembly)).state(state.label))
    initial = deployed_state(versions.Versions(build_context(base, base)).base)
    involved = {id(p): ids for p, ids in _involved(result)}

    def check(plan: Plan) -> Plan:
        if plan.strategy not in PIPELINE_STRATEGIES or not plan.checked:
            return plan
        return _check(plan, built, initial, involved.get(id(plan), set()))

    findings = tuple(
        replace(f, remediation=replace(check(f.remediation),
                                       alternatives=tuple(check(a) for a in f.remediation.alternatives)))
        if f.remediation else f
        for f in result.findings
    )
    return replace(result, findings=findings)


def _check(plan: Plan, built: dict[State, tuple[Assembly, AppVersion] | str], initial: Deployed,
           stacks: set[str]) -> Plan:
    states = release_states(plan)
    if isinstance(states, str):
        return _modelled(plan, f"not synthesized: {states}")
    runs: list[PipelineRun] = []
    last: AppVersion | None = None
    for state in states:
        outcome = built.get(state, "not built")
        if isinstance(outcome, str):
            return _modelled(plan, f"not synthesized: {state.label}: {outcome}")
        assembly, version = outcome
        runs += template_runs(find_pipelines(assembly), {s.key: s for s in assembly.all_stacks()}, version)
        last = version
    assert last is not None
    labels = tuple(s.label for s in states)
    simulation = run_pipelines(initial, runs)
    lines = transcript(simulation)
    if not simulation.ok:
        failure = simulation.error or simulation.stale[0]
        return replace(plan, simulation=lines, verification=Verification(
            Level.NONE, labels, f"synthesized, and the pipeline refuses the real releases: {failure}"))
    missing = differences(simulation.state, versions.restrict(last, stacks))
    if missing:
        return replace(plan, simulation=lines, verification=Verification(
            Level.NONE, labels, f"synthesized; not reached: {missing[0]}"))
    return replace(plan, simulation=lines, verification=Verification(Level.SYNTHESIZED, labels, SYNTHESIZED))


def _modelled(plan: Plan, reason: str) -> Plan:
    level = Level.MODELLED if plan.checked else plan.verification.level
    base_reason = plan.verification.reason.split("; not synthesized")[0]
    return replace(plan, verification=Verification(level, plan.verification.states, f"{base_reason}; {reason}"))


def _plans(findings: Iterable[Finding]) -> Iterable[Plan]:
    for finding in findings:
        if finding.remediation is not None:
            yield finding.remediation
            yield from finding.remediation.alternatives


def _involved(result: AnalysisResult) -> Iterable[tuple[Plan, set[str]]]:
    stacks = {s.key: s for a in (result.base, result.head) for s in a.all_stacks()}
    for finding in result.findings:
        ids = set()
        for key in (finding.producer_key, *finding.consumer_keys):
            stack = stacks.get(key) if key else None
            while stack is not None and stack.parent is not None:
                stack = stacks.get(stack.parent)
            if stack is not None:
                ids.add(stack.hierarchical_id)
        for plan in (finding.remediation, *(finding.remediation.alternatives if finding.remediation else ())):
            if plan is not None:
                yield plan, ids
