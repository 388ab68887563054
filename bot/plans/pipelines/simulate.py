"""A pipeline run, simulated: CodePipeline's semantics on top of the CloudFormation rules
of ``bot.plans.simulate``. Pure: no I/O.

What is modelled, and where it comes from:
- Stages run one after the other; a stage's stacks see the state earlier stages left.
- Within a stage, actions run by ``RunOrder``; actions with the same RunOrder run in
  parallel (CodePipeline pipeline structure reference). A deploy is judged both before
  and after the other deploys of its RunOrder: if either order is refused, the race
  counts as a failure.
- ``CHANGE_SET_REPLACE`` (CDK Pipelines' ``Prepare``) creates the change set: SSM-typed
  template parameters are resolved then ("When you create or update stacks and create
  change sets, CloudFormation uses whatever values exist in Parameter Store at the time
  the operation is run", CloudFormation User Guide, Systems Manager parameter types), so
  a consumer whose template did not change still gets a change when its SSM value did.
  ``CHANGE_SET_EXECUTE`` (``Deploy``) applies that change set, with the values it holds.
- There is no ``--force``: an unchanged template with no SSM value change is an empty
  change set ("The submitted information didn't contain changes"), which CDK Pipelines
  runs on every stack of every execution without failing the pipeline: the stack is left
  as it is.
- ``Fn::GetStackOutput`` is "resolved at stack create or update time" (CloudFormation
  Template Reference, Fn::GetStackOutput). Whether an unchanged template yields a change
  when only the output it reads changed is documented nowhere, so it is modelled as *not*
  refreshed: a plan must change the consumer's template to pick up a new weak value.
- The pipeline updates itself first (CDK Pipelines' ``UpdatePipeline`` stage), so each
  release runs with the order of its own pipeline template.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.plans.simulate import (
    AppVersion,
    Deployed,
    Index,
    Simulation,
    State,
    StepOutcome,
    check_update,
    resolved_reads,
    stale_reads,
)


@dataclass(frozen=True)
class Action:
    """One CloudFormation action at one RunOrder: prepare and/or execute a stack's change set."""

    stack: str  # spec id (hierarchical id)
    prepare: bool
    execute: bool


