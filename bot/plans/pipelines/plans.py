"""Plans for stacks a pipeline deploys: code changes the pipeline honours, checked by
simulating the pipeline (``bot.plans.pipelines.simulate``), never hand-run commands. Pure.

A CDK Pipelines app is deployed by CodePipeline actions, with no ``--exclusively`` and no
``--force``: the only levers are the app's code. So a plan is a sequence of releases
(each a version of the app, deployed by the pipeline in the order its own template
gives), and every temporary change has a follow-up release that removes it:
- a temporary ``add_dependency`` makes CDK Pipelines put one stack's Prepare/Deploy after
  another's (it orders a stage's actions by stack dependencies);
- ``export_value`` keeps an export one more release;
- a weak reference (``Fn::GetStackOutput``) is only re-read when the consumer's template
  changes (see ``bot.plans.pipelines.simulate``), so such a plan also changes the consumer's
  template (a tag) for that release; an SSM-typed parameter is re-read by every change set.

Each strategy is a module of ``bot.plans.pipelines.strategies`` (its ``BY_RULE`` table says
which answer which rule); this module holds the entry point, the shared wording and the
check of each candidate in the pipeline simulator.

Where a repository script or workflow deploys the same stacks too, the command plan of
``bot.plans.planner`` is kept as an alternative with its edits: the comment covers both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from bot.core.context import Context
from bot.core.model import (
    AnalysisResult,
    Change,
    CodeLocation,
    Finding,
    Level,
    Plan,
    Stack,
    StackKey,
    Verification,
)
from bot.plans import patches, snippets, versions, wording
from bot.plans.deploy_sites import DeploySite
from bot.plans.patches import SourceSite
from bot.plans.pipelines import strategies
from bot.plans.pipelines.deploy import Deployer, Pipeline, deployers, find_pipelines
from bot.plans.pipelines.edits import REFRESH_TAG, camel
from bot.plans.pipelines.runs import template_runs, transcript
from bot.plans.pipelines.simulate import PipelineRun, run_pipelines
from bot.plans.pipelines.strategies.base import Candidate
from bot.plans.simulate import (
    AppVersion,
    SelectionError,
    State,
    deployed_state,
    differences,
    select,
)
from bot.plans.value_sites import ValueSites

PIPELINE_STRATEGIES = frozenset({
    "pipeline-temporary-dependency", "pipeline-keep-export", "pipeline-restore-export",
    "pipeline-split-weak-reference", "pipeline-split-ssm-parameter", "pipeline-order", "pipeline-refresh-consumer",
})
PIPELINE_MODELLED = "each release run through the pipeline's order in the simulator, on a model of the change"


def attach_pipeline_plans(
    result: AnalysisResult,
    context: Context,
    code: Mapping[str, CodeLocation] | None = None,
    sites: Sequence[DeploySite] = (),
    sources: Mapping[str, SourceSite] | None = None,
    language: str | None = None,
) -> AnalysisResult:
    """Replace the plan of every finding whose stacks a pipeline deploys (head assembly).

    ``sources``: where stacks and constructs are created (``bot.plans.source.source_sites``), so
    each step carries the patch it asks for; ``language``: the app's.
    """
    pipelines = find_pipelines(context.head)
    if not pipelines:
        return result
    planner = _PipelinePlanner(context, pipelines, code or {}, sites, sources or {}, language)
    return replace(result, findings=tuple(planner.plan(f) for f in result.findings))


class _PipelinePlanner:
    """The state and wording every pipeline strategy shares (``strategies.base.Planning``)."""

    def __init__(self, context: Context, pipelines: Sequence[Pipeline], code: Mapping[str, CodeLocation],
                 sites: Sequence[DeploySite], sources: Mapping[str, SourceSite], language: str | None) -> None:
        self.context = context
        self.pipelines = pipelines
        self.sites = sites
        self.sources = sources
        located = next((c.language for c in code.values() if c.language in snippets.LANGUAGES), None)
        self.language = language if language in snippets.LANGUAGES else located or "python"
        self.versions = versions.Versions(context)
        self.base = self.versions.base
        self.initial: State = deployed_state(self.base)
        self.head_full = self.versions.head()
        stacks: dict[StackKey, Stack] = {s.key: s for s in context.base.all_stacks()}
        stacks.update({s.key: s for s in context.head.all_stacks()})
        self.stacks = stacks
        self.deployer_of: dict[str, Deployer] = {
            context.head_stacks[k].hierarchical_id: d for k, d in deployers(pipelines).items()
            if k in context.head_stacks
        }
        self.library = context.head.cdk_library_version or context.base.cdk_library_version

    # -- entry -------------------------------------------------------------------------

    def plan(self, finding: Finding) -> Finding:
        involved = self._involved(finding)
        deployed = [self.deployer_of[i] for i in involved if i in self.deployer_of]
        if not deployed:
            return finding
        producer = self._id(finding.producer_key) if finding.producer_key else None
        consumers = sorted({self._id(k) for k in finding.consumer_keys})
        head = self.versions.head(finding)
        try:
            candidates = self._candidates(finding, head, producer, consumers)
        except (KeyError, ValueError, IndexError, AssertionError, SelectionError):  # never stop the report
            candidates = []
        where = self._deployed_by(involved)
        cli = finding.remediation
        if not candidates:
            plan = Plan(
                "pipeline-manual",
                f"These stacks are deployed by {deployed[0].describe()}; no pipeline plan could be "
                "checked for this finding automatically: review the pipeline's order by hand.",
                (), deployed_by=where,
            )
        else:
            plan = self._choose(candidates, where)
        by_hand = self._by_hand(involved)
        if cli is not None and by_hand:
            # Scripts or workflows deploy these stacks too: keep their plan and edits.
            hand = replace(cli, summary=f"Where {', '.join(by_hand)} deploy{'s' if len(by_hand) == 1 else ''} "
                           f"these stacks by hand: {cli.summary}", alternatives=())
            plan = replace(plan, pipeline_edits=plan.pipeline_edits + cli.pipeline_edits,
                           alternatives=(hand, *plan.alternatives))
        return replace(finding, remediation=plan)

    def _candidates(self, finding: Finding, head: AppVersion, producer: str | None,
                    consumers: list[str]) -> list[Candidate]:
        if producer is None:
            return []
        return [c for strategy in strategies.for_rule(finding.rule)
                for c in strategy(self, finding, head, producer, consumers)]

    # -- checking -------------------------------------------------------------------------

    def _choose(self, candidates: list[Candidate], where: tuple[str, ...]) -> Plan:
        checked = [self._verify(c) for c in candidates]
        verified = [p for p in checked if p.checked]
        pool = verified or checked
        best = replace(pool[0], deployed_by=where)
        return replace(best, alternatives=tuple(replace(p, deployed_by=where) for p in pool[1:]))

    def _verify(self, candidate: Candidate) -> Plan:
        runs = [self.runs(replace(release.version, label=release.label)) for release in candidate.releases]
        simulation = run_pipelines(self.initial, [r for group in runs for r in group])
        missing = differences(simulation.state, candidate.target) if simulation.error is None else []
        lines = [*transcript(simulation), *(f"not reached: {m}" for m in missing)]
        states = tuple(release.label for release in candidate.releases)
        if simulation.ok and not missing:
            verification = Verification(Level.MODELLED, states, PIPELINE_MODELLED)
        else:
            failure = simulation.error or (simulation.stale[0] if simulation.stale else f"not reached: {missing[0]}")
            verification = Verification(Level.NONE, states, f"the pipeline simulator refuses it: {failure}")
        return replace(candidate.plan, verification=verification, simulation=tuple(lines))

    def runs(self, version: AppVersion) -> list[PipelineRun]:
        """Each pipeline's run of this version: the head template's order where the
        stage's dependencies are head's, else the order CDK Pipelines gives them."""
        def unchanged(ids: Sequence[str]) -> bool:
            return all(version.stacks[i].dependencies == self.head_full.stacks[i].dependencies
                       for i in ids if i in version.stacks and i in self.head_full.stacks)

        return template_runs(self.pipelines, self.context.head_stacks, version, keep=unchanged)

    # -- wording ----------------------------------------------------------------------------

    def order_text(self, version: AppVersion, stack_id: str) -> str:
        """Where the pipeline deploys ``stack_id`` in this version, by run order."""
        for run in self.runs(version):
            for stage in run.stages:
                for position, group in enumerate(stage.run_orders, start=1):
                    if any(a.stack == stack_id and a.execute for a in group):
                        together = sorted(self.name(a.stack) for a in group if a.execute and a.stack != stack_id)
                        with_ = f", with {wording.names(together)} in parallel" if together else ""
                        return (f"pipeline `{run.pipeline}`, stage `{stage.name}` deploys {self.name(stack_id)} "
                                f"at RunOrder {position}{with_}")
        return f"{self.name(stack_id)} is not deployed by a pipeline"

    def race_text(self, head: AppVersion, producer: str, consumers: list[str]) -> str:
        text = self.order_text(head, producer)
        return f"In head, {text}. " if "in parallel" in text else ""

    def value(self, finding: Finding) -> str | None:
        """The real source expression of the exported value, where the construct is located."""
        return ValueSites(self.context, self.sources).value_expression(finding)

    def call(self, stack_id: str, method: str, others: Sequence[str]) -> str:
        name = method if self.language == "python" else camel(method)
        args = ", ".join(f"<{o}>" for o in others)
        return f"<{stack_id}>.{name}({args})"

    def tag_call(self, consumers: Sequence[str]) -> str:
        if self.language == "python":
            return f'cdk.Tags.of(<{consumers[0]}>).add("{REFRESH_TAG}", "<this release>")'
        return f"Tags.of(<{consumers[0]}>).add('{REFRESH_TAG}', '<this release>')"

    def dependency(self, waiting: str, first: str) -> Change:
        """A patch adding ``waiting.add_dependency(first)`` where the stacks are created."""
        w_site, f_site = self.sources.get(waiting), self.sources.get(first)
        if w_site is not None and f_site is not None:
            change = patches.add_dependency_patch(w_site, f_site, waiting.rsplit("/", 1)[-1], first.rsplit("/", 1)[-1])
            if change is not None:
                return change
        code = self.call(waiting, "add_dependency", [first])
        return Change("description", description=f"where the stacks are created: `{code}`")

    def tag(self, stack_id: str, finding: Finding) -> Change:
        """A patch tagging the stack, so its template changes for one release."""
        site = self.sources.get(stack_id)
        change = patches.tag_patch(site, REFRESH_TAG, finding.id[:8]) if site is not None else None
        code = self.tag_call([stack_id])
        return change or Change("description", description=f"where {stack_id} is created: `{code}`")

    def name(self, stack_id: str) -> str:
        spec = self.head_full.stacks.get(stack_id) or self.base.stacks.get(stack_id)
        return spec.name if spec else stack_id

    def _id(self, key: StackKey) -> str:
        stack = self.stacks[key]
        while stack.parent is not None:
            stack = self.stacks[stack.parent]
        return stack.hierarchical_id

    def _involved(self, finding: Finding) -> list[str]:
        keys = [k for k in (finding.producer_key, *finding.consumer_keys) if k is not None and k in self.stacks]
        return sorted({self._id(k) for k in keys})

    def _deployed_by(self, involved: Sequence[str]) -> tuple[str, ...]:
        by_place: dict[str, list[str]] = {}
        for stack_id in involved:
            deployer = self.deployer_of.get(stack_id)
            if deployer is not None:
                by_place.setdefault(deployer.describe(), []).append(self.name(stack_id))
        out = [f"{place} ({', '.join(sorted(names))})" for place, names in by_place.items()]
        return tuple(out) + tuple(f"`{s}`" for s in self._by_hand(involved))

    def _by_hand(self, involved: Sequence[str]) -> list[str]:
        """Repository files whose deploy commands select any of these stacks."""
        files: dict[str, None] = {}
        for site in self.sites:
            try:
                chosen = set(select(self.head_full, replace(site.command, exclusively=True)))
            except SelectionError:
                # A command naming several stacks fails on the first unknown one; judge each.
                chosen = set()
                for selector in site.command.selectors:
                    try:
                        chosen |= set(select(self.head_full, replace(site.command, selectors=(selector,),
                                                                     exclusively=True)))
                    except SelectionError:
                        continue
            if site.command.all_stacks or chosen & set(involved):
                files.setdefault(site.path)
        return list(files)
