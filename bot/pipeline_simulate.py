"""A pipeline run, simulated: CodePipeline's semantics on top of the CloudFormation rules
of ``bot.simulate``. Pure: no I/O.

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

from bot.simulate import AppVersion, Deployed, Simulation, State, StepOutcome, check_update, resolved_reads, stale_reads


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
    """Each release in turn; stop at the first refused action."""
    state: dict[str, Deployed] = dict(initial)
    steps: list[StepOutcome] = []
    for release in releases:
        error = _release(state, release, steps)
        if error is not None:
            return Simulation(tuple(steps), state, error, stale_reads(state))
    return Simulation(tuple(steps), state, None, stale_reads(state))


def _release(state: dict[str, Deployed], release: PipelineRun, steps: list[StepOutcome]) -> str | None:
    version = release.version
    app_parameters = frozenset(p for s in version.stacks.values() for p in s.ssm_writes)
    if release.self_update is not None and release.self_update in version.stacks:
        spec = version.stacks[release.self_update]
        label = f"{release.pipeline} ({version.label}): self-update {spec.name}"
        error = check_update(state, spec, app_parameters)
        if error is not None:
            steps.append(StepOutcome(label, (), (), f"{spec.name}: {error}"))
            return f"{spec.name}: {error}"
        state[spec.name] = Deployed(spec, resolved_reads(state, spec))
        steps.append(StepOutcome(label, (spec.name,), ()))
    prepared: dict[str, _ChangeSet] = {}
    for stage in release.stages:
        for position, group in enumerate(stage.run_orders, start=1):
            label = f"{release.pipeline} ({version.label}), stage {stage.name}, run order {position}"
            before = dict(state)
            for action in group:
                if action.prepare and action.stack in version.stacks:
                    prepared[action.stack] = _prepare(before, version, action.stack)
            executing = [a.stack for a in group if a.execute and a.stack in prepared]
            deployed, skipped, errors = [], [], []
            for stack_id in executing:
                change = prepared[stack_id]
                if change.empty:
                    skipped.append(change.deployed.spec.name)
                    continue
                error = _race(before, prepared, executing, stack_id, app_parameters)
                if error is not None:
                    errors.append(error)
                    continue
                state[change.deployed.spec.name] = change.deployed
                deployed.append(change.deployed.spec.name)
            if not executing:
                continue
            steps.append(StepOutcome(label, tuple(deployed), tuple(skipped), errors[0] if errors else None))
            if errors:
                return errors[0]
    return None


def _prepare(state: State, version: AppVersion, stack_id: str) -> _ChangeSet:
    spec = version.stacks[stack_id]
    reads = resolved_reads(state, spec)
    current = state.get(spec.name)
    if current is None:
        return _ChangeSet(Deployed(spec, reads), empty=False)
    ssm_changed = any(
        reads.get(key) != token for key, token in current.resolved.items() if key.startswith("ssm:")
    ) or any(key.startswith("ssm:") and key not in current.resolved for key in reads)
    if current.spec.template == spec.template and not ssm_changed:
        return _ChangeSet(current, empty=True)  # nothing to do; weak reads keep their old values
    return _ChangeSet(Deployed(spec, reads), empty=False)


def _race(
    before: State, prepared: Mapping[str, _ChangeSet], executing: Sequence[str], stack_id: str,
    app_parameters: frozenset[str],
) -> str | None:
    """The refusal deploying ``stack_id`` meets, before or after its parallel siblings."""
    spec = prepared[stack_id].deployed.spec
    error = check_update(before, spec, app_parameters)
    siblings = [prepared[s].deployed for s in executing if s != stack_id and not prepared[s].empty]
    if error is None and siblings:
        after = dict(before)
        for sibling in siblings:
            after[sibling.spec.name] = sibling
        error = check_update(after, spec, app_parameters)
    if error is None:
        return None
    if siblings:
        names = ", ".join(sorted(s.spec.name for s in siblings))
        return f"{spec.name} (same RunOrder as {names}, in parallel): {error}"
    return f"{spec.name}: {error}"


# --- the order CDK Pipelines gives a stage ------------------------------------------------


def cdk_pipelines_order(version: AppVersion, stacks: Sequence[str]) -> tuple[tuple[Action, ...], ...]:
    """RunOrder groups CDK Pipelines synthesizes for these stacks of one pipeline stage.

    Each stack gets a Prepare and, one RunOrder later, a Deploy; a stack's Prepare
    comes after the Deploy of every stack of the same stage it depends on. Checked against
    synthesized pipelines in tests/test_pipeline_deploy.py.
    """
    members = set(stacks)
    rank: dict[str, int] = {}

    def prepare_rank(stack_id: str, trail: frozenset[str] = frozenset()) -> int:
        if stack_id in rank:
            return rank[stack_id]
        if stack_id in trail:
            raise ValueError(f"dependency cycle through {stack_id}")
        deps = version.stacks[stack_id].dependencies & members if stack_id in version.stacks else set()
        value = 1 + max((prepare_rank(d, trail | {stack_id}) + 1 for d in deps), default=0)
        rank[stack_id] = value
        return value

    groups: dict[int, list[Action]] = {}
    for stack_id in stacks:
        r = prepare_rank(stack_id)
        groups.setdefault(r, []).append(Action(stack_id, prepare=True, execute=False))
        groups.setdefault(r + 1, []).append(Action(stack_id, prepare=False, execute=True))
    return tuple(tuple(groups[k]) for k in sorted(groups))