@dataclass(frozen=True)
class StageRun:
    """One pipeline stage: its actions grouped by RunOrder, in order."""

    name: str
    run_orders: tuple[tuple[Action, ...], ...]

    def stacks(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for group in self.run_orders:
            for action in group:
                seen.setdefault(action.stack)
        return tuple(seen)


@dataclass(frozen=True)
class PipelineRun:
    """A release through one pipeline: the app version it deploys and the pipeline's order."""

    pipeline: str
    version: AppVersion
    stages: tuple[StageRun, ...]
    self_update: str | None = None  # spec id of the stack holding the pipeline


@dataclass(frozen=True)
class _ChangeSet:
    deployed: Deployed  # what executing it leaves
    empty: bool


def run_pipelines(initial: State, releases: Sequence[PipelineRun]) -> Simulation:
    """Each release in turn; stop at the first refused action.

    One index of the state is kept in step with it (``Index.replace``), so a release
    costs time linear in its actions: no copy or scan of the whole state per RunOrder.
    """
    state: dict[str, Deployed] = dict(initial)
    index = Index(state)
    steps: list[StepOutcome] = []
    for release in releases:
        error = _release(state, index, release, steps)
        if error is not None:
            return Simulation(tuple(steps), state, error, stale_reads(state, index))
    return Simulation(tuple(steps), state, None, stale_reads(state, index))


def _release(state: dict[str, Deployed], index: Index, release: PipelineRun, steps: list[StepOutcome]) -> str | None:
    version = release.version
    app_parameters = frozenset(p for s in version.stacks.values() for p in s.ssm_writes)
    if release.self_update is not None and release.self_update in version.stacks:
        spec = version.stacks[release.self_update]
        label = f"{release.pipeline} ({version.label}): self-update {spec.name}"
        error = check_update(state, spec, app_parameters, index)
        if error is not None:
            steps.append(StepOutcome(label, (), (), f"{spec.name}: {error}"))
            return f"{spec.name}: {error}"
        index.replace(state, Deployed(spec, resolved_reads(state, spec, index)))
        steps.append(StepOutcome(label, (spec.name,), ()))
    prepared: dict[str, _ChangeSet] = {}
    for stage in release.stages:
        for position, group in enumerate(stage.run_orders, start=1):
            label = f"{release.pipeline} ({version.label}), stage {stage.name}, run order {position}"
            # ``state`` stays as the RunOrder found it until every action of it is judged.
            for action in group:
                if action.prepare and action.stack in version.stacks:
                    prepared[action.stack] = _prepare(state, index, version, action.stack)
            executing = [a.stack for a in group if a.execute and a.stack in prepared]
            if not executing:
                continue
            refusals = _races(state, index, prepared, executing, app_parameters)
            deployed, skipped, errors = [], [], []
            for stack_id in executing:
                change = prepared[stack_id]
                if change.empty:
                    skipped.append(change.deployed.spec.name)
                elif stack_id in refusals:
                    errors.append(refusals[stack_id])
                else:
                    index.replace(state, change.deployed)
                    deployed.append(change.deployed.spec.name)
            steps.append(StepOutcome(label, tuple(deployed), tuple(skipped), errors[0] if errors else None))
            if errors:
                return errors[0]
    return None


def _prepare(state: State, index: Index, version: AppVersion, stack_id: str) -> _ChangeSet:
    spec = version.stacks[stack_id]
    reads = resolved_reads(state, spec, index)
    current = state.get(spec.name)
    if current is None:
        return _ChangeSet(Deployed(spec, reads), empty=False)
    ssm_changed = any(
        reads.get(key) != token for key, token in current.resolved.items() if key.startswith("ssm:")
    ) or any(key.startswith("ssm:") and key not in current.resolved for key in reads)
    if current.spec.template == spec.template and not ssm_changed:
        return _ChangeSet(current, empty=True)  # nothing to do; weak reads keep their old values
    return _ChangeSet(Deployed(spec, reads), empty=False)


def _races(
    before: dict[str, Deployed], index: Index, prepared: Mapping[str, _ChangeSet], executing: Sequence[str],
    app_parameters: frozenset[str],
) -> dict[str, str]:
    """The refusal each non-empty deploy of one RunOrder meets, judged before and after its
    parallel siblings (either order refused counts as a race); by stack id.

    ``before`` (with its ``index``) is the state the RunOrder found; it is changed while
    judging and restored before returning.
    """
    changing = [s for s in executing if not prepared[s].empty]
    refusals: dict[str, str] = {}
    for stack_id in changing:
        error = check_update(before, prepared[stack_id].deployed.spec, app_parameters, index)
        if error is not None:
            refusals[stack_id] = error
    if len(changing) > 1:
        names = [prepared[s].deployed.spec.name for s in changing]
        if len(set(names)) == len(names):
            _after_siblings(before, index, prepared, changing, app_parameters, refusals)
        else:  # two ids deploy one stack name (rare): each judged on its own copy
            for stack_id in changing:
                if stack_id not in refusals:
                    after = dict(before)
                    for sibling in changing:
                        if sibling != stack_id:
                            after[prepared[sibling].deployed.spec.name] = prepared[sibling].deployed
                    error = check_update(after, prepared[stack_id].deployed.spec, app_parameters)
                    if error is not None:
                        refusals[stack_id] = error
    out = {}
    for stack_id, error in refusals.items():
        spec = prepared[stack_id].deployed.spec
        siblings = sorted(prepared[s].deployed.spec.name for s in changing if s != stack_id)
        out[stack_id] = (f"{spec.name} (same RunOrder as {', '.join(siblings)}, in parallel): {error}"
                         if siblings else f"{spec.name}: {error}")
    return out


def _after_siblings(
    state: dict[str, Deployed], index: Index, prepared: Mapping[str, _ChangeSet], changing: Sequence[str],
    app_parameters: frozenset[str], refusals: dict[str, str],
) -> None:
    """Judge each deploy after all its siblings landed: every sibling is put in, and each
    stack's own entry is swapped back to what it was while it is judged. Stack names are
    distinct, so that is exactly "before, plus every sibling". ``state`` is restored."""
    undo = [(prepared[s].deployed.spec.name, state.get(prepared[s].deployed.spec.name)) for s in changing]
    for stack_id in changing:
        index.replace(state, prepared[stack_id].deployed)
    try:
        for stack_id, (name, previous) in zip(changing, undo, strict=True):
            if stack_id in refusals:
                continue
            _put_back(state, index, name, previous)
            error = check_update(state, prepared[stack_id].deployed.spec, app_parameters, index)
            index.replace(state, prepared[stack_id].deployed)
            if error is not None:
                refusals[stack_id] = error
    finally:
        for name, previous in undo:
            _put_back(state, index, name, previous)


def _put_back(state: dict[str, Deployed], index: Index, name: str, previous: Deployed | None) -> None:
    if previous is not None:
        index.replace(state, previous)
    elif name in state:
        index.drop(name, state.pop(name).spec)


# --- the order CDK Pipelines gives a stage ------------------------------------------------


def cdk_pipelines_order(version: AppVersion, stacks: Sequence[str]) -> tuple[tuple[Action, ...], ...]:
    """RunOrder groups CDK Pipelines synthesizes for these stacks of one pipeline stage.

    Each stack gets a Prepare and, one RunOrder later, a Deploy; a stack's Prepare
    comes after the Deploy of every stack of the same stage it depends on. Checked against
    synthesized pipelines in tests/test_pipeline_deploy.py.
    """
    members = set(stacks)
    rank: dict[str, int] = {}  # Prepare's RunOrder, by stack id

    def dependencies(stack_id: str) -> list[str]:
        return sorted(version.stacks[stack_id].dependencies & members) if stack_id in version.stacks else []

    # Depth first without recursion (a chain of thousands of stacks), each stack once.
    for root in stacks:
        path: list[tuple[str, list[str]]] = [] if root in rank else [(root, dependencies(root))]
        on_path = {root}
        while path:
            stack_id, waiting = path[-1]
            if waiting:
                dependency = waiting.pop()
                if dependency in on_path:
                    raise ValueError(f"dependency cycle through {dependency}")
                if dependency not in rank:
                    path.append((dependency, dependencies(dependency)))
                    on_path.add(dependency)
                continue
            rank[stack_id] = 1 + max((rank[d] + 1 for d in dependencies(stack_id)), default=0)
            path.pop()
            on_path.discard(stack_id)

    groups: dict[int, list[Action]] = {}
    for stack_id in stacks:
        r = rank[stack_id]
        groups.setdefault(r, []).append(Action(stack_id, prepare=True, execute=False))
        groups.setdefault(r + 1, []).append(Action(stack_id, prepare=False, execute=True))
    return tuple(tuple(groups[k]) for k in sorted(groups))
