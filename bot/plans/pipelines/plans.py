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

Where a repository script or workflow deploys the same stacks too, the command plan of
``bot.plans.planner`` is kept as an alternative with its edits: the comment covers both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from bot.core.context import Context
from bot.core.model import (
    AnalysisResult,
    Change,
    CodeLocation,
    Finding,
    Level,
    Plan,
    ReferenceKind,
    Stack,
    StackKey,
    Step,
    Verification,
)
from bot.plans import patches, snippets, versions, wording
from bot.plans.deploy_sites import DeploySite
from bot.plans.patches import SourceSite
from bot.plans.pipelines.deploy import DIRECT, PREPARE, Deployer, Pipeline, StackAction, deployers, find_pipelines
from bot.plans.pipelines.simulate import Action, PipelineRun, StageRun, cdk_pipelines_order, run_pipelines
from bot.plans.simulate import (
    AppVersion,
    SelectionError,
    Simulation,
    State,
    StepOutcome,
    deployed_state,
    differences,
    select,
    upstream,
)
from bot.plans.strategies.keep_export import keep_export_changes
from bot.plans.strategies.weak_reference import FLAG, WEAK_REFERENCES_SINCE
from bot.plans.value_sites import ValueSites

REFRESH_TAG = "cdk-export-guard-refresh"
PIPELINE_STRATEGIES = frozenset({
    "pipeline-temporary-dependency", "pipeline-keep-export", "pipeline-restore-export",
    "pipeline-split-weak-reference", "pipeline-split-ssm-parameter", "pipeline-order", "pipeline-refresh-consumer",
})
PIPELINE_MODELLED = "each release run through the pipeline's order in the simulator, on a model of the change"


@dataclass(frozen=True)
class _Release:
    version: AppVersion
    label: str


