"""Finding -> plan: the fix that works, as commands and code people paste.

Each candidate plan is a list of `cdk deploy` command lines, each run against one
version of the app (base, head, or an intermediate change the plan asks for). The
command text shown is parsed back and run in the simulator from the deployed (base)
state; a plan is ``verified`` only when that run reaches the plan's target for every
stack it touches, with no refusal and no stale consumer. DOMAIN.md section 5 is the
source of each strategy. Pure: no I/O.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from bot import versions
from bot.analysis import Context, build_context
from bot.deploy_command import DeployCommand, parse_deploy, render_deploy
from bot.deploy_sites import DeploySite, EditError, propose_edit
from bot.gcpause import paused
from bot.model import (
    AnalysisResult,
    CodeLocation,
    Finding,
    Level,
    PipelineEdit,
    Plan,
    ReferenceKind,
    Severity,
    Stack,
    StackKey,
    Step,
    Verification,
)
from bot.simulate import (
    AppVersion,
    Invocation,
    SelectionError,
    Simulation,
    State,
    deployed_state,
    differences,
    run,
    select,
    upstream,
    widest_wave,
)

WEAK_REFERENCES_SINCE = (2, 254, 0)
MODELLED_REASON = "checked on a model of the change, not synthesized"
FLAG = "@aws-cdk/core:defaultCrossStackReferences"


@dataclass(frozen=True)
class Candidate:
    plan: Plan
    invocations: tuple[tuple[AppVersion, str], ...]  # (version, command line)
    target: AppVersion


@paused
def attach_plans(
    result: AnalysisResult,
    context: Context | None = None,
    code: Mapping[str, CodeLocation] | None = None,
    sites: Sequence[DeploySite] = (),
) -> AnalysisResult:
    """Return the result with a verified-where-possible plan on every finding.

    ``code``: source locations of constructs by construct path; ``sites``: the
    repository's `cdk deploy` commands (pipelines, workflows, scripts). Both are found
    by the caller (I/O); here they are only checked against the plans.
    """
    context = context or build_context(result.base, result.head)
    planner = _Planner(context, code or {}, sites)
    findings = tuple(replace(f, remediation=planner.plan(f)) for f in result.findings)
    return replace(result, findings=blocked_by_blockers(findings))


def blocked_by_blockers(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """Check order: a lesser finding's plan is not accepted while a blocker on its stacks stands.

    Its plan was checked with only its own change moving; run as given in this pull request,
    the blocker's producer is refused first. It is accepted again once the blocker's plan
    (which deploys this pull request at its end) covers it.
    """
    blockers = [f for f in findings if f.severity is Severity.BLOCKER]
    out = []
    for finding in findings:
        plan = finding.remediation
        stacks = {finding.producer, *finding.consumers} - {""}
        blocker = next((b for b in blockers if b is not finding and stacks & {b.producer, *b.consumers}
                        and not (plan is not None and b.id in plan.covers)), None)
        if finding.severity is Severity.BLOCKER or plan is None or blocker is None or not plan.checked:
            out.append(finding)
            continue
        shared = sorted(stacks & {blocker.producer, *blocker.consumers})
        reason = (f"not on its own: blocker {blocker.id} ({blocker.rule}, {blocker.subject}) makes CloudFormation "
                  f"refuse this pull request on {_names(shared)}; follow that blocker's plan first")
        verification = replace(plan.verification, level=Level.NONE, reason=reason)
        out.append(replace(finding, remediation=replace(plan, verification=verification)))
    return tuple(out)


def deploy_command(
    selectors: Sequence[str], *, exclusively: bool = False, concurrency: int = 1, force: bool = False
) -> str:
    """The exact `cdk deploy` line, stack ids quoted for a POSIX shell."""
    command = DeployCommand(tuple(selectors), False, exclusively, concurrency, force, raw="")
    return render_deploy(command)


DELETE_STACK = "aws cloudformation delete-stack --stack-name "


def simulate_commands(initial: State, steps: Iterable[tuple[AppVersion, str]]) -> Simulation:
    """Run command lines exactly as shown to people (`cdk deploy ...` or a stack deletion)."""
    invocations = []
    for version, line in steps:
        if line.startswith(DELETE_STACK):
            invocations.append(Invocation(version, None, delete=shlex.split(line)[-1]))
            continue
        command = parse_deploy(line)
        if command is None:
            raise ValueError(f"not a cdk deploy command: {line}")
        invocations.append(Invocation(version, command))
    return run(initial, invocations)


def transcript(simulation: Simulation) -> tuple[str, ...]:
    lines = []
    for step in simulation.steps:
        if step.error:
            lines.append(f"{step.command}: refused: {step.error}")
        else:
            done = ", ".join(step.deployed) or "nothing"
            skipped = f" (skipped unchanged: {', '.join(step.skipped)})" if step.skipped else ""
            lines.append(f"{step.command}: deployed {done}{skipped}")
    lines.extend(f"stale: {s}" for s in simulation.stale)
    return tuple(lines)


class _Planner:
    def __init__(self, context: Context, code: Mapping[str, CodeLocation], sites: Sequence[DeploySite]) -> None:
        self.context = context
        self.code = code
        self.sites = sites
        self.versions = versions.Versions(context)
        self.full_base = self.versions.base
        self.full_initial = deployed_state(self.full_base)
        self.base, self.initial = self.full_base, self.full_initial
        self._publishers = [_publishers(self.full_base), _publishers(self.versions.skeleton)]
        self.library = context.head.cdk_library_version or context.base.cdk_library_version
        self.stacks: dict[StackKey, Stack] = {s.key: s for s in context.base.all_stacks()}
        self.stacks.update({s.key: s for s in context.head.all_stacks()})

    # -- entry ---------------------------------------------------------------------

    def plan(self, finding: Finding) -> Plan:
        try:
            return self._plan(finding)
        except (KeyError, AssertionError, SelectionError) as exc:
            # Never let one odd finding stop the report; say plainly there is no checked plan.
            return Plan(
                "manual",
                "No plan could be checked for this finding automatically "
                f"({type(exc).__name__}: {exc}); review the deploy order by hand.",
                (),
            )

    def _plan(self, finding: Finding) -> Plan:
        producer = self._selector(finding.producer_key) if finding.producer_key else None
        consumers = sorted({self._selector(k) for k in finding.consumer_keys})
        # Simulate only the stacks this finding can involve: linear work per finding.
        scope = self._closure([i for i in [producer, *consumers] if i is not None])
        head = versions.restrict(self.versions.head(finding), scope)
        self.base = versions.restrict(self.full_base, scope)
        names = {spec.name for spec in self.base.stacks.values()} | {spec.name for spec in head.stacks.values()}
        self.initial = {name: d for name, d in self.full_initial.items() if name in names}
        if finding.rule == "import-missing-export" and finding.severity is not Severity.BLOCKER:
            return self._external(finding)
        assert producer is not None
        gone = [c for c in consumers if c not in head.stacks]
        if gone:
            return self._choose(self._consumers_gone(finding, head, producer, consumers, gone))
        if finding.rule in ("export-value-change-in-use", "export-value-may-change-in-use"):
            candidates = self._split(finding, head, producer, consumers)
        elif finding.rule == "export-removed-in-use":
            candidates = self._removed(finding, head, producer, consumers)
        elif finding.rule == "import-missing-export":
            candidates = self._restore(finding, head, producer, consumers)
        else:
            candidates = self._ordered(finding, head, producer, consumers)
        return self._choose(candidates)

    def _closure(self, ids: list[str]) -> set[str]:
        """The stacks a deploy of ``ids`` can touch or needs: upstream dependencies and
        whatever publishes what they read (hand-named imports declare no dependency)."""
        seen: set[str] = set()
        todo = list(ids)
        while todo:
            stack_id = todo.pop()
            if stack_id in seen:
                continue
            seen.add(stack_id)
            for version, publishers in zip((self.full_base, self.versions.skeleton), self._publishers, strict=True):
                spec = version.stacks.get(stack_id)
                if spec is None:
                    continue
                todo.extend(spec.dependencies)
                reads = [*spec.imports, *(f"output:{p}" for p, _ in spec.weak_reads), *spec.ssm_reads]
                todo.extend(publishers[r] for r in reads if r in publishers)
        return seen

    def _choose(self, candidates: list[Candidate]) -> Plan:
        """The first verified candidate, with the other verified ones as alternatives.

        Unverified candidates are shown only when none verifies, with what failed.
        The chosen plan also gets the pipeline edits its last deploy needs.
        """
        checked = [(self._verify(c), c) for c in candidates]
        accepted = [(p, c) for p, c in checked if p.checked]
        pool = accepted or checked
        (best, candidate), rest = pool[0], pool[1:]
        edits = self._pipeline_edits(candidate) if best.checked else ()
        steps = best.steps
        if edits:
            steps = (*steps, Step(
                title="Make the pipeline deploy it this way",
                kind="pipeline-edit",
                detail="Where the repository deploys, the command deploys too few stacks or in an order "
                "that fails; the edits below were checked in the simulator.",
            ))
        return replace(best, steps=steps, pipeline_edits=edits,
                       alternatives=tuple(p for p, _ in rest) + best.alternatives)

    def _verify(self, candidate: Candidate) -> Plan:
        states = tuple(dict.fromkeys(version.label for version, _ in candidate.invocations))
        try:
            simulation = simulate_commands(self.initial, candidate.invocations)
        except ValueError as exc:
            return replace(candidate.plan, simulation=(str(exc),),
                           verification=Verification(Level.NONE, states, str(exc)))
        missing = differences(simulation.state, candidate.target) if simulation.error is None else []
        lines = transcript(simulation) + tuple(f"not reached: {m}" for m in missing)
        if simulation.ok and not missing:
            verification = Verification(Level.MODELLED, states, MODELLED_REASON)
        else:
            failure = simulation.error or (simulation.stale[0] if simulation.stale else f"not reached: {missing[0]}")
            verification = Verification(Level.NONE, states, f"the simulator refuses it on the model: {failure}")
        return replace(candidate.plan, verification=verification, simulation=lines)

    def _pipeline_edits(self, candidate: Candidate) -> tuple[PipelineEdit, ...]:
        """Deploy commands in the repository that would run the plan's last step wrongly.

        The commands of one file run in order (a buildspec's phases, a workflow's steps,
        a pipeline's command list), so each file's deploys are simulated as a sequence
        in place of the plan's last step, after its earlier steps. When that fails or
        leaves a consumer behind, the file's first deploy that selects a stack of the
        step is rewritten with the missing stacks and flags (keeping its own runner and
        options); the edit is kept only if the file's sequence then verifies.
        """
        *before, (version, last_line) = candidate.invocations
        wanted = parse_deploy(last_line) if not last_line.startswith(DELETE_STACK) else None
        if wanted is None or " && " in last_line:
            return ()
        try:
            wanted_ids = set(select(version, wanted))
        except SelectionError:
            return ()
        by_file: dict[str, list[DeploySite]] = {}
        for site in self.sites:
            # Deploys of stacks this app does not have belong to another app or stage.
            if site.command.all_stacks or self._selects(version, site.command):
                by_file.setdefault(site.path, []).append(site)
        edits = []
        for sites in by_file.values():
            relevant = [s for s in sites if s.command.all_stacks or self._selects(version, s.command) & wanted_ids]
            if not relevant:
                continue
            lines = [render_deploy(s.command) for s in sites]
            if self._sequence_reaches(candidate, before, version, lines):
                continue
            edit = self._minimal_edit(candidate, before, version, sites, relevant, wanted, lines)
            if edit is not None:
                edits.append(edit)
        return tuple(edits)

    @staticmethod
    def _selects(version: AppVersion, command: DeployCommand) -> set[str]:
        try:
            return set(select(version, command))
        except SelectionError:
            return set()

    def _sequence_reaches(self, candidate: Candidate, before: list[tuple[AppVersion, str]], version: AppVersion,
                          lines: list[str]) -> bool:
        try:
            simulation = simulate_commands(self.initial, [*before, *((version, line) for line in lines)])
        except ValueError:
            return False
        return simulation.ok and not differences(simulation.state, candidate.target)

    def _minimal_edit(self, candidate: Candidate, before: list[tuple[AppVersion, str]], version: AppVersion,
                      sites: list[DeploySite], relevant: list[DeploySite], wanted: DeployCommand,
                      lines: list[str]) -> PipelineEdit | None:
        """The smallest rewrite of one deploy in the file that makes the file's sequence work."""
        for site in relevant:
            for fixed in self._rewrites(site.command, wanted, version):
                trial = list(lines)
                trial[sites.index(site)] = fixed
                if self._sequence_reaches(candidate, before, version, trial):
                    try:
                        return propose_edit(site, fixed)
                    except EditError:
                        break
        return None

    def _rewrites(self, site: DeployCommand, wanted: DeployCommand, version: AppVersion) -> list[str]:
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
                width = widest_wave(version, select(version, variant))
            except SelectionError:
                continue
            out.append(render_deploy(replace(variant, concurrency=max(site.concurrency, width))))
        return out

    def _selector(self, key: StackKey) -> str:
        """What `cdk deploy` accepts: the hierarchical id (``Prod/Service``)."""
        stack = self.stacks[key]
        while stack.parent is not None:  # nested stacks deploy with their parent
            stack = self.stacks[stack.parent]
        return stack.hierarchical_id

    def _command(self, version: AppVersion, selectors: Sequence[str], *, exclusively: bool = False,
                 force: bool = False) -> str:
        """A deploy line with --concurrency set to the widest wave it can run."""
        line = deploy_command(selectors, exclusively=exclusively, force=force)
        parsed = parse_deploy(line)
        width = 1
        if parsed is not None:
            try:
                width = widest_wave(version, select(version, parsed))
            except SelectionError:
                width = 1
        return deploy_command(selectors, exclusively=exclusively, force=force, concurrency=width)

    def _naive_failure(self, head: AppVersion, producer: str, consumers: list[str]) -> str | None:
        line = self._command(head, [producer, *consumers])
        simulation = simulate_commands(self.initial, [(head, line)])
        return f"`{line}` fails: {simulation.error}" if simulation.error else None

    def _code_step(self, finding: Finding) -> CodeLocation | None:
        for cause in finding.causes:
            path = cause.details.get("construct_path")
            if isinstance(path, str) and path in self.code:
                return self.code[path]
        return None

    # -- strategies ------------------------------------------------------------------

    def _split(self, finding: Finding, head: AppVersion, producer: str, consumers: list[str]) -> list[Candidate]:
        export = finding.export
        assert export is not None
        both_ids = [producer, *consumers]
        naive = self._naive_failure(head, producer, consumers)
        refusal = (
            f"No single deploy can ship this change: CloudFormation refuses to change export "
            f"{export} while {_names(finding.consumers)} import{'s' if len(consumers) == 1 else ''} "
            f"it, and deploying both together does not help — the CLI deploys {producer} first "
            "and it is refused the same way"
            + (f" (simulated: {naive})" if naive else "")
            + ". Split the change in two."
        )
        weak_ok = _version_at_least(self.library, WEAK_REFERENCES_SINCE)
        location = self._code_step(finding)
        candidates: list[Candidate] = []
        if weak_ok is not False:
            v1 = versions.weak_switch(self.base, export, producer, consumers, keep_export=True, label="both")
            v2 = versions.weak_switch(head, export, producer, consumers, keep_export=False, label="weak")
            first = self._command(v1, both_ids)
            second = self._command(v2, both_ids, force=True)
            steps = (
                Step(title="Split this pull request: land change 1 alone first, then this change",
                     kind="split"),
                Step(
                    title=f"Change 1 (without this PR's change): set `{FLAG}` to `both` in cdk.json, "
                    "merge and deploy",
                    kind="code-change",
                    detail=(
                        f'In cdk.json, under "context": `"{FLAG}": "both"`. {producer} keeps the '
                        f"export and also publishes a plain output; {_names(consumers)} "
                        f"{'switches' if len(consumers) == 1 else 'switch'} to Fn::GetStackOutput and "
                        f"{'stops' if len(consumers) == 1 else 'stop'} importing the export."
                    ),
                    commands=(first,),
                    code=CodeLocation("json", "cdk.json", None, f'"{FLAG}": "both"'),
                ),
                Step(
                    title=f"Change 2: this PR's change, with `{FLAG}` set to `weak`; deploy the "
                    "producer, then the consumers",
                    kind="deploy",
                    detail=(
                        "`--force`: the consumers' templates do not change, and the CLI skips a "
                        "stack whose template is unchanged; forced, they deploy after "
                        f"{producer} and read its new value."
                    ),
                    commands=(second,),
                    code=location,
                ),
            )
            candidates.append(
                Candidate(
                    Plan("split-weak-reference", refusal, steps),
                    ((v1, first), (v2, second)),
                    versions.restrict(v2, both_ids),
                )
            )
        parameter = f"/cdk-export-guard/{_slug(export)}"
        s1 = versions.ssm_switch(self.base, export, producer, consumers, parameter=parameter,
                                 keep_export=True, label="ssm")
        s2 = versions.ssm_switch(head, export, producer, consumers, parameter=parameter,
                                 keep_export=False, label="ssm-only")
        first = self._command(s1, both_ids)
        second = self._command(s2, both_ids)
        ssm_steps = (
            Step(title="Split this pull request: land change 1 alone first, then this change",
                 kind="split"),
            Step(
                title="Change 1 (without this PR's change): pass the value through an SSM parameter",
                kind="code-change",
                detail=(
                    f"In {producer}: `ssm.StringParameter(self, \"...\", parameter_name=\"{parameter}\", "
                    "string_value=<the exported attribute>)`; in each consumer: "
                    f"`ssm.StringParameter.value_for_string_parameter(self, \"{parameter}\")` instead "
                    "of the attribute, and `consumer.add_dependency(producer)` (placeholders in <>; the "
                    "parameter name is a suggestion). Keep the old reference out of the consumers."
                ),
                commands=(first,),
            ),
            Step(
                title="Change 2: this PR's change; deploy the producer, then the consumers",
                kind="deploy",
                detail="The CLI always redeploys stacks with SSM parameters, so the consumers "
                "read the new value.",
                commands=(second,),
                code=location,
            ),
        )
        candidates.append(
            Candidate(
                Plan("split-ssm-parameter", refusal, ssm_steps),
                ((s1, first), (s2, second)),
                versions.restrict(s2, both_ids),
            )
        )
        d1 = versions.detach(self.base, export, consumers, label="detached")
        d2 = versions.detach(head, export, consumers, label="detached-head")
        steps3 = [
            (d1, self._command(d1, consumers, exclusively=True)),
            (d2, self._command(d2, [producer], exclusively=True)),
            (head, self._command(head, both_ids)),
        ]
        candidates.append(
            Candidate(
                Plan(
                    "detach-and-restore",
                    "Without weak references: stop using the value in the consumers and deploy "
                    "them first, then ship the producer's change, then restore the reference "
                    "(three deploys, two releases).",
                    (
                        Step(title=f"Release 1a: remove the reference from {_names(consumers)}; "
                             f"deploy {'it' if len(consumers) == 1 else 'them'} alone", kind="code-change",
                             commands=(steps3[0][1],)),
                        Step(title=f"Release 1b: deploy {producer} with this PR's change",
                             kind="deploy", commands=(steps3[1][1],)),
                        Step(title="Release 2: restore the reference", kind="deploy",
                             commands=(steps3[2][1],)),
                    ),
                ),
                tuple(steps3),
                versions.restrict(head, both_ids),
            )
        )
        return candidates

    def _removed(self, finding: Finding, head: AppVersion, producer: str, consumers: list[str]) -> list[Candidate]:
        export = finding.export
        assert export is not None
        first = self._command(head, consumers, exclusively=True)
        then = self._command(head, [producer], exclusively=True)
        consumers_first = Candidate(
            Plan(
                "deploy-consumers-first",
                f"Deploy {_names(consumers)} first, on {'its' if len(consumers) == 1 else 'their'} "
                f"own, so {'it stops' if len(consumers) == 1 else 'they stop'} importing {export}; "
                f"then deploy {producer}.",
                (
                    Step(title=f"Deploy {_names(consumers)} alone", kind="deploy", commands=(first,)),
                    Step(title=f"Then deploy {producer}", kind="deploy", commands=(then,)),
                ),
                deploy_command=f"{first} && {then}",
            ),
            ((head, first), (head, then)),
            versions.restrict(head, [producer, *consumers]),
        )
        token = self.base.stacks[producer].exports.get(export, f"{export}@base") \
            if producer in self.base.stacks else f"{export}@base"
        kept = versions.keep_export(head, export, producer, token, label="kept")
        release1 = self._command(kept, [producer, *consumers])
        release2 = self._command(head, [producer], exclusively=True)
        keep = Candidate(
            Plan(
                "keep-export-one-release",
                f"Keep exporting {export} from {producer} for one more release "
                "(`stack.export_value(...)` re-creates exactly this export name), deploy, then "
                "remove it in a later release once nothing imports it.",
                (
                    Step(
                        title=f"Release 1: in {producer}, keep the export; deploy producer then consumers",
                        kind="code-change",
                        detail=(
                            f'`self.export_value(<the attribute it exported>, name="{export}")` '
                            "(the attribute is a placeholder: the value the export carries today)."
                        ),
                        commands=(release1,),
                        code=self._code_step(finding),
                    ),
                    Step(title="Release 2: remove the export_value line; deploy the producer",
                         kind="deploy", commands=(release2,)),
                ),
            ),
            ((kept, release1), (head, release2)),
            versions.restrict(head, [producer, *consumers]),
        )
        return [consumers_first, keep]

    def _restore(self, finding: Finding, head: AppVersion, producer: str, consumers: list[str]) -> list[Candidate]:
        export = finding.export
        assert export is not None
        token = self.base.stacks[producer].exports.get(export, f"{export}@base") \
            if producer in self.base.stacks else f"{export}@base"
        kept = versions.keep_export(head, export, producer, token, label="kept")
        line = self._command(kept, [producer, *consumers])
        return [
            Candidate(
                Plan(
                    "restore-export",
                    f"{_names(finding.consumers)} still import{'s' if len(consumers) == 1 else ''} "
                    f"{export}: keep exporting it from {producer} (`stack.export_value(...)`), or "
                    "change the consumers to stop importing it.",
                    (
                        Step(
                            title=f"Keep {export} exported from {producer}",
                            kind="code-change",
                            detail=(
                                f'`self.export_value(<the attribute it exported>, name="{export}")` '
                                f"in {producer} (placeholder in <>)."
                            ),
                            commands=(line,),
                            code=self._code_step(finding),
                        ),
                    ),
                    deploy_command=line,
                ),
                ((kept, line),),
                versions.restrict(kept, [producer, *consumers]),
            )
        ]

    def _ordered(self, finding: Finding, head: AppVersion, producer: str, consumers: list[str]) -> list[Candidate]:
        weak = finding.reference_kind is ReferenceKind.WEAK
        together = self._command(head, [producer, *consumers], force=weak)
        why = (
            " `--force`: the consumers' templates do not change and the CLI skips an unchanged "
            "template unless forced."
            if weak
            else ""
        )
        one = Candidate(
            Plan(
                "ordered-deploy",
                f"Deploy {producer} and then {_names(consumers)} in one command.{why}",
                (Step(title="Deploy the producer, then the consumers", kind="deploy", commands=(together,)),),
                deploy_command=together,
            ),
            ((head, together),),
            versions.restrict(head, [producer, *consumers]),
        )
        first = self._command(head, [producer], exclusively=True)
        then = self._command(head, consumers, exclusively=True, force=weak)
        declared = all(head.stacks[producer].id in upstream(head, [c]) for c in consumers)
        reason = (
            "" if declared else
            f"{_names(consumers)} do{'es' if len(consumers) == 1 else ''} not depend on {producer} in "
            "the CDK app (no `add_dependency`), so one command may deploy them in any order. "
        )
        two = Candidate(
            Plan(
                "sequential-deploy",
                f"{reason}Deploy {producer} first, then {_names(consumers)}, as two commands.{why}",
                (
                    Step(title=f"Deploy {producer}", kind="deploy", commands=(first,)),
                    Step(title=f"Then deploy {_names(consumers)}", kind="deploy", commands=(then,)),
                ),
                deploy_command=f"{first} && {then}",
            ),
            ((head, first), (head, then)),
            versions.restrict(head, [producer, *consumers]),
        )
        return [one, two]

    def _consumers_gone(
        self, finding: Finding, head: AppVersion, producer: str, consumers: list[str], gone: list[str]
    ) -> list[Candidate]:
        """Consumers removed from the app stay deployed (and keep importing) until deleted."""
        names = [self.base.stacks[c].name if c in self.base.stacks else c for c in gone]
        deletes = [(head, f"{DELETE_STACK}{shlex.quote(n)}") for n in names]
        staying = [c for c in consumers if c not in gone]
        line = self._command(head, [producer, *staying])
        return [
            Candidate(
                Plan(
                    "delete-removed-consumers",
                    f"{_names(names)} {'is' if len(names) == 1 else 'are'} no longer in the app, but "
                    "`cdk deploy` never deletes a stack: the deployed one keeps importing. Delete it "
                    f"first (after checking nothing else needs it), then deploy {producer}.",
                    (
                        Step(title="Delete the stacks the app no longer has", kind="deploy",
                             commands=tuple(cmd for _, cmd in deletes)),
                        Step(title=f"Deploy {producer}", kind="deploy", commands=(line,)),
                    ),
                ),
                (*deletes, (head, line)),
                versions.restrict(head, [producer, *staying]),
            )
        ]

    def _external(self, finding: Finding) -> Plan:
        if finding.producer:
            return Plan(
                strategy="producer-left-app",
                summary=f"{finding.producer} left the app but stays deployed with its export; "
                f"move {_names(finding.consumers)} off {finding.export} before deleting it.",
                steps=(),
            )
        region = finding.environment.region
        query = shlex.quote(f"Exports[?Name=='{finding.export}']")
        return Plan(
            strategy="verify-external-export",
            summary=f"Nothing in this app exports {finding.export}: check that it exists in "
            f"{finding.environment} before merging (offline, this cannot be verified).",
            steps=(
                Step(
                    title="Confirm the export exists in the target account and region",
                    kind="deploy",
                    commands=(f"aws cloudformation list-exports --region {region} --query {query}",),
                ),
            ),
        )


def _publishers(version: AppVersion) -> dict[str, str]:
    """Who publishes each readable name: exports, stacks' outputs (by stack name), SSM parameters."""
    index: dict[str, str] = {}
    for spec_id, spec in version.stacks.items():
        index.update({e: spec_id for e in spec.exports})
        index.update({p: spec_id for p in spec.ssm_writes})
        index[f"output:{spec.name}"] = spec_id
    return index


def _version_at_least(version: str | None, minimum: tuple[int, ...]) -> bool | None:
    if not version:
        return None
    numbers = tuple(int(n) for n in re.findall(r"\d+", version)[:3])
    return numbers >= minimum


def _slug(export: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", export).strip("-")


def _names(names: Iterable[str]) -> str:
    items = sorted(set(names))
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)
