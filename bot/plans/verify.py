"""Verification by synthesis: build every state a plan deploys, for real.  [I/O]

For each plan the simulator accepted on its model, the states it deploys
(``bot.plans.states``) are made from scratch copies of the base and head trees with the
step's context flags and patches applied, synthesized with the app's own command, loaded,
and the plan's exact command lines are run in the simulator over those real templates
from the deployed base. A plan is ``synthesized`` only when every step is accepted, no
consumer is left stale, and every stack it deploys ends at the last state it deploys (head,
or head plus the flag the plan leaves set).

States are shared between plans and synthesized in parallel within a time budget; a plan
whose states did not finish keeps its ``modelled`` level, with the reason.
"""

from __future__ import annotations

import concurrent.futures
import json
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.core.assembly import AssemblyError, load_assembly
from bot.core.context import build_context
from bot.core.model import AnalysisResult, Assembly, Change, Finding, Level, Plan, Verification
from bot.plans import versions as app_versions
from bot.plans.command_lines import DELETE_STACK, simulate_commands, transcript
from bot.plans.deploy_command import parse_deploy
from bot.plans.patches import PatchError, apply
from bot.plans.simulate import AppVersion, SelectionError, deployed_state, differences, select
from bot.plans.simulate import State as Deployed
from bot.plans.states import Run, State, plan_run
from bot.plans.versions import Versions
from bot.workspace.synth import SynthCancelled, SynthError, cancelled_by, synthesize

# Synthesizes ``app_dir`` with extra context into a cloud assembly; returns its folder.
Synth = Callable[[Path, Path, Mapping[str, str]], Path]
_COPY_IGNORE = shutil.ignore_patterns("cdk.out", ".git", "__pycache__", "*.pyc", ".venv", "node_modules")


@dataclass(frozen=True)
class Tree:
    """One side's source: the app folder, and context it is always synthesized with."""

    path: Path
    context: Mapping[str, str] = field(default_factory=dict)
    # The folder each state copies around the app (the repository root): apps read files
    # outside their own folder (``Code.from_asset('../functions')`` next to ``cdk/``), and a
    # copy of the app folder alone cannot synthesize them. None: the app folder alone.
    root: Path | None = None


def root_above(app_dir: Path, depth: int) -> Path:
    """The folder ``depth`` levels above ``app_dir``: the checkout's root when the app is
    ``depth`` folders deep in it (the same app folder in the base and head checkouts)."""
    resolved = app_dir.resolve()
    return resolved.parents[depth - 1] if 0 < depth <= len(resolved.parents) else resolved


@dataclass(frozen=True)
class VerifyOptions:
    base: Tree | None  # None: states on the base branch cannot be built (no base source)
    head: Tree
    budget_seconds: float = 300.0
    workers: int = 2
    app_command: str | None = None
    synth: Synth | None = None  # default: bot.workspace.synth.synthesize with app_command
    # The given base/head assemblies were synthesized from these trees the same way (the
    # Action): reuse them. Otherwise (the CLI) base and head are synthesized too, so every
    # state is built alike and the deployed base is the base tree's own synth.
    reuse_assemblies: bool = True
    env: Mapping[str, str] = field(default_factory=dict)  # extra environment for synth
    log: Callable[[str], None] = lambda _line: None


@dataclass(frozen=True)
class _Built:
    version: AppVersion | None
    problem: str | None = None  # why the state could not be built
    modelled_only: bool = False  # not built for lack of time or source: the model's word stands


def verify_plans(result: AnalysisResult, base_assembly: Path, head_assembly: Path,
                 options: VerifyOptions) -> AnalysisResult:
    """The result with every model-checked plan rebuilt and checked on synthesized templates."""
    runs: dict[int, Run | str] = {}
    states: dict[State, None] = {}
    for plan in _plans(result.findings):
        if plan.checked and id(plan) not in runs:
            run = plan_run(plan)
            runs[id(plan)] = run
            if isinstance(run, Run):
                states.update((s, None) for s, _ in run.commands)
    ready: dict[State, Path] = {State("base"): base_assembly, State("head"): head_assembly}
    with tempfile.TemporaryDirectory(prefix="cdk-export-guard-states-") as scratch:
        if not options.reuse_assemblies:
            ready = {}
            if options.base is not None:
                states = {State("base"): None, **states}
            else:
                ready[State("base")] = base_assembly
        folders = _synthesize_all(list(states), ready, Path(scratch), options) if states else {}
        base_folder = folders.get(State("base"), ready.get(State("base")))
        if not states:
            built, base = {}, None
        elif not isinstance(base_folder, Path):
            problem = base_folder.problem if isinstance(base_folder, _Built) else "not built"
            built = {state: _Built(None, f"the base state could not be built: {problem}", True) for state in states}
            base = None
        else:
            base = load_assembly(base_folder)
            built = {state: _load(base, folder, state.label) for state, folder in folders.items()}
        base_version = Versions(build_context(base, base)).base if base is not None else None
        initial = deployed_state(base_version) if base_version is not None else {}
        checked: dict[int, Plan] = {}

        def check(plan: Plan) -> Plan:
            if id(plan) not in checked:
                checked[id(plan)] = _check(plan, runs.get(id(plan)), built, initial)
            return checked[id(plan)]

        findings = tuple(replace(f, remediation=_promote(f.remediation, check)) if f.remediation else f
                         for f in result.findings)
    return replace(result, findings=findings)


