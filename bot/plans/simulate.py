"""CloudFormation's export/import rules and the CDK CLI's deploy semantics, on plain data.

A plan is a list of ``cdk deploy`` invocations, each against one version of the app.
Running it from a deployed state either succeeds and yields the new state, or stops at
the first refused stack with the error text CloudFormation would give. Pure: no I/O.

Rules modelled (DOMAIN.md sections 1, 2 and 4):
- an export imported by another stack can be neither changed nor deleted;
- an import of a name nobody exports fails; an export name is unique per environment;
- ``cdk deploy X`` adds X's upstream stacks unless ``--exclusively``; dependencies
  deploy first; independent stacks of one wave may run in any order, so each is judged
  against the state before its wave (what holds for every interleaving);
- the CLI skips a stack whose template did not change unless ``--force``, except
  stacks with SSM-typed parameters, which it always deploys;
- weak references and SSM links resolve when the consumer deploys: a consumer deployed
  before its producer changes keeps the old value (stale).
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.plans.deploy_command import DeployCommand


@dataclass(frozen=True)
class StackSpec:
    """One version of one stack, reduced to what matters for references."""

    id: str  # hierarchical id, what `cdk deploy` selects
    name: str  # CloudFormation stack name
    template: str  # token: changes whenever the template changes
    dependencies: frozenset[str] = frozenset()  # ids
    exports: Mapping[str, str] = field(default_factory=dict)  # export name -> value token
    imports: frozenset[str] = frozenset()
    outputs: Mapping[str, str] = field(default_factory=dict)  # output id -> value token
    weak_reads: frozenset[tuple[str, str]] = frozenset()  # (producer stack name, output id)
    ssm_writes: Mapping[str, str] = field(default_factory=dict)  # parameter -> value token
    ssm_reads: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AppVersion:
    label: str
    stacks: Mapping[str, StackSpec]  # by id


@dataclass(frozen=True)
class Deployed:
    spec: StackSpec
    resolved: Mapping[str, str] = field(default_factory=dict)  # read key -> token it got


State = Mapping[str, Deployed]  # by stack name


@dataclass(frozen=True)
class Invocation:
    """A `cdk deploy` against one app version, or the deletion of a deployed stack."""

    version: AppVersion
    command: DeployCommand | None
    delete: str | None = None  # stack name, for `aws cloudformation delete-stack`


@dataclass(frozen=True)
class StepOutcome:
    command: str
    deployed: tuple[str, ...]
    skipped: tuple[str, ...]
    error: str | None = None


@dataclass(frozen=True)
class Simulation:
    steps: tuple[StepOutcome, ...]
    state: State
    error: str | None
    stale: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.error is None and not self.stale


class SelectionError(Exception):
    """A selector matches no stack: `cdk deploy` stops before deploying anything."""


# --- stack selection and order --------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _pattern(selector: str) -> re.Pattern[str]:
    # minimatch-style: `*` stays within one path segment, `**` crosses them.
    out = ""
    i = 0
    while i < len(selector):
        if selector.startswith("**", i):
            out += ".*"
            i += 2
        elif selector[i] == "*":
            out += "[^/]*"
            i += 1
        elif selector[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(selector[i])
            i += 1
    return re.compile(out + r"\Z")


_GLOB = re.compile(r"[*?]")


def select(version: AppVersion, command: DeployCommand) -> list[str]:
    """Stack ids `cdk deploy` will deploy, upstream stacks included unless exclusively."""
    if command.all_stacks:
        chosen = set(version.stacks)
    else:
        chosen = set()
        for selector in command.selectors:
            if not _GLOB.search(selector):  # a plain id matches only itself: no scan of every stack
                matched = {selector} if selector in version.stacks else set()
            else:
                pattern = _pattern(selector)
                matched = {i for i in version.stacks if pattern.match(i)}
            if not matched:
                raise SelectionError(f"No stack found matching '{selector}'")
            chosen |= matched
        if not command.selectors:
            if len(version.stacks) != 1:
                raise SelectionError(
                    "Since this app includes more than a single stack, specify which stacks "
                    "to use (wildcards are supported) or specify `--all`"
                )
            chosen = set(version.stacks)
    if not command.exclusively:
        chosen |= upstream(version, chosen)
    return sorted(chosen)


def upstream(version: AppVersion, ids: Iterable[str]) -> set[str]:
    """Every stack the given ones depend on, directly or not (not the given ones themselves)."""
    seen: set[str] = set()
    todo = list(ids)
    while todo:
        for dep in version.stacks[todo.pop()].dependencies:
            if dep in version.stacks and dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def waves(version: AppVersion, ids: Iterable[str]) -> list[list[str]]:
    """Deploy order: each wave's stacks have every selected dependency in earlier waves.

    Kahn's algorithm, one wave at a time: linear in stacks and dependencies.
    """
    remaining = set(ids)
    waiting: dict[str, int] = {}  # selected dependencies not deployed yet
    dependents: dict[str, list[str]] = defaultdict(list)
    for i in remaining:
        deps = version.stacks[i].dependencies & remaining
        waiting[i] = len(deps)
        for dep in deps:
            dependents[dep].append(i)
    ready = sorted(i for i, n in waiting.items() if n == 0)
    out: list[list[str]] = []
    while ready:
        out.append(ready)
        remaining.difference_update(ready)
        following = []
        for i in ready:
            for dependent in dependents.get(i, ()):
                waiting[dependent] -= 1
                if waiting[dependent] == 0:
                    following.append(dependent)
        ready = sorted(following)
    if remaining:
        raise SelectionError(f"dependency cycle between {', '.join(sorted(remaining))}")
    return out


def widest_wave(version: AppVersion, ids: Iterable[str]) -> int:
    """The largest number of selected stacks that can deploy at the same time."""
    return max((len(w) for w in waves(version, ids)), default=1)


# --- one stack -------------------------------------------------------------------


class Index:
    """Who exports, imports and writes what in one state: lookups without scanning every stack.

    Kept in step with the state it was built from (``put``/``drop``), so judging N stacks
    against a state of N stacks costs N lookups, not N scans.
    """

    def __init__(self, state: State) -> None:
        self.exporters: dict[str, set[str]] = defaultdict(set)
        self.importers: dict[str, set[str]] = defaultdict(set)
        self.writers: dict[str, set[str]] = defaultdict(set)
        for name, deployed in state.items():
            self.put(name, deployed.spec)

    def put(self, name: str, spec: StackSpec) -> None:
        for export in spec.exports:
            self.exporters[export].add(name)
        for export in spec.imports:
            self.importers[export].add(name)
        for parameter in spec.ssm_writes:
            self.writers[parameter].add(name)

    def drop(self, name: str, spec: StackSpec) -> None:
        for export in spec.exports:
            self.exporters[export].discard(name)
        for export in spec.imports:
            self.importers[export].discard(name)
        for parameter in spec.ssm_writes:
            self.writers[parameter].discard(name)

    def replace(self, state: dict[str, Deployed], deployed: Deployed) -> None:
        """Put ``deployed`` into ``state`` in place of what had its name, and index it."""
        name = deployed.spec.name
        old = state.get(name)
        state[name] = deployed
        if old is not None and _same_names(old.spec, deployed.spec):  # most redeploys: nothing to re-index
            return
        if old is not None:
            self.drop(name, old.spec)
        self.put(name, deployed.spec)

    def importer_besides(self, export: str, besides: str) -> str | None:
        """The first stack (by name) besides ``besides`` that imports ``export``."""
        users = self.importers.get(export)
        if not users or users == {besides}:
            return None
        return min(n for n in users if n != besides)

    def exporter(self, export: str) -> str | None:
        owners = self.exporters.get(export)
        return min(owners) if owners else None

    def ssm_writer(self, parameter: str) -> str | None:
        owners = self.writers.get(parameter)
        return min(owners) if owners else None


def _same_names(old: StackSpec, new: StackSpec) -> bool:
    """Whether two versions of a stack export, import and write the same names (the index holds names only)."""
    return (old.imports == new.imports and old.exports.keys() == new.exports.keys()
            and old.ssm_writes.keys() == new.ssm_writes.keys())


def check_update(state: State, spec: StackSpec, app_parameters: frozenset[str] = frozenset(),
                 index: Index | None = None) -> str | None:
    """The CloudFormation error deploying ``spec`` over ``state`` would raise, if any.

    ``app_parameters``: SSM parameters some stack of the app writes; a read of one
    that is not deployed yet fails, while other parameters come from outside the app.
    ``index``: the state's index, when the caller keeps one.

    Each rule is checked in name order (the first error is reported, as before), but only
    on the names that can break it: an export kept at its value needs no importer lookup.
    """
    index = index or Index(state)
    current = state.get(spec.name)
    if current is not None:
        exports = spec.exports
        moved = sorted(e for e, token in current.spec.exports.items() if exports.get(e) != token)
        for export in moved:
            user = index.importer_besides(export, spec.name)
            if user is None:
                continue
            if export not in exports:
                return f"Export {export} cannot be deleted as it is in use by {user}"
            return f"Cannot update export {export} as it is in use by {user}"
    mine = {spec.name}
    taken = [e for e in spec.exports if index.exporters.get(e, mine) - mine]
    for export in sorted(taken):
        return f"Export with name {export} is already exported by stack {min(index.exporters[export] - mine)}"
    missing = [e for e in spec.imports if not index.exporters.get(e, mine) - mine]
    for export in sorted(missing):
        return f"No export named {export} found"
    for producer, output in sorted(spec.weak_reads):
        deployed = state.get(producer)
        if deployed is None or output not in deployed.spec.outputs:
            return f"Fn::GetStackOutput: stack {producer} has no output {output}"
    for parameter in sorted(spec.ssm_reads):
        if index.ssm_writer(parameter) is None and parameter in app_parameters:
            return f"Unable to fetch parameters [{parameter}] from parameter store for this account"
    return None


def _skipped(state: State, spec: StackSpec, force: bool) -> bool:
    current = state.get(spec.name)
    return (
        current is not None
        and current.spec.template == spec.template
        and not force
        and not spec.ssm_reads
    )


# --- plans -------------------------------------------------------------------------


def run(initial: State, invocations: Sequence[Invocation]) -> Simulation:
    """Apply each invocation in turn; stop at the first failure."""
    state: dict[str, Deployed] = dict(initial)
    index = Index(state)  # kept in step with ``state`` through every invocation
    steps: list[StepOutcome] = []
    for invocation in invocations:
        outcome = _invoke(state, index, invocation)
        steps.append(outcome)
        if outcome.error is not None:
            return Simulation(tuple(steps), state, outcome.error, stale_reads(state, index))
    return Simulation(tuple(steps), state, None, stale_reads(state, index))


def _invoke(state: dict[str, Deployed], index: Index, invocation: Invocation) -> StepOutcome:
    """Deploy (or delete) in place: ``state`` and ``index`` end as CloudFormation would leave them."""
    if invocation.delete is not None:
        return _delete(state, index, invocation.delete)
    version, command = invocation.version, invocation.command
    assert command is not None
    try:
        order = waves(version, select(version, command))
    except SelectionError as exc:
        return StepOutcome(command.raw, (), (), str(exc))
    app_parameters = frozenset(p for s in version.stacks.values() for p in s.ssm_writes)
    deployed: list[str] = []
    skipped: list[str] = []
    for wave in order:
        # Every stack of a wave is judged against the state before the wave; what it
        # deploys lands once the whole wave has been judged.
        landed: list[Deployed] = []
        errors = []
        for stack_id in wave:
            spec = version.stacks[stack_id]
            if _skipped(state, spec, command.force):
                skipped.append(stack_id)
                continue
            error = check_update(state, spec, app_parameters, index)
            if error is not None:
                errors.append(f"{spec.name}: {error}")
                continue  # rolled back: the deployed stack stays as it was
            landed.append(Deployed(spec, _resolve(state, spec, index)))
            deployed.append(stack_id)
        for outcome in landed:
            index.replace(state, outcome)
        if errors:
            return StepOutcome(command.raw, tuple(deployed), tuple(skipped), errors[0])
    return StepOutcome(command.raw, tuple(deployed), tuple(skipped))


def _delete(state: dict[str, Deployed], index: Index, name: str) -> StepOutcome:
    label = f"aws cloudformation delete-stack --stack-name {name}"
    current = state.get(name)
    if current is None:
        return StepOutcome(label, (), (), f"Stack with id {name} does not exist")
    for export in sorted(current.spec.exports):
        user = index.importer_besides(export, name)
        if user is not None:
            error = f"{name}: Export {export} cannot be deleted as it is in use by {user}"
            return StepOutcome(label, (), (), error)
    index.drop(name, current.spec)
    del state[name]
    return StepOutcome(label, (name,), ())


def stale_reads(state: State, index: Index | None = None) -> tuple[str, ...]:
    """Consumers whose weak/SSM value is older than what the producer now publishes."""
    stale = []
    index = index or Index(state)
    for name, deployed in sorted(state.items()):
        current = _resolve(state, deployed.spec, index)
        for key, token in sorted(deployed.resolved.items()):
            if key in current and current[key] != token:
                stale.append(f"{name} still holds the old value of {key.split(':', 1)[1]}")
    return tuple(stale)


def _resolve(state: State, spec: StackSpec, index: Index) -> dict[str, str]:
    resolved: dict[str, str] = {}
    for producer, output in spec.weak_reads:
        if producer in state and output in state[producer].spec.outputs:
            resolved[f"weak:{producer}.{output}"] = state[producer].spec.outputs[output]
    for parameter in spec.ssm_reads:
        writer = index.ssm_writer(parameter)
        if writer is not None:
            resolved[f"ssm:{parameter}"] = state[writer].spec.ssm_writes[parameter]
    return resolved


def resolved_reads(state: State, spec: StackSpec, index: Index | None = None) -> dict[str, str]:
    """What the weak and SSM reads of ``spec`` get when it is deployed over ``state``.

    ``index``: the state's index, when the caller keeps one (else one scan of ``state``).
    """
    return _resolve(state, spec, index or Index(state))


def deployed_state(version: AppVersion) -> dict[str, Deployed]:
    """The state after the whole version was deployed in order (a consistent start)."""
    state: dict[str, Deployed] = {}
    try:
        order = waves(version, version.stacks)
    except SelectionError:  # a dependency cycle: it is deployed all the same; reads resolve below
        order = [sorted(version.stacks)]
    index = Index(state)
    for wave in order:
        landed = [Deployed(spec, _resolve(state, spec, index)) for spec in (version.stacks[i] for i in wave)]
        for outcome in landed:
            index.replace(state, outcome)
    # Reads resolve against the final state: a deployed base is not stale.
    return {n: replace(d, resolved=_resolve(state, d.spec, index)) for n, d in state.items()}


def differences(state: State, target: AppVersion) -> list[str]:
    """Stacks of the target version the state does not (yet) match."""
    out = []
    for spec in sorted(target.stacks.values(), key=lambda s: s.id):
        deployed = state.get(spec.name)
        if deployed is None:
            out.append(f"{spec.name} is not deployed")
        elif deployed.spec.template != spec.template:
            out.append(f"{spec.name} is not at {target.label}")
    return out
