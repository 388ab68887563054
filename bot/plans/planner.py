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

from bot.core.context import Context, build_context
from bot.core.gcpause import paused
from bot.core.model import (
    AnalysisResult,
    Change,
    CodeLocation,
    Finding,
    Level,
    PipelineEdit,
    Plan,
    ReferenceKind,
    Resource,
    Severity,
    Stack,
    StackKey,
    Step,
    Verification,
)
from bot.plans import mixed_plans, patches, reference_changes, snippets, versions
from bot.plans.deploy_command import DeployCommand, parse_deploy, render_deploy
from bot.plans.deploy_sites import DeploySite, EditError, propose_edit
from bot.plans.patches import SourceSite
from bot.plans.simulate import (
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
    sources: Mapping[str, SourceSite] | None = None,
    language: str | None = None,
    library_version: str | None = None,
    base_sources: Mapping[str, SourceSite] | None = None,
    readers: Mapping[str, Sequence[SourceSite]] | None = None,
    base_readers: Mapping[str, Sequence[SourceSite]] | None = None,
) -> AnalysisResult:
    """Return the result with a verified-where-possible plan on every finding.

    ``code``: source locations of constructs by construct path; ``sites``: the
    repository's `cdk deploy` commands (pipelines, workflows, scripts). Both are found
    by the caller (I/O); here they are only checked against the plans. ``sources``: where
    constructs and stacks are created (by construct path / stack id), for patches;
    ``language``: the app's; ``library_version``: aws-cdk-lib pinned by the app's files,
    used when the assembly does not say.
    """
    context = context or build_context(result.base, result.head)
    planner = _Planner(context, code or {}, sites, sources or {}, language, library_version, base_sources or {})
    planner.readers, planner.base_readers = readers or {}, base_readers or {}
    findings = tuple(replace(f, remediation=planner.plan(f)) for f in result.findings)
    findings = _together(planner, findings)
    return replace(result, findings=blocked_by_blockers(findings))


def keep_export_changes(context: Context, sources: Mapping[str, SourceSite], language: str | None,
                        kept_exports: list[tuple[str, str]]) -> list[Change]:
    """``export_value`` patches keeping each (producer id, export) one release, or what to
    write by hand where none can be made: the same changes this planner's plans carry,
    for other planners (pipelines)."""
    return _Planner(context, {}, (), sources, language, None, {})._keep_changes(kept_exports)


def value_expression(context: Context, sources: Mapping[str, SourceSite], language: str | None,
                     finding: Finding) -> str | None:
    """The source expression of the finding's exported value (``self.layer.layer_version_arn``),
    or None when its construct cannot be located: for other planners' snippets (pipelines)."""
    return _Planner(context, {}, (), sources, language, None, {})._value_expression(finding)