@dataclass(frozen=True)
class _Candidate:
    plan: Plan
    releases: tuple[_Release, ...]
    target: AppVersion  # restricted to the stacks the plan must bring to their final state


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
                    consumers: list[str]) -> list[_Candidate]:
        if producer is None:
            return []
        if finding.rule in ("export-value-change-in-use", "export-value-may-change-in-use"):
            return self._split(finding, head, producer, consumers)
        if finding.rule == "export-removed-in-use":
            return self._removed(finding, head, producer, consumers)
        if finding.rule == "import-missing-export" and finding.export:
            return [self._keep(finding, head, producer, consumers, follow_up=False)]
        if finding.rule in ("weak-reference-stale", "new-reference-order"):
            return self._ordered(finding, head, producer, consumers)
        return []

    # -- strategies ----------------------------------------------------------------------

    def _removed(self, finding: Finding, head: AppVersion, producer: str, consumers: list[str]) -> list[_Candidate]:
        out = []
        target = versions.restrict(head, [producer, *consumers])
        if not any(producer in upstream(head, [c]) for c in consumers):
            first = _depend(head, producer, consumers, label="release 1")
            changes = tuple(self._dependency(producer, c) for c in consumers)
            call = _added_code(changes) or self._call(producer, "add_dependency", consumers)
            out.append(_Candidate(
                Plan(
                    "pipeline-temporary-dependency",
                    f"The pipeline must deploy {wording.names(self._name(c) for c in consumers)} before "
                    f"{self._name(producer)}, which deletes {finding.export}. "
                    f"{self._race_text(head, producer, consumers)}"
                    "Add a temporary dependency for one release, then remove it.",
                    (
                        Step(title=f"Release 1: add `{call}` (temporary), merge with this change",
                             kind="code-change",
                             detail=f"Where the stage creates these stacks. CDK Pipelines "
                             f"then runs {self._name(producer)}'s Prepare/Deploy after "
                             f"{wording.names(self._name(c) for c in consumers)}'s: "
                             f"{self._order_text(first, producer)}.",
                             code=_code(changes, self.language, call), changes=changes, applies_to="head"),
                        Step(title="Release 2: remove that line once release 1 has run through every stage",
                             kind="code-change",
                             detail="Nothing imports the export any more; the pipeline's order no longer matters.",
                             applies_to="head"),
                    ),
                ),
                (_Release(first, "release 1"), _Release(head, "release 2")),
                target,
            ))
        out.append(self._keep(finding, head, producer, consumers, follow_up=True))
        return out

    def _keep(self, finding: Finding, head: AppVersion, producer: str, consumers: list[str],
              *, follow_up: bool) -> _Candidate:
        export = finding.export
        assert export is not None
        token = self.base.stacks[producer].exports.get(export, f"{export}@base") \
            if producer in self.base.stacks else f"{export}@base"
        kept = versions.keep_export(head, export, producer, token, label="release 1")
        value = self._value(finding) or "<the attribute it exported>"
        call = snippets.export_value(snippets.this(self.language), value, self.language,
                                     None if ":ExportsOutput" in export else export)
        changes = tuple(keep_export_changes(self.context, self.sources, self.language, [(producer, export)]))
        call = _added_code(changes) or call
        steps = [Step(title=f"Release 1: keep the export in {self._name(producer)}, merge with this change",
                      kind="code-change",
                      detail=f"`{call}` in {producer}{placeholder_note(call)}: it re-creates "
                      "exactly this export name, "
                      "so the pipeline can deploy the stacks in any order.",
                      code=_code(changes, self.language, call), changes=changes, applies_to="head")]
        releases = [_Release(kept, "release 1")]
        if follow_up:
            steps.append(Step(title="Release 2: remove the export_value line once release 1 has run through "
                              "every stage", kind="code-change",
                              detail="No deployed stack imports it any more, so its deletion is accepted.",
                              applies_to="head"))
            releases.append(_Release(head, "release 2"))
        return _Candidate(
            Plan("pipeline-keep-export" if follow_up else "pipeline-restore-export",
                 f"Keep exporting {export} from {self._name(producer)}"
                 + (" for one more release, then remove it." if follow_up else "."),
                 tuple(steps)),
            tuple(releases),
            versions.restrict(releases[-1].version, [producer, *consumers]),
        )

    def _split(self, finding: Finding, head: AppVersion, producer: str, consumers: list[str]) -> list[_Candidate]:
        export = finding.export
        assert export is not None
        both = [producer, *consumers]
        names = wording.names(self._name(c) for c in consumers)
        refusal = (f"No release can ship this change: CloudFormation refuses to change export {export} while "
                   f"{names} import{'s' if len(consumers) == 1 else ''} it, whatever order the pipeline uses. "
                   "Split it.")
        out = []
        if wording.version_at_least(self.library, WEAK_REFERENCES_SINCE) is not False:
            v1 = versions.weak_switch(self.base, export, producer, consumers, keep_export=True, label="change 1")
            v2 = versions.weak_switch(head, export, producer, consumers, keep_export=False, label="change 2")
            v3 = replace(v2, label="change 3")
            v2 = _touch(v2, consumers)
            tags = tuple(self._tag(c, finding) for c in consumers)
            tag = _added_code(tags) or self._tag_call(consumers)
            out.append(_Candidate(
                Plan("pipeline-split-weak-reference", refusal, (
                    Step(title="Split this pull request: land change 1 alone first", kind="split"),
                    Step(title=f"Change 1 (without this PR's change): set `{FLAG}` to `both` in cdk.json; "
                         "let the pipeline deploy it", kind="code-change",
                         detail=f"{self._name(producer)} keeps the export and also publishes a plain output; "
                         f"{names} switch{'es' if len(consumers) == 1 else ''} to Fn::GetStackOutput; "
                         f"{self._order_text(v1, consumers[0])}.",
                         code=CodeLocation("json", "cdk.json", None, f'"{FLAG}": "both"'),
                         changes=(Change("context", key=FLAG, value="both"),), applies_to="base"),
                    Step(title=f"Change 2: this PR's change with `{FLAG}` set to `weak`, and `{tag}` (temporary)",
                         kind="code-change",
                         detail=f"The pipeline has no `--force`: {names}'s template would not change, and "
                         "whether CloudFormation re-reads Fn::GetStackOutput for an unchanged template is not "
                         f"documented. The tag changes it, so its change set re-reads {self._name(producer)}'s "
                         f"new value: {self._order_text(v2, consumers[0])}.",
                         code=_code(tags, self.language, tag),
                         changes=(Change("context", key=FLAG, value="weak"), *tags), applies_to="head"),
                    Step(title="Change 3: remove the tag", kind="code-change",
                         detail="A later release; removing it is one more template change.",
                         changes=(Change("context", key=FLAG, value="weak"),), applies_to="head"),
                )),
                (_Release(v1, "change 1"), _Release(v2, "change 2"), _Release(v3, "change 3")),
                versions.restrict(v3, both),
            ))
        parameter = f"/cdk-export-guard/{wording.slug(export)}"
        s1 = versions.ssm_switch(self.base, export, producer, consumers, parameter=parameter,
                                 keep_export=True, label="change 1")
        s2 = versions.ssm_switch(head, export, producer, consumers, parameter=parameter,
                                 keep_export=False, label="change 2")
        language = self.language
        value = self._value(finding) or "<the exported attribute>"
        write = snippets.ssm_write(snippets.this(language), "CdkExportGuardParameter", parameter, value, language)
        read = snippets.ssm_read(snippets.this(language), parameter, language)
        dependency = _added_code([self._dependency(consumers[0], producer)]) \
            or self._call(consumers[0], "add_dependency", [producer])
        out.append(_Candidate(
            Plan("pipeline-split-ssm-parameter", refusal, (
                Step(title="Split this pull request: land change 1 alone first", kind="split"),
                Step(title="Change 1 (without this PR's change): pass the value through an SSM parameter",
                     kind="code-change",
                     detail=f"In {producer}: `{write}`; in each consumer: `{read}` and `{dependency}`"
                     f"{placeholder_note(write, read, dependency)}.",
                     changes=(Change("description", description="the SSM parameter: written by the producer, "
                                     "read by each consumer, with add_dependency"),), applies_to="base"),
                Step(title="Change 2: this PR's change", kind="code-change", applies_to="previous",
                     detail="Every change set re-reads SSM-typed parameters, and the dependency puts the "
                     f"consumers' Prepare after {self._name(producer)}'s Deploy: "
                     f"{self._order_text(s2, consumers[0])}."),
            )),
            (_Release(s1, "change 1"), _Release(s2, "change 2")),
            versions.restrict(s2, both),
        ))
        return out

    def _ordered(self, finding: Finding, head: AppVersion, producer: str, consumers: list[str]) -> list[_Candidate]:
        target = versions.restrict(head, [producer, *consumers])
        declared = all(producer in upstream(head, [c]) for c in consumers)
        weak = finding.reference_kind is ReferenceKind.WEAK and finding.rule == "weak-reference-stale"
        if declared and not weak:
            return [_Candidate(
                Plan("pipeline-order", f"Nothing to change: {self._order_text(head, consumers[0])}.", ()),
                (_Release(head, "this change"),), target,
            )]
        version, steps = head, []
        if not declared:
            version = _depend(version, consumers[0], [producer], label="this change")
            for c in consumers[1:]:
                version = _depend(version, c, [producer], label="this change")
            call = self._call(consumers[0], "add_dependency", [producer])
            steps.append(Step(title=f"Add `{call}` for every consumer (keep it)", kind="code-change",
                              detail=f"The app declares no dependency, so the pipeline runs them in parallel; with "
                              f"it: {self._order_text(version, consumers[0])}.",
                              code=CodeLocation(self.language, None, None, call),
                              changes=tuple(self._dependency(c, producer) for c in consumers), applies_to="head"))
            call = _added_code(steps[-1].changes) or call
            steps[-1] = replace(steps[-1], title=f"Add `{call}` for every consumer (keep it)",
                                code=_code(steps[-1].changes, self.language, call))
        releases = [_Release(version, "this change")]
        if weak:
            version = _touch(version, consumers)
            tags = tuple(self._tag(c, finding) for c in consumers)
            tag = _added_code(tags) or self._tag_call(consumers)
            before = steps[-1].changes if steps else ()
            steps.append(Step(title=f"Add `{tag}` in this change (temporary)", kind="code-change",
                              detail="The consumer's template does not change, and the pipeline has no `--force`; "
                              "the tag makes its change set re-read the new value.",
                              code=_code(tags, self.language, tag),
                              changes=(*before, *tags), applies_to="head"))
            steps.append(Step(title="Remove the tag in a later release", kind="code-change",
                              changes=before, applies_to="head"))
            releases = [_Release(version, "this change"), _Release(replace(releases[0].version, label="follow-up"),
                                                                   "follow-up")]
        names = wording.names(self._name(c) for c in consumers)
        if not weak:
            summary = f"Make the pipeline deploy {names} after {self._name(producer)}."
        else:
            order = "" if not declared else f"In head, {self._order_text(head, consumers[0])}, after " \
                f"{self._name(producer)}; but "
            summary = (f"{order}{names}'s template does not change, so its change set would be empty and keep "
                       "the old value: change its template for this release.")
        return [_Candidate(
            Plan("pipeline-order" if not weak else "pipeline-refresh-consumer", summary, tuple(steps)),
            tuple(releases), target,
        )]

    # -- checking -------------------------------------------------------------------------

    def _choose(self, candidates: list[_Candidate], where: tuple[str, ...]) -> Plan:
        checked = [self._verify(c) for c in candidates]
        verified = [p for p in checked if p.checked]
        pool = verified or checked
        best = replace(pool[0], deployed_by=where)
        return replace(best, alternatives=tuple(replace(p, deployed_by=where) for p in pool[1:]))

    def _verify(self, candidate: _Candidate) -> Plan:
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

    def _order_text(self, version: AppVersion, stack_id: str) -> str:
        """Where the pipeline deploys ``stack_id`` in this version, by run order."""
        for run in self.runs(version):
            for stage in run.stages:
                for position, group in enumerate(stage.run_orders, start=1):
                    if any(a.stack == stack_id and a.execute for a in group):
                        together = sorted(self._name(a.stack) for a in group if a.execute and a.stack != stack_id)
                        with_ = f", with {wording.names(together)} in parallel" if together else ""
                        return (f"pipeline `{run.pipeline}`, stage `{stage.name}` deploys {self._name(stack_id)} "
                                f"at RunOrder {position}{with_}")
        return f"{self._name(stack_id)} is not deployed by a pipeline"

    def _race_text(self, head: AppVersion, producer: str, consumers: list[str]) -> str:
        text = self._order_text(head, producer)
        return f"In head, {text}. " if "in parallel" in text else ""

    def _value(self, finding: Finding) -> str | None:
        """The real source expression of the exported value, where the construct is located."""
        return ValueSites(self.context, self.sources).value_expression(finding)

    def _call(self, stack_id: str, method: str, others: Sequence[str]) -> str:
        name = method if self.language == "python" else _camel(method)
        args = ", ".join(f"<{o}>" for o in others)
        return f"<{stack_id}>.{name}({args})"

    def _tag_call(self, consumers: Sequence[str]) -> str:
        if self.language == "python":
            return f'cdk.Tags.of(<{consumers[0]}>).add("{REFRESH_TAG}", "<this release>")'
        return f"Tags.of(<{consumers[0]}>).add('{REFRESH_TAG}', '<this release>')"

    def _dependency(self, waiting: str, first: str) -> Change:
        """A patch adding ``waiting.add_dependency(first)`` where the stacks are created."""
        w_site, f_site = self.sources.get(waiting), self.sources.get(first)
        if w_site is not None and f_site is not None:
            change = patches.add_dependency_patch(w_site, f_site, waiting.rsplit("/", 1)[-1], first.rsplit("/", 1)[-1])
            if change is not None:
                return change
        code = self._call(waiting, "add_dependency", [first])
        return Change("description", description=f"where the stacks are created: `{code}`")

    def _tag(self, stack_id: str, finding: Finding) -> Change:
        """A patch tagging the stack, so its template changes for one release."""
        site = self.sources.get(stack_id)
        change = patches.tag_patch(site, REFRESH_TAG, finding.id[:8]) if site is not None else None
        code = self._tag_call([stack_id])
        return change or Change("description", description=f"where {stack_id} is created: `{code}`")

    def _name(self, stack_id: str) -> str:
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
                by_place.setdefault(deployer.describe(), []).append(self._name(stack_id))
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


