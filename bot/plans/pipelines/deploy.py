"""How an app is deployed by CodePipeline: pipeline stacks of an assembly, read as data. Pure.

A CDK Pipelines app (``pipelines.CodePipeline`` + ``add_stage``/``add_wave``) synthesizes
one ``AWS::CodePipeline::Pipeline`` whose deploy stages hold a CloudFormation action pair
per stack: ``<Stack>.Prepare`` (``ActionMode: CHANGE_SET_REPLACE``, with ``StackName``,
``ChangeSetName`` and ``TemplatePath: <artifact>::assembly-<Stage>/<artifact id>.template.json``)
at one ``RunOrder`` and ``<Stack>.Deploy`` (``CHANGE_SET_EXECUTE``) at the next. A stack
that depends on another gets its Prepare after that stack's Deploy; stacks with no
dependency between them share run orders and run in parallel (CodePipeline runs the
actions of one RunOrder at the same time). A wave is one pipeline stage holding several
CDK stages' actions. Hand-written pipelines may use ``CREATE_UPDATE`` or
``REPLACE_ON_FAILURE`` (prepare and execute in one action).

The pipeline updates itself first (the ``UpdatePipeline`` stage), so the *head*
template's stages are the order a merged change is deployed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from bot.core.model import Assembly, Json, Stack, StackKey

PIPELINE_TYPE = "AWS::CodePipeline::Pipeline"
PREPARE = "CHANGE_SET_REPLACE"
EXECUTE = "CHANGE_SET_EXECUTE"
# Modes that create or update the stack in one action (CodePipeline action reference).
DIRECT = ("CREATE_UPDATE", "REPLACE_ON_FAILURE")


@dataclass(frozen=True)
class StackAction:
    """One CloudFormation action of a pipeline stage, mapped to a stack of the app."""

    name: str  # action name, e.g. "Storage.Prepare"
    mode: str  # PREPARE, EXECUTE or one of DIRECT
    stack_name: str
    change_set: str | None
    run_order: int
    stack: StackKey | None  # None when no stack of the assembly matches


@dataclass(frozen=True)
class PipelineStage:
    name: str
    actions: tuple[StackAction, ...]

    def stacks(self) -> tuple[StackKey, ...]:
        """The app's stacks this stage deploys, in run order."""
        seen: dict[StackKey, None] = {}
        for action in sorted(self.actions, key=lambda a: a.run_order):
            if action.stack is not None:
                seen.setdefault(action.stack)
        return tuple(seen)


@dataclass(frozen=True)
class Pipeline:
    name: str  # the pipeline's Name, else its construct path or logical id
    stack: StackKey  # the stack that holds the pipeline
    logical_id: str
    stages: tuple[PipelineStage, ...]  # only stages with CloudFormation actions, in order
    self_mutating: bool  # CDK Pipelines' UpdatePipeline stage

    def stage_of(self, key: StackKey) -> PipelineStage | None:
        return next((s for s in self.stages if key in s.stacks()), None)


@dataclass(frozen=True)
class Deployer:
    """Where one stack is deployed from: a pipeline and the stage in it."""

    pipeline: Pipeline
    stage: PipelineStage

    def describe(self) -> str:
        return f"pipeline `{self.pipeline.name}`, stage `{self.stage.name}`"


def find_pipelines(assembly: Assembly) -> tuple[Pipeline, ...]:
    """Every CodePipeline in the assembly that deploys CloudFormation stacks."""
    every = assembly.all_stacks()
    by_template = {s.template_file: s.key for s in every if s.parent is None}
    by_name: dict[str, list[Stack]] = {}
    for stack in every:
        if stack.parent is None:
            by_name.setdefault(stack.stack_name, []).append(stack)
    found = []
    for holder in every:
        for logical_id in sorted(holder.resources.of_type(PIPELINE_TYPE)):  # no resource is modelled
            pipeline = _pipeline(holder, logical_id, holder.resources.properties(logical_id),
                                 holder.resources.construct_path(logical_id), by_template, by_name)
            if pipeline.stages:
                found.append(pipeline)
    return tuple(found)


def deployers(pipelines: Iterable[Pipeline]) -> dict[StackKey, Deployer]:
    """Each pipeline-deployed stack and the first pipeline stage that deploys it."""
    out: dict[StackKey, Deployer] = {}
    for pipeline in pipelines:
        for stage in pipeline.stages:
            for key in stage.stacks():
                out.setdefault(key, Deployer(pipeline, stage))
    return out


def _pipeline(
    holder: Stack,
    logical_id: str,
    properties: Mapping[str, Json],
    construct_path: str | None,
    by_template: Mapping[str, StackKey],
    by_name: Mapping[str, list[Stack]],
) -> Pipeline:
    raw_name = properties.get("Name")
    name = raw_name if isinstance(raw_name, str) else (construct_path or logical_id).removesuffix("/Resource")
    stages = []
    self_mutating = False
    raw_stages = properties.get("Stages")
    for raw in raw_stages if isinstance(raw_stages, list) else []:
        if not isinstance(raw, dict):
            continue
        stage_name = raw.get("Name") if isinstance(raw.get("Name"), str) else "?"
        self_mutating = self_mutating or stage_name == "UpdatePipeline"
        raw_actions = raw.get("Actions")
        actions = [
            a for a in (_action(r, holder, by_template, by_name)
                        for r in (raw_actions if isinstance(raw_actions, list) else []))
            if a is not None
        ]
        # An Execute action names no template: it deploys what its stage's Prepare matched.
        prepared = {(a.stack_name, a.change_set): a.stack for a in actions if a.stack is not None}
        actions = [a if a.stack is not None else replace(a, stack=prepared.get((a.stack_name, a.change_set)))
                   for a in actions]
        if actions:
            stages.append(PipelineStage(str(stage_name), tuple(actions)))
    return Pipeline(str(name), holder.key, logical_id, tuple(stages), self_mutating)


def _action(
    raw: Json, holder: Stack, by_template: Mapping[str, StackKey], by_name: Mapping[str, list[Stack]]
) -> StackAction | None:
    if not isinstance(raw, dict):
        return None
    type_id = raw.get("ActionTypeId")
    if not isinstance(type_id, dict) or type_id.get("Provider") != "CloudFormation":
        return None
    config = raw.get("Configuration")
    if not isinstance(config, dict):
        return None
    mode, stack_name = config.get("ActionMode"), config.get("StackName")
    if mode not in (PREPARE, EXECUTE, *DIRECT) or not isinstance(stack_name, str):
        return None  # DELETE_ONLY, or a name only known at deploy time
    run_order = raw.get("RunOrder", 1)
    change_set = config.get("ChangeSetName")
    region = raw.get("Region") if isinstance(raw.get("Region"), str) else holder.environment.region
    return StackAction(
        name=str(raw.get("Name", "")),
        mode=str(mode),
        stack_name=stack_name,
        change_set=change_set if isinstance(change_set, str) else None,
        run_order=run_order if isinstance(run_order, int) else 1,
        stack=_match(config.get("TemplatePath"), stack_name, str(region), by_template, by_name),
    )


def _match(
    template_path: Json, stack_name: str, region: str,
    by_template: Mapping[str, StackKey], by_name: Mapping[str, list[Stack]],
) -> StackKey | None:
    """The assembly stack an action deploys: by its template file, else by name and region."""
    if isinstance(template_path, str) and "::" in template_path:
        key = by_template.get(template_path.split("::", 1)[1])
        if key is not None:
            return key
    candidates = [s for s in by_name.get(stack_name, []) if s.environment.region in (region, "unknown-region")]
    return candidates[0].key if len(candidates) == 1 else None
