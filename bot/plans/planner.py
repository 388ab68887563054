"""Finding -> plan: the fix that works, as commands and code people paste.

Each candidate plan is a list of `cdk deploy` command lines, each run against one
version of the app (base, head, or an intermediate change the plan asks for). The
command text shown is parsed back and run in the simulator from the deployed (base)
state; a plan is ``verified`` only when that run reaches the plan's target for every
stack it touches, with no refusal and no stale consumer. The strategies that propose the
candidates live in ``bot.plans.strategies`` (one module each, DOMAIN.md section 5 their
source); here is what they share. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from bot.core.context import Context, build_context
from bot.core.gcpause import paused
from bot.core.model import (
    AnalysisResult,
    CodeLocation,
    Finding,
    Level,
    Plan,
    Severity,
    Stack,
    StackKey,
    Step,
    Verification,
)
from bot.plans import snippets, strategies, versions
from bot.plans.command_lines import simulate_commands, transcript
from bot.plans.deploy_command import deploy_command, parse_deploy
from bot.plans.deploy_sites import DeploySite
from bot.plans.patches import SourceSite
from bot.plans.simulate import (
    AppVersion,
    SelectionError,
    State,
    deployed_state,
    differences,
    select,
    widest_wave,
)
from bot.plans.strategies import consumers_gone, external, whole_pr
from bot.plans.strategies.base import Candidate
from bot.plans.strategies.pipeline_edits import pipeline_edits
from bot.plans.value_sites import ValueSites
from bot.plans.wording import names

MODELLED_REASON = "checked on a model of the change, not synthesized"


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
    planner = Planner(context, code or {}, sites, sources or {}, language, library_version, base_sources or {})
    planner.readers, planner.base_readers = readers or {}, base_readers or {}
    findings = tuple(replace(f, remediation=planner.plan(f)) for f in result.findings)
    findings = _together(planner, findings)
    return replace(result, findings=blocked_by_blockers(findings))


def _together(planner: Planner, findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
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
            plan = whole_pr.plan_together(planner, group)
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
                  f"refuse this pull request on {names(shared)}; follow that blocker's plan first")
        verification = replace(plan.verification, level=Level.NONE, reason=reason)
        out.append(replace(finding, remediation=replace(plan, verification=verification)))
    return tuple(out)


class Planner:
    """The state strategies share (``strategies.base.Planning``): the app's versions, focused on
    the stacks of the finding being planned, and the operations every strategy needs."""

    def __init__(self, context: Context, code: Mapping[str, CodeLocation], sites: Sequence[DeploySite],
                 sources: Mapping[str, SourceSite], language: str | None, library_version: str | None,
                 base_sources: Mapping[str, SourceSite]) -> None:
        self.context = context
        self.code = code
        self.sites = sites
        self.sources = sources
        self.base_sources = base_sources
        self.values = ValueSites(context, sources)
        # Where hand-named exports are imported by name, per export, in head / base source.
        self.readers: Mapping[str, Sequence[SourceSite]] = {}
        self.base_readers: Mapping[str, Sequence[SourceSite]] = {}
        self.language = language if language in snippets.LANGUAGES else "python"
        self.versions = versions.Versions(context)
        self.full_base = self.versions.base
        self.full_initial = deployed_state(self.full_base)
        self.base: AppVersion = self.full_base
        self.initial: State = self.full_initial
        self._publishers = [_publishers(self.full_base), _publishers(self.versions.skeleton)]
        self._naive: dict[tuple[str, ...], tuple[AppVersion, str | None]] = {}  # per focus
        self.library = context.head.cdk_library_version or context.base.cdk_library_version or library_version
        self.stacks: dict[StackKey, Stack] = {s.key: s for s in context.base.all_stacks()}
        self.stacks.update({s.key: s for s in context.head.all_stacks()})

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
        producer = self.selector(finding.producer_key) if finding.producer_key else None
        consumers = sorted({self.selector(k) for k in finding.consumer_keys})
        # Simulate only the stacks this finding can involve: linear work per finding.
        head = self._focus(self.versions.head(finding), [i for i in [producer, *consumers] if i is not None])
        if finding.rule == "import-missing-export" and finding.severity is not Severity.BLOCKER:
            return external.plan(finding)
        assert producer is not None
        answering = (consumers_gone.candidates,) if consumers_gone.gone(head, consumers) \
            else strategies.for_rule(finding.rule)
        return self.choose([c for strategy in answering for c in strategy(self, finding, head, producer, consumers)])

    def scoped_head(self, ids: list[str]) -> AppVersion:
        """The whole head restricted to what ``ids`` involve; base and the deployed state alike."""
        return self._focus(self.versions.head(), ids)

    def _focus(self, head: AppVersion, ids: list[str]) -> AppVersion:
        scope = self._closure(ids)
        head = versions.restrict(head, scope)
        self.base = versions.restrict(self.full_base, scope)
        stack_names = {spec.name for spec in self.base.stacks.values()} | {spec.name for spec in head.stacks.values()}
        self.initial = {name: d for name, d in self.full_initial.items() if name in stack_names}
        self._naive = {}
        return head

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

    def choose(self, candidates: list[Candidate]) -> Plan:
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
        edits = pipeline_edits(self, candidate) if best.checked else ()
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

    def selector(self, key: StackKey) -> str:
        """What `cdk deploy` accepts: the hierarchical id (``Prod/Service``)."""
        stack = self.stacks[key]
        while stack.parent is not None:  # nested stacks deploy with their parent
            stack = self.stacks[stack.parent]
        return stack.hierarchical_id

    def command(self, version: AppVersion, selectors: Sequence[str], *, exclusively: bool = False,
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

    def naive_failure(self, head: AppVersion, producer: str, consumers: list[str]) -> str | None:
        """Why deploying producer and consumers in one command fails, if it does (simulated once per focus)."""
        key = (producer, *consumers)
        hit = self._naive.get(key)
        if hit is None or hit[0] is not head:
            line = self.command(head, [producer, *consumers])
            simulation = simulate_commands(self.initial, [(head, line)])
            hit = self._naive[key] = (head, f"`{line}` fails: {simulation.error}" if simulation.error else None)
        return hit[1]

    def code_step(self, finding: Finding) -> CodeLocation | None:
        for cause in finding.causes:
            path = cause.details.get("construct_path")
            if isinstance(path, str) and path in self.code:
                return self.code[path]
        return None


def _publishers(version: AppVersion) -> dict[str, str]:
    """Who publishes each readable name: exports, stacks' outputs (by stack name), SSM parameters."""
    index: dict[str, str] = {}
    for spec_id, spec in version.stacks.items():
        index.update({e: spec_id for e in spec.exports})
        index.update({p: spec_id for p in spec.ssm_writes})
        index[f"output:{spec.name}"] = spec_id
    return index