def _load(base: Assembly, folder: Path | _Built, label: str) -> _Built:
    if isinstance(folder, _Built):
        return folder
    try:
        return _Built(_version(base, load_assembly(folder), label))
    except (AssemblyError, OSError, ValueError) as exc:
        return _Built(None, _one_line(exc))


def _plans(findings: Iterable[Finding]) -> Iterable[Plan]:
    for finding in findings:
        if finding.remediation is not None:
            yield finding.remediation
            yield from finding.remediation.alternatives


def _promote(plan: Plan, check: Callable[[Plan], Plan]) -> Plan:
    """Check the plan and its alternatives; a synthesized alternative replaces a primary
    plan that failed on the real templates."""
    primary = check(plan)
    alternatives = [check(a) for a in plan.alternatives]
    if primary.verification.level is Level.NONE and plan.checked:
        better = next((a for a in alternatives if a.verified), None)
        if better is not None:
            rest = [a for a in alternatives if a is not better]
            return replace(better, alternatives=(replace(primary, alternatives=()), *rest),
                           pipeline_edits=better.pipeline_edits, covers=better.covers or plan.covers)
    return replace(primary, alternatives=tuple(alternatives))


def _check(plan: Plan, run: Run | str | None, built: Mapping[State, _Built],
           initial: Deployed) -> Plan:
    if run is None or not plan.checked:
        return plan
    if isinstance(run, str):
        return _keep_modelled(plan, f"not synthesized: {run}")
    labels = tuple(dict.fromkeys(s.label for s, _ in run.commands))
    versions: list[tuple[AppVersion, str]] = []
    for state, line in run.commands:
        outcome = built.get(state)
        if outcome is None or outcome.version is None:
            problem = outcome.problem if outcome else "not built"
            if outcome is None or outcome.modelled_only:
                return _keep_modelled(plan, f"not synthesized: {problem}")
            return replace(plan, verification=Verification(Level.NONE, labels, f"state {state.label}: {problem}"))
        versions.append((outcome.version, line))
    try:
        simulation = simulate_commands(initial, versions)
    except ValueError as exc:
        return replace(plan, verification=Verification(Level.NONE, labels, str(exc)))
    lines = transcript(simulation)
    if not simulation.ok:
        failure = simulation.error or simulation.stale[0]
        return replace(plan, simulation=lines, verification=Verification(
            Level.NONE, labels, f"synthesized, and the real templates are refused: {failure}"))
    try:
        target = restrict_to_selected(versions)
    except SelectionError as exc:
        return replace(plan, simulation=lines, verification=Verification(Level.NONE, labels, str(exc)))
    missing = differences(simulation.state, target)
    if missing:
        return replace(plan, simulation=(*lines, *(f"not reached: {m}" for m in missing)),
                       verification=Verification(Level.NONE, labels, f"synthesized; not reached: {missing[0]}"))
    return replace(plan, simulation=lines, verification=Verification(
        Level.SYNTHESIZED, labels, "its changes were applied, synthesized, and the real templates are accepted"))


def restrict_to_selected(commands: list[tuple[AppVersion, str]]) -> AppVersion:
    """The last state, limited to the stacks the plan's commands deploy: where it must end."""
    ids: set[str] = set()
    for version, line in commands:
        command = None if line.startswith(DELETE_STACK) else parse_deploy(line)
        if command is not None:
            ids.update(select(version, command))
    return app_versions.restrict(commands[-1][0], ids)


def _keep_modelled(plan: Plan, reason: str) -> Plan:
    return replace(plan, verification=replace(plan.verification, reason=f"{plan.verification.reason}; {reason}"))


def _synthesize_all(states: list[State], ready: Mapping[State, Path], scratch: Path,
                    options: VerifyOptions) -> dict[State, Path | _Built]:
    """Each state's assembly folder, or why it is missing; in parallel, within the budget.

    When the budget runs out, states not started are dropped and running ones are cancelled:
    their synth's process group is ended and their scratch folder removed before this returns.
    """
    deadline = time.monotonic() + options.budget_seconds
    out: dict[State, Path | _Built] = {}
    stop = threading.Event()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, options.workers))
    futures: dict[concurrent.futures.Future[Path], State] = {}
    try:
        for number, state in enumerate(states):
            if state in ready:  # base or head as given: already synthesized
                out[state] = ready[state]
            elif _tree(state, options) is None:
                out[state] = _Built(None, "the base branch's source was not given (--base-source)", True)
            else:
                futures[pool.submit(_cancellable, state, scratch / f"state-{number}", options, stop)] = state
        try:
            for future in concurrent.futures.as_completed(futures, timeout=max(0.0, deadline - time.monotonic())):
                state = futures[future]
                try:
                    out[state] = future.result()
                    options.log(f"[verify] synthesized {state.label}")
                except (SynthError, PatchError, AssemblyError, OSError, ValueError) as exc:
                    alone = isinstance(exc, SynthError) and _alone(state, options)
                    why = _one_line(exc) + (_ALONE_HINT if alone else "")
                    out[state] = _Built(None, why)
                    options.log(f"[verify] {state.label}: {why}")
        except concurrent.futures.TimeoutError:
            pass
        budget = f"the synthesis budget of {options.budget_seconds:g}s (--verify-budget) ran out"
        for future, state in futures.items():
            if state not in out:
                running = future.running()
                out[state] = _Built(None, f"{budget} while this state was being synthesized: cancelled" if running
                                    else f"{budget} before this state was built", True)
    finally:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        # Running synths see ``stop`` within a fraction of a second and end their process group.
        concurrent.futures.wait(list(futures), timeout=_CANCEL_GRACE_SECONDS)
    return out