_PLACEHOLDER = re.compile(r"<[^<>\s][^<>]*>")


def placeholder_note(*code: str) -> str:
    """" (placeholder in <>)" only while the code shown still holds one: real expressions need no note."""
    count = sum(len(_PLACEHOLDER.findall(text)) for text in code)
    return "" if not count else " (placeholder in <>)" if count == 1 else " (placeholders in <>)"


def _added_code(changes: Sequence[Change]) -> str | None:
    """The code lines the patches add (comments left out), or None unless every change is a patch."""
    if not changes or any(c.kind != "patch" or not c.diff for c in changes):
        return None
    added = []
    for change in changes:
        for line in (change.diff or "").splitlines():
            code = line[1:].strip()
            if line.startswith("+") and not line.startswith("+++") and code and not code.startswith(("#", "//")):
                added.append(code)
    return "; ".join(dict.fromkeys(added)) or None


def _code(changes: Sequence[Change], language: str, fallback: str) -> CodeLocation:
    """Where the step's code goes: the patched file, else the snippet alone."""
    path = next((c.path for c in changes if c.kind == "patch"), None)
    return CodeLocation(language, path, None, _added_code(changes) or fallback)


def _depend(version: AppVersion, stack_id: str, on: Sequence[str], *, label: str) -> AppVersion:
    """``stack.add_dependency(other)`` for each of ``on``: a template change-free ordering edge."""
    specs = dict(version.stacks)
    spec = specs[stack_id]
    specs[stack_id] = replace(spec, dependencies=spec.dependencies | frozenset(on))
    return replace(version, label=label, stacks=specs)


def _touch(version: AppVersion, stack_ids: Sequence[str]) -> AppVersion:
    """A template change in each stack (the refresh tag), so its change set is not empty."""
    specs = dict(version.stacks)
    for stack_id in stack_ids:
        specs[stack_id] = replace(specs[stack_id], template=specs[stack_id].template + f"+{REFRESH_TAG}")
    return replace(version, stacks=specs)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