def _together(planner: _Planner, findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """Findings with the same producer whose fixes ship in one release get one plan for all."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        if finding.severity is Severity.BLOCKER and finding.producer:
            groups.setdefault((str(finding.environment), finding.producer), []).append(finding)
    combined: dict[str, Plan] = {}
    for group in groups.values():
        if len(group) < 2:
            continue
        try:
            plan = planner.plan_together(group)
        except (KeyError, AssertionError, SelectionError):
            plan = None
        plans = [f.remediation for f in group]
        if plan is None and all(p is not None and p.checked for p in plans) \
                and len({(p.strategy, p.steps) for p in plans if p is not None}) == 1:
            # The same steps fix each of them (e.g. the app-wide flag): one plan for all.
            first = plans[0]
            assert first is not None
            plan = replace(first, covers=tuple(f.id for f in group),
                           alternatives=tuple(a for a in first.alternatives if a.covers))
        for finding in group:
            if plan is not None:
                combined[finding.id] = plan
            elif finding.remediation is not None and finding.remediation.checked:
                # Checked alone; with the other findings' changes in the same release it may not hold.
                reason = (f"checked for this finding alone; {len(group) - 1} other blocker(s) on "
                          f"{finding.producer} ship in the same release and no combined plan was accepted")
                combined[finding.id] = replace(finding.remediation, verification=Verification(
                    Level.NONE, finding.remediation.verification.states, reason))
    return tuple(replace(f, remediation=combined.get(f.id, f.remediation)) for f in findings)


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
    def __init__(self, context: Context, code: Mapping[str, CodeLocation], sites: Sequence[DeploySite],
                 sources: Mapping[str, SourceSite], language: str | None, library_version: str | None,
                 base_sources: Mapping[str, SourceSite]) -> None:
        self.context = context
        self.code = code
        self.sites = sites
        self.sources = sources
        self.base_sources = base_sources
        self._exports_index: dict[str, tuple[Resource | None, Stack]] | None = None
        self._head_by_name = {s.stack_name: s for s in context.head.all_stacks()}
        # Where hand-named exports are imported by name, per export, in head / base source.
        self.readers: Mapping[str, Sequence[SourceSite]] = {}
        self.base_readers: Mapping[str, Sequence[SourceSite]] = {}
        self.language = language if language in snippets.LANGUAGES else "python"
        self.versions = versions.Versions(context)
        self.full_base = self.versions.base
        self.full_initial = deployed_state(self.full_base)
        self.base, self.initial = self.full_base, self.full_initial
        self._publishers = [_publishers(self.full_base), _publishers(self.versions.skeleton)]
        self.library = context.head.cdk_library_version or context.base.cdk_library_version or library_version
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
        if not candidates:  # e.g. a restore with nothing left to restore: say so, never crash
            return Plan("manual", "No plan could be made for this finding automatically; review the deploy "
                        "order by hand.", ())
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
            if site.command.all_stacks or self._selects(version, self._scoped(site.command, version)):
                by_file.setdefault(site.path, []).append(site)
        edits = []
        for sites in by_file.values():
            relevant = [s for s in sites if s.command.all_stacks
                        or self._selects(version, self._scoped(s.command, version)) & wanted_ids]
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

    def _scoped(self, command: DeployCommand, version: AppVersion) -> DeployCommand:
        """The command without selectors naming only app stacks outside this finding's scope.

        Plans simulate only the stacks a finding involves; a repository command that also
        deploys unrelated stacks of the app (``cdk deploy Data Compute Api Admin``) is judged
        on the rest. A selector matching no stack of the app at all stays, and fails as it would.
        """
        kept = tuple(s for s in command.selectors
                     if self._selects(version, replace(command, selectors=(s,), exclusively=True))
                     or not self._selects(self.versions.skeleton, replace(command, selectors=(s,), exclusively=True)))
        return command if kept == command.selectors or not kept else replace(command, selectors=kept)

    def _sequence_reaches(self, candidate: Candidate, before: list[tuple[AppVersion, str]], version: AppVersion,
                          lines: list[str]) -> bool:
        scoped = []
        for line in lines:
            parsed = parse_deploy(line)
            scoped.append(render_deploy(self._scoped(parsed, version)) if parsed is not None else line)
        try:
            simulation = simulate_commands(self.initial, [*before, *((version, line) for line in scoped)])
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
                width = widest_wave(version, select(version, self._scoped(variant, version)))
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
        weak: list[Candidate] = []
        # The flag only changes references CDK makes itself: a hand-named export
        # (CfnOutput(export_name=...) + Fn.import_value) synthesizes identically with it.
        if _automatic(export):
            v1 = versions.weak_switch(self.base, export, producer, consumers, keep_export=True, label="both")
            v2 = versions.weak_switch(head, export, producer, consumers, keep_export=False, label="weak")
            first = self._command(v1, both_ids)
            second = self._command(v2, both_ids, force=True)
            upgrade = self._upgrade_step(weak_ok)
            steps = (
                Step(title="Split this pull request: land change 1 alone first, then this change",
                     kind="split"),
                *upgrade,
                Step(
                    title=f"Change 1 (without this PR's change): set `{FLAG}` to `both` in cdk.json, "
                    "merge and deploy",
                    kind="code-change",
                    detail=(
                        f'In cdk.json, under "context": `"{FLAG}": "both"`. {producer} keeps the '
                        f"export and also publishes a plain output; {_names(consumers)} "
                        f"{'switches' if len(consumers) == 1 else 'switch'} to Fn::GetStackOutput and "
                        f"{'stops' if len(consumers) == 1 else 'stop'} importing the export. The flag "
                        "applies to every automatic reference of the app."
                    ),
                    commands=(first,),
                    code=CodeLocation("json", "cdk.json", None, f'"{FLAG}": "both"'),
                    changes=(Change("context", key=FLAG, value="both"),),
                    applies_to="base",
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
                    changes=(Change("context", key=FLAG, value="weak"),),
                    applies_to="head",
                ),
            )
            weak.append(
                Candidate(
                    Plan("split-weak-reference", refusal, steps),
                    ((v1, first), (v2, second)),
                    versions.restrict(v2, both_ids),
                )
            )
        ssm = [self._ssm_candidate(finding, head, producer, consumers, refusal, location)]
        # Below 2.254 the flag is silently ignored: the SSM route works as the app is.
        candidates = weak + ssm if weak_ok is not False else ssm + weak
        candidates.append(self._detach_candidate(finding, head, producer, consumers, "detach-and-restore"))
        return candidates

    def _upgrade_step(self, weak_ok: bool | None) -> tuple[Step, ...]:
        if weak_ok:
            return ()
        known = f"this app synthesizes with aws-cdk-lib {self.library}" if self.library else \
            "the aws-cdk-lib version could not be read from the assembly or the app's lock files"
        return (Step(
            title="Upgrade aws-cdk-lib to 2.254.0 or later first (its own release)",
            kind="code-change",
            detail=(f"Weak references need aws-cdk-lib >= 2.254; {known}. On older versions the flag is "
                    "ignored without a warning and the templates stay identical."),
            changes=(Change("description", description="raise aws-cdk-lib to >= 2.254.0 in the app's "
                            "dependency file (requirements.txt / package.json) and its lock file"),),
            applies_to="base",
        ),)

    def _ssm_candidate(self, finding: Finding, head: AppVersion, producer: str, consumers: list[str],
                       refusal: str, location: CodeLocation | None) -> Candidate:
        export = finding.export
        assert export is not None
        both_ids = [producer, *consumers]
        parameter = f"/cdk-export-guard/{_slug(export)}"
        s1 = versions.ssm_switch(self.base, export, producer, consumers, parameter=parameter,
                                 keep_export=True, label="ssm")
        s2 = versions.ssm_switch(head, export, producer, consumers, parameter=parameter,
                                 keep_export=False, label="ssm-only")
        first = self._command(s1, both_ids)
        second = self._command(s2, both_ids)
        language = self.language
        value = self._value_expression(finding) or "<the exported value>"
        write = snippets.ssm_write(snippets.this(language), "CdkExportGuardParameter", parameter, value, language)
        read = snippets.ssm_read(snippets.this(language), parameter, language)
        edits: list[Change] = [
            Change("description", path=self._site_path(finding),
                   description=f"in {producer}: add `{write}`"),
        ]
        if _automatic(export):
            # Once the consumers stop using the attribute, CDK drops the automatic export;
            # CloudFormation refuses to delete it while the deployed consumers import it.
            keep = snippets.export_value(snippets.this(language), value, language)
            edits.append(Change("description", path=self._site_path(finding),
                                description=f"in {producer}, for this release only: `{keep}` (keeps the "
                                "automatic export the consumers still import until they are deployed)"))
        edits.append(Change("description", description=f"in {_names(consumers)}: read the value with `{read}` "
                            "instead of the producer's attribute or import"))
        edits.append(Change("description", description=f"where the stacks are created: "
                            f"`{snippets.add_dependency('<consumer>', '<producer>', language)}` for each consumer "
                            "(an SSM read makes no dependency by itself)"))
        later: tuple[Change, ...] = (Change("description", description="this pull request on top of change 1"),)
        declared = all(head.stacks[producer].id in upstream(head, [c]) for c in consumers if c in head.stacks)
        if not _automatic(export) and declared:
            # Hand-named: the CfnOutput export stays by itself; the reads are `Fn.import_value("<name>")`.
            patched = self._ssm_patches(export, parameter, self.base_sources, self.base_readers)
            patched_head = self._ssm_patches(export, parameter, self.sources, self.readers)
            if patched and patched_head:
                edits, later = patched, tuple(patched_head)
        elif _automatic(export):
            # Automatic: the consumers use the producer's object; change 1 keeps the export.
            patched = self._ssm_automatic(finding, parameter, producer, consumers, self.base_sources, keep=True)
            patched_head = self._ssm_automatic(finding, parameter, producer, consumers, self.sources, keep=False)
            if patched and patched_head:
                edits, later = patched, tuple(patched_head)
        patched_all = all(c.kind == "patch" for c in edits)
        steps = (
            Step(title="Split this pull request: land change 1 alone first, then this change", kind="split"),
            Step(
                title="Change 1 (without this PR's change): pass the value through an SSM parameter",
                kind="code-change",
                detail=f"The parameter name {parameter} is a suggestion."
                + ("" if patched_all else " No patch could be produced for this change: edit by hand as below."),
                commands=(first,),
                changes=tuple(edits),
                applies_to="base",
            ),
            Step(
                title="Change 2: this PR's change; deploy the producer, then the consumers",
                kind="deploy",
                detail="The CLI always redeploys stacks with SSM parameters, so the consumers "
                "read the new value." + (" Remove the temporary export line." if _automatic(export) else ""),
                commands=(second,),
                code=location,
                changes=later,
                applies_to="head",
            ),
        )
        return Candidate(Plan("split-ssm-parameter", refusal, steps), ((s1, first), (s2, second)),
                         versions.restrict(s2, both_ids))

    def _ssm_patches(self, export: str, parameter: str, sources: Mapping[str, SourceSite],
                     readers: Mapping[str, Sequence[SourceSite]]) -> list[Change] | None:
        found = self._value_site(export, sources)
        if found is None or not readers.get(export):
            return None
        site, construct_id, attribute = found
        return patches.ssm_switch_patches(site, construct_id, attribute, parameter, export, list(readers[export]))

    def _producer_value(self, export: str, sources: Mapping[str, SourceSite]) -> reference_changes.ProducerValue | None:
        found = self._value_site(export, sources)
        resource, _ = self._exported_resource(export)
        if found is None or resource is None:
            return None
        return reference_changes.ProducerValue(*found, resource_type=resource.type)

    def _ssm_automatic(self, finding: Finding, parameter: str, producer: str, consumers: list[str],
                       sources: Mapping[str, SourceSite], *, keep: bool) -> list[Change] | None:
        """Patches for the SSM route of an automatic reference, on the tree of ``sources``."""
        value = self._producer_value(finding.export or "", sources)
        p_site = sources.get(producer)
        c_sites = [sources.get(c) for c in consumers]
        if value is None or p_site is None or any(c is None for c in c_sites):
            return None
        dependencies = [(c, p_site, cid.rsplit("/", 1)[-1], producer.rsplit("/", 1)[-1])
                        for c, cid in zip(c_sites, consumers, strict=True) if c is not None]
        return reference_changes.ssm_route_changes(value, finding.usages, sources, parameter, keep_export=keep,
                                                   dependencies=dependencies)

    def _drop_reference(self, finding: Finding) -> list[Change] | None:
        """Patches removing the consumers' usages of the export from the base tree."""
        value = self._producer_value(finding.export or "", self.base_sources)
        member = value.member if value is not None else None
        return reference_changes.drop_reference_changes(finding.usages, self.base_sources, member)

    def _detach_candidate(self, finding: Finding, head: AppVersion, producer: str, consumers: list[str],
                          strategy: str) -> Candidate:
        export = finding.export
        assert export is not None
        both_ids = [producer, *consumers]
        d1 = versions.detach(self.base, export, consumers, label="detached")
        dropped = self._drop_reference(finding)
        detach_changes = tuple(dropped) if dropped else (
            Change("description", description=f"in {_names(consumers)}: stop using {export} (drop the resources "
                   f"or properties that read it: {_usages(finding)})"),)
        steps3 = [
            (d1, self._command(d1, consumers, exclusively=True)),
            (head, self._command(head, [producer], exclusively=True)),
            (head, self._command(head, both_ids)),
        ]
        return Candidate(
            Plan(
                strategy,
                "Without weak references: stop using the value in the consumers and deploy "
                "them first, then ship the producer's change, then deploy the consumers with "
                "this pull request (the reference restored).",
                (
                    Step(title=f"Release 1: remove the reference from {_names(consumers)} on the base "
                         f"branch; deploy {'it' if len(consumers) == 1 else 'them'} alone", kind="code-change",
                         commands=(steps3[0][1],), changes=detach_changes, applies_to="base"),
                    Step(title=f"Release 2: this pull request; deploy {producer} alone", kind="deploy",
                         commands=(steps3[1][1],), applies_to="head"),
                    Step(title="Then deploy the consumers with the reference restored", kind="deploy",
                         commands=(steps3[2][1],), applies_to="head"),
                ),
            ),
            tuple(steps3),
            versions.restrict(head, both_ids),
        )

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
                    Step(title=f"Deploy {_names(consumers)} alone", kind="deploy", commands=(first,),
                         applies_to="head"),
                    Step(title=f"Then deploy {producer}", kind="deploy", commands=(then,), applies_to="head"),
                ),
                deploy_command=f"{first} && {then}",
            ),
            ((head, first), (head, then)),
            versions.restrict(head, [producer, *consumers]),
        )
        out = [consumers_first]
        keep = self._keep_candidates(finding, head, [(producer, export)], consumers)
        out.extend(keep)
        if not keep:
            # Nothing in head produces the old value (a replaced `current_version`): the
            # consumers must let go of it before the producer deploys: weak references
            # (automatic references only), or detached by hand.
            if _automatic(export) and _version_at_least(self.library, WEAK_REFERENCES_SINCE) is not False:
                out.append(self._weak_removed(finding, head, producer, consumers))
            out.append(self._detach_candidate(finding, head, producer, consumers, "detach-then-deploy"))
        return out

    def _weak_removed(self, finding: Finding, head: AppVersion, producer: str, consumers: list[str]) -> Candidate:
        """Change 1 `both` on base: the consumers stop importing; change 2 this PR with `weak`."""
        export = finding.export
        assert export is not None
        both_ids = [producer, *consumers]
        v1 = versions.weak_switch(self.base, export, producer, consumers, keep_export=True, label="both")
        v2 = versions.weak_all(head, producer, consumers, label="weak")
        first = self._command(v1, both_ids)
        second = self._command(v2, both_ids, force=True)
        steps = (
            Step(title="Split this pull request: land change 1 alone first, then this change", kind="split"),
            *self._upgrade_step(_version_at_least(self.library, WEAK_REFERENCES_SINCE)),
            Step(title=f"Change 1 (without this PR's change): set `{FLAG}` to `both` in cdk.json, merge and deploy",
                 kind="code-change",
                 detail=f"{_names(consumers)} switch to Fn::GetStackOutput and stop importing {export}; "
                 f"{producer} keeps the export.",
                 commands=(first,), changes=(Change("context", key=FLAG, value="both"),), applies_to="base"),
            Step(title=f"Change 2: this PR's change, with `{FLAG}` set to `weak`; deploy the producer, then the "
                 "consumers", kind="deploy",
                 detail=f"Nothing imports the old export any more, so {producer} may drop it.",
                 commands=(second,), changes=(Change("context", key=FLAG, value="weak"),), applies_to="head"),
        )
        return Candidate(
            Plan("split-weak-reference",
                 f"Nothing in this pull request still produces the value {export} carries (its resource got a "
                 "new logical id), so it cannot be kept one more release, and the consumers cannot go first "
                 "(they import the new export). Move them to weak references first.", steps),
            ((v1, first), (v2, second)),
            versions.restrict(v2, both_ids),
        )

    def _keep_candidates(self, finding: Finding, head: AppVersion, kept_exports: list[tuple[str, str]],
                         consumers: list[str], covers: tuple[Finding, ...] = ()) -> list[Candidate]:
        """Keep the exports one more release with export_value; none when head cannot produce one."""
        kept, names = head, []
        for producer, export in kept_exports:
            if self._old_value_gone(producer, export):
                return []
            token = self.base.stacks[producer].exports.get(export, f"{export}@base") \
                if producer in self.base.stacks else f"{export}@base"
            kept = versions.keep_export(kept, export, producer, token, label="kept")
            names.append(export)
        changes = self._keep_changes(kept_exports)
        producers = list(dict.fromkeys(p for p, _ in kept_exports))
        release1 = self._command(kept, [*producers, *consumers])
        release2 = self._command(head, producers, exclusively=True)
        patched = all(c.kind == "patch" for c in changes)
        label = _names(names) if len(names) < 4 else f"{len(names)} exports"
        plan = Plan(
            "keep-export-one-release",
            f"Keep exporting {label} from {_names(producers)} for one more release "
            "(`export_value` re-creates exactly the automatic export name), deploy, then "
            "remove it in a later release once nothing imports it.",
            (
                Step(
                    title=f"Release 1: this pull request, keeping the export{'s' if len(names) > 1 else ''}; "
                    "deploy producer then consumers",
                    kind="code-change",
                    detail="" if patched else "No patch could be produced for every export: edit by hand as "
                    "described.",
                    commands=(release1,),
                    code=self._code_step(finding),
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

    def _old_value_gone(self, producer: str, export: str) -> bool:
        """Whether no resource of head produces the export's base value (its logical id is gone)."""
        resource, base_stack = self._exported_resource(export)
        if resource is None or base_stack is None:
            return False
        head_stack = self._head_by_name.get(base_stack.stack_name)
        return head_stack is None or resource.logical_id not in head_stack.resources

    def _exported_resource(self, export: str) -> tuple[Resource | None, Stack | None]:
        """The base resource behind an export's value, and its stack (indexed once: linear planning)."""
        if self._exports_index is None:
            index: dict[str, tuple[Resource | None, Stack]] = {}
            for stack in self.context.base.all_stacks():
                for output in stack.outputs.values():
                    if output.export_name and output.export_name not in index:
                        target = _target(output.value)
                        index[output.export_name] = (stack.resources.get(target) if target else None, stack)
            self._exports_index = index
        found = self._exports_index.get(export)
        return found if found is not None else (None, None)

    def _value_expression(self, finding: Finding) -> str | None:
        """The source expression of the exported value (``self.strands_layer.layer_version_arn``)."""
        found = self._value_site(finding.export or "")
        if found is None:
            return None
        site, construct_id, attribute = found
        stmt = patches.statement(site)
        if stmt is None or stmt.target is None:
            return None
        return f"{stmt.target}.{snippets.member(attribute, site.language)}"

    def _site_path(self, finding: Finding) -> str | None:
        found = self._value_site(finding.export or "")
        return found[0].path if found else None

    def _value_site(self, export: str, sources: Mapping[str, SourceSite] | None = None
                    ) -> tuple[SourceSite, str, str] | None:
        resource, stack = self._exported_resource(export)
        if resource is None or stack is None or not resource.construct_path:
            return None
        exported = next(o for o in stack.outputs.values() if o.export_name == export)
        attribute = snippets.attribute(resource.type, exported.value)
        segments = resource.construct_path.split("/")
        # Only an L2 created directly in its stack: `self`/`this` is then the stack.
        if attribute is None or len(segments) < 3 or segments[-1] != "Resource" \
                or "/".join(segments[:-2]) != stack.hierarchical_id.replace("/", "/"):
            return None
        site = (self.sources if sources is None else sources).get(resource.construct_path)
        return (site, segments[-2], attribute) if site is not None else None

    def _keep_changes(self, kept_exports: list[tuple[str, str]]) -> list[Change]:
        """One export_value patch per source file; a description for what cannot be located."""
        by_file: dict[str, list[tuple[SourceSite, str, str, str | None]]] = {}
        described = []
        for producer, export in kept_exports:
            found = self._value_site(export)
            if found is None:
                code = snippets.export_value(snippets.this(self.language), "<the attribute it exported>",
                                             self.language, None if _automatic(export) else export)
                described.append(Change("description", description=f"in {producer}: `{code}` (the value "
                                        f"{export} carries today; its construct could not be located for a patch)"))
                continue
            site, construct_id, attribute = found
            by_file.setdefault(site.path, []).append(
                (site, construct_id, attribute, None if _automatic(export) else export))
        changes = []
        for items in by_file.values():
            change = patches.export_values_patch(items)
            if change is None:
                names = ", ".join(i[1] for i in items)
                change = Change("description", path=items[0][0].path,
                                description=f"after creating {names}: `export_value` of each (no patch could "
                                "be produced)")
            changes.append(change)
        return changes + described

    def _restore(self, finding: Finding, head: AppVersion, producer: str, consumers: list[str]) -> list[Candidate]:
        export = finding.export
        assert export is not None
        candidates = self._keep_candidates(finding, head, [(producer, export)], consumers)
        if not candidates:  # nothing in head produces the old value: the consumers must let go first
            return [self._detach_candidate(finding, head, producer, consumers, "detach-then-deploy")]
        out = []
        for candidate in candidates:
            release1 = candidate.plan.steps[0]
            line = release1.commands[0]
            out.append(replace(candidate, plan=Plan(
                "restore-export",
                f"{_names(finding.consumers)} still import{'s' if len(consumers) == 1 else ''} "
                f"{export}: keep exporting it from {producer} (`export_value`), or "
                "change the consumers to stop importing it.",
                (replace(release1, title=f"Keep {export} exported from {producer}"),),
                deploy_command=line,
            ), invocations=candidate.invocations[:1], target=versions.restrict(
                candidate.invocations[0][0], [producer, *consumers])))
        return out

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
                (Step(title="Deploy the producer, then the consumers", kind="deploy", commands=(together,),
                      applies_to="head"),),
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
                    Step(title=f"Deploy {producer}", kind="deploy", commands=(first,), applies_to="head"),
                    Step(title=f"Then deploy {_names(consumers)}", kind="deploy", commands=(then,),
                         applies_to="head"),
                ),
                deploy_command=f"{first} && {then}",
            ),
            ((head, first), (head, then)),
            versions.restrict(head, [producer, *consumers]),
        )
        out = [one, two]
        if not declared:
            out.insert(1, self._dependency_candidate(finding, head, producer, consumers, why))
        return out

    def _dependency_candidate(self, finding: Finding, head: AppVersion, producer: str, consumers: list[str],
                              why: str) -> Candidate:
        """Declare the order in the app (`add_dependency`), then one command deploys it right."""
        weak = finding.reference_kind is ReferenceKind.WEAK
        ordered = versions.add_dependencies(head, producer, consumers, label="ordered")
        line = self._command(ordered, [producer, *consumers], force=weak)
        changes = tuple(self.dependency_change(c, producer) for c in consumers)
        return Candidate(
            Plan(
                "add-dependency",
                f"Declare that {_names(consumers)} depend{'s' if len(consumers) == 1 else ''} on {producer} "
                f"(`add_dependency`), so one `cdk deploy` runs them in order.{why}",
                (Step(title=f"Add the dependency on {producer}, then deploy", kind="code-change",
                      commands=(line,), changes=changes, applies_to="head",
                      detail="" if all(c.kind == "patch" for c in changes) else
                      "No patch could be produced: edit by hand as described."),),
                deploy_command=line,
            ),
            ((ordered, line),),
            versions.restrict(ordered, [producer, *consumers]),
        )

    def dependency_change(self, consumer: str, producer: str) -> Change:
        """A patch adding ``consumer.add_dependency(producer)`` where the stacks are created."""
        c_site, p_site = self.sources.get(consumer), self.sources.get(producer)
        if c_site is not None and p_site is not None:
            change = patches.add_dependency_patch(c_site, p_site, consumer.rsplit("/", 1)[-1],
                                                  producer.rsplit("/", 1)[-1])
            if change is not None:
                return change
        code = snippets.add_dependency(f"<{consumer}>", f"<{producer}>", self.language)
        return Change("description", description=f"where the stacks are created: `{code}`")


    # -- whole pull request ---------------------------------------------------------

    def plan_together(self, group: list[Finding]) -> Plan | None:
        """One plan for findings whose fixes interact (same producer, same release).

        Each per-finding plan is checked with only its own export moving; applied alone on
        the real pull request, the other exports are still deleted and it is refused. The
        combined plans are checked on the unfocused head: the pull request as it is.
        """
        if mixed_plans.is_mixed(group):
            return self._plan_mixed(group)
        removed = [f for f in group if f.rule in ("export-removed-in-use", "import-missing-export")
                   and f.producer_key is not None and f.export]
        if len(removed) != len(group) or len(group) < 2:
            return None
        pairs = [(self._selector(f.producer_key), f.export) for f in removed if f.producer_key and f.export]
        consumers = sorted({self._selector(k) for f in removed for k in f.consumer_keys})
        producers = list(dict.fromkeys(p for p, _ in pairs))
        head = self._scoped_head([*producers, *consumers])
        if any(c not in head.stacks for c in consumers):
            return None
        first = self._command(head, consumers, exclusively=True)
        then = self._command(head, producers, exclusively=True)
        ids = tuple(f.id for f in group)
        together = Candidate(
            Plan("deploy-consumers-first",
                 f"Deploy {_names(consumers)} first, alone, so nothing imports the {len(pairs)} removed exports; "
                 f"then deploy {_names(producers)}.",
                 (Step(title=f"Deploy {_names(consumers)} alone", kind="deploy", commands=(first,), applies_to="head"),
                  Step(title=f"Then deploy {_names(producers)}", kind="deploy", commands=(then,), applies_to="head")),
                 deploy_command=f"{first} && {then}", covers=ids),
            ((head, first), (head, then)),
            versions.restrict(head, [*producers, *consumers]),
        )
        keep = self._keep_candidates(group[0], head, pairs, consumers, covers=tuple(group))
        plan = self._choose([together, *keep])
        return plan if plan.checked else None

    def _plan_mixed(self, group: list[Finding]) -> Plan | None:
        """Value changes and removals on one producer: one plan for all (``bot.plans.mixed_plans``),
        checked on the unfocused head, the pull request as it is."""
        producers = {self._selector(f.producer_key) for f in group if f.producer_key}
        if len(producers) != 1:
            return None
        (producer,) = producers
        consumers = sorted({self._selector(k) for f in group for k in f.consumer_keys})
        head = self._scoped_head([producer, *consumers])
        if any(c not in head.stacks for c in consumers):
            return None
        plan = self._choose(mixed_plans.candidates(self, group, head, producer, consumers))
        return plan if plan.checked else None

    def _scoped_head(self, ids: list[str]) -> AppVersion:
        """The whole head restricted to what ``ids`` involve; base and the deployed state alike."""
        scope = self._closure(ids)
        head = versions.restrict(self.versions.head(), scope)
        self.base = versions.restrict(self.full_base, scope)
        names = {spec.name for spec in self.base.stacks.values()} | {spec.name for spec in head.stacks.values()}
        self.initial = {name: d for name, d in self.full_initial.items() if name in names}
        return head

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


def _automatic(export: str) -> bool:
    """CDK's own export names (`<stack>:ExportsOutput...`); hand-named ones are anything else."""
    return ":ExportsOutput" in export


def _target(value: object) -> str | None:
    """The logical id an output's value refers to (``Ref`` / ``Fn::GetAtt``)."""
    if isinstance(value, dict) and len(value) == 1:
        ref = value.get("Ref")
        if isinstance(ref, str):
            return ref
        got = value.get("Fn::GetAtt")
        if isinstance(got, list) and got and isinstance(got[0], str):
            return got[0]
    return None


def _usages(finding: Finding) -> str:
    sites = sorted({u.construct_path or f"{u.stack} {u.path}" for u in finding.usages})
    return ", ".join(sites[:6]) + (f" and {len(sites) - 6} more" if len(sites) > 6 else "")