_CANCEL_GRACE_SECONDS = 15.0  # synth's own SIGTERM grace is 5 s, then SIGKILL


def _cancellable(state: State, folder: Path, options: VerifyOptions, stop: threading.Event) -> Path:
    """Build one state unless cancelled; a cancelled or failed state leaves no scratch folder."""
    if stop.is_set():
        raise SynthCancelled("cancelled before it started")
    try:
        with cancelled_by(stop, tmpdir=folder / "tmp"):
            return _synthesize(state, folder, options)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _version(base: Assembly, state: Assembly, label: str) -> AppVersion:
    return Versions(build_context(base, state)).state(label)


def _synthesize(state: State, folder: Path, options: VerifyOptions) -> Path:
    """Build one state in ``folder`` (its ``app`` copy and ``cdk.out``); the tree is only read."""
    tree = _tree(state, options)
    assert tree is not None
    app = scratch_copy(tree, folder)
    for installed in ("node_modules", ".venv"):  # the dependencies as installed, not copied
        dependencies = _installed(tree.path, installed)
        if dependencies is not None:
            (app / installed).symlink_to(dependencies.resolve(), target_is_directory=True)
    apply_changes(app, state.changes)
    context = dict(tree.context)
    if options.synth is not None:
        return options.synth(app, folder / "cdk.out", context)
    return synthesize(app, folder / "cdk.out", app_command=options.app_command, context=context,
                      extra_env=options.env).out_dir


def scratch_copy(tree: Tree, folder: Path) -> Path:
    """Copy ``tree``'s root (or its app folder alone) into ``folder``; the app folder's copy."""
    root = (tree.root or tree.path).resolve()
    inside = tree.path.resolve().relative_to(root)
    shutil.copytree(root, folder / "tree", ignore=_COPY_IGNORE, symlinks=True)
    return folder / "tree" / inside


def _installed(tree: Path, name: str) -> Path | None:
    """The app's installed dependencies: its own folder; for ``node_modules`` also the nearest
    one above it up to the repository root, where npm/yarn workspaces hoist them. Node resolves
    packages from the file's ancestors, which the scratch copy does not have."""
    own = tree / name
    if own.is_dir():
        return own
    if name != "node_modules":
        return None
    for folder in tree.resolve().parents:
        if (folder / name).is_dir():
            return folder / name
        if (folder / ".git").exists():
            break
    return None


def apply_changes(app: Path, changes: Iterable[Change]) -> None:
    """Apply context flags (to cdk.json) and patches to an app folder, in order."""
    for change in changes:
        if change.kind == "context" and change.key:
            config_path = app / "cdk.json"
            config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
            config.setdefault("context", {})[change.key] = change.value
            config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        elif change.kind == "patch" and change.path and change.diff:
            target = (app / change.path).resolve()
            if not target.is_relative_to(app.resolve()):
                raise PatchError(f"patch path {change.path} leaves the app folder")
            # newline="" keeps the file's line endings: the patch was made against its exact
            # text (\r\n included), as git apply reads it; a byte-order mark is not part of it
            with open(target, encoding="utf-8", newline="") as handle:
                text = handle.read()
            mark = "\ufeff" if text.startswith("\ufeff") else ""
            with open(target, "w", encoding="utf-8", newline="") as handle:
                handle.write(mark + apply(text.removeprefix(mark), change.diff))
        else:
            raise PatchError(f"a {change.kind} change cannot be applied by a tool")


_ALONE_HINT = (" (the state copied the app folder alone: if the app reads files beside it, such as"
               " ../functions, give the repository root with --repo)")


def _tree(state: State, options: VerifyOptions) -> Tree | None:
    """The source tree ``state`` is built from (None: the base branch's was not given)."""
    return options.base if state.tree == "base" else options.head


def _alone(state: State, options: VerifyOptions) -> bool:
    """Whether ``state``'s tree is copied without the folders around the app."""
    tree = _tree(state, options)
    return tree is not None and (tree.root is None or tree.root.resolve() == tree.path.resolve())


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
