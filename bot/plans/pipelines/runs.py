"""A pipeline's run of one app version, as its template orders it, and the lines that
tell how the simulated run went. Pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from bot.core.model import Stack, StackKey
from bot.plans.pipelines.deploy import DIRECT, PREPARE, Pipeline, StackAction
from bot.plans.pipelines.simulate import Action, PipelineRun, StageRun, cdk_pipelines_order
from bot.plans.simulate import AppVersion, Simulation, StepOutcome


def template_runs(
    pipelines: Sequence[Pipeline],
    stacks: Mapping[StackKey, Stack],
    version: AppVersion,
    keep: Callable[[Sequence[str]], bool] = lambda _: True,
) -> list[PipelineRun]:
    """Each pipeline running ``version`` in the order of its template (``stacks``: the
    assembly's stacks by key). A stage for which ``keep`` says no is ordered as CDK
    Pipelines would order it for ``version``'s dependencies instead."""
    out = []
    for pipeline in pipelines:
        stages = []
        for stage in pipeline.stages:
            ids = [stacks[k].hierarchical_id for k in stage.stacks() if k in stacks]
            if keep(ids):
                stages.append(_from_template(stage.name, stage.actions, stacks))
            else:
                stages.append(StageRun(stage.name, cdk_pipelines_order(version, ids)))
        holder = stacks.get(pipeline.stack)
        out.append(PipelineRun(pipeline.name, version, tuple(stages), holder.hierarchical_id if holder else None))
    return out


def _from_template(name: str, actions: Sequence[StackAction], head_stacks: Mapping[StackKey, Stack]) -> StageRun:
    groups: dict[int, list[Action]] = {}
    for action in actions:
        if action.stack is None or action.stack not in head_stacks:
            continue
        stack_id = head_stacks[action.stack].hierarchical_id
        prepare = action.mode == PREPARE or action.mode in DIRECT
        execute = action.mode != PREPARE
        groups.setdefault(action.run_order, []).append(Action(stack_id, prepare, execute))
    return StageRun(name, tuple(tuple(groups[k]) for k in sorted(groups)))


def transcript(simulation: Simulation) -> tuple[str, ...]:
    """One line per RunOrder that deployed something, then the stale consumers."""
    return (*(_describe(step) for step in simulation.steps), *(f"stale: {s}" for s in simulation.stale))


def _describe(step: StepOutcome) -> str:
    if step.error:
        return f"{step.command}: refused: {step.error}"
    done = ", ".join(step.deployed) or "nothing"
    empty = f" (no changes: {', '.join(step.skipped)})" if step.skipped else ""
    return f"{step.command}: deployed {done}{empty}"
