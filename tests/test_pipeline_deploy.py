"""Apps deployed by CDK Pipelines: reading the pipeline, simulating it, planning for it.

The pipeline test apps (tests/apps/pipeline_*) are synthesized (as the pinned cdk CLI runs them) at
base, head and at each release a plan asks for (variants ``step1``..). A plan is checked
twice: as the planner models it, and by running the synthesized releases - their real
templates, in the order of their own synthesized pipelines - through the pipeline simulator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli.analyze import run_analysis
from bot.core.assembly import load_assembly
from bot.core.context import build_context
from bot.core.model import AnalysisResult, Assembly, Finding, Level
from bot.plans import versions
from bot.plans.pipelines.deploy import find_pipelines
from bot.plans.pipelines.runs import template_runs
from bot.plans.pipelines.simulate import Action, PipelineRun, StageRun, cdk_pipelines_order, run_pipelines
from bot.plans.pipelines.verify import verify_pipeline_plans
from bot.plans.simulate import AppVersion, Simulation, StackSpec, deployed_state, differences
from bot.render import markdown
from tests.plan_synth import app_verify_options
from tests.synth_cache import app_dir

SynthApp = Callable[[str, str], Path]
synth = pytest.mark.synth


# --- helpers ------------------------------------------------------------------------------


def state_version(base: Assembly, state: Assembly, label: str) -> AppVersion:
    """A synthesized app state for the simulator: a value that differs from base gets the
    state's own token, so two states never pass for the same value."""
    context = build_context(base, state)
    known = versions.Versions(context)
    return versions._version(context.head, context.head_graph, label,
                             lambda kind, stack, name: label if known._changes(kind, stack, name) else versions.BASE)


def releases(synth_app: SynthApp, app: str, variants: Sequence[str]) -> tuple[Simulation, AppVersion]:
    """Deploy base, then each variant through the pipeline of its own synthesized template."""
    base = load_assembly(synth_app(app, "base"))
    initial = deployed_state(state_version(base, base, "base"))
    runs: list[PipelineRun] = []
    version = state_version(base, base, "base")
    for variant in variants:
        assembly = load_assembly(synth_app(app, variant))
        version = state_version(base, assembly, variant)
        runs += template_runs(find_pipelines(assembly), {s.key: s for s in assembly.all_stacks()}, version)
    return run_pipelines(initial, runs), version


def reached(simulation: Simulation, version: AppVersion) -> bool:
    return simulation.ok and not differences(simulation.state, version)


def analyzed(synth_app: SynthApp, app: str) -> AnalysisResult:
    return run_analysis(synth_app(app, "base"), synth_app(app, "head"), source=app_dir(app))


def hand_run(finding: Finding) -> list[str]:
    plan = finding.remediation
    assert plan is not None
    return [c for s in plan.steps for c in s.commands]


# --- reading the pipeline -------------------------------------------------------------------


@synth
def test_the_head_pipeline_is_read_with_its_stages_and_run_orders(synth_app: SynthApp) -> None:
    head = load_assembly(synth_app("pipeline_dropped_reference", "head"))
    (pipeline,) = find_pipelines(head)
    assert pipeline.name == "Delivery-Pipeline" and pipeline.self_mutating
    (stage,) = pipeline.stages
    assert stage.name == "Prod"
    actions = {(a.name, a.mode, a.stack_name, a.run_order) for a in stage.actions}
    assert actions == {
        ("Storage.Prepare", "CHANGE_SET_REPLACE", "Prod-Storage", 1),
        ("Processing.Prepare", "CHANGE_SET_REPLACE", "Prod-Processing", 1),
        ("Storage.Deploy", "CHANGE_SET_EXECUTE", "Prod-Storage", 2),
        ("Processing.Deploy", "CHANGE_SET_EXECUTE", "Prod-Processing", 2),
    }
    names = {head_stack.key: head_stack.stack_name for head_stack in head.all_stacks()}
    assert sorted(names[k] for k in stage.stacks()) == ["Prod-Processing", "Prod-Storage"]


@synth
@pytest.mark.parametrize(("app", "variant"), [
    ("pipeline_dropped_reference", "base"), ("pipeline_dropped_reference", "head"),
    ("pipeline_dropped_reference", "step1"), ("pipeline_layer", "base"), ("pipeline_layer", "step2"),
    ("pipeline_two_stages", "step1"), ("pipeline_waves", "head"),
])
def test_the_modelled_cdk_pipelines_order_is_the_synthesized_one(synth_app: SynthApp, app: str, variant: str) -> None:
    """The planner predicts the order of a changed app; the real synth must agree."""
    assembly = load_assembly(synth_app(app, variant))
    version = state_version(assembly, assembly, variant)
    stacks = {s.key: s for s in assembly.all_stacks()}
    (run,) = template_runs(find_pipelines(assembly), stacks, version)
    for stage in run.stages:
        predicted = cdk_pipelines_order(version, list(stage.stacks()))
        assert [set(g) for g in predicted] == [set(g) for g in stage.run_orders], stage.name


@synth
def test_a_wave_runs_its_stages_at_the_same_run_orders(synth_app: SynthApp) -> None:
    head = load_assembly(synth_app("pipeline_waves", "head"))
    (pipeline,) = find_pipelines(head)
    (wave,) = pipeline.stages
    assert wave.name == "Regions"
    orders = {a.name: a.run_order for a in wave.actions}
    assert orders["Blue.Compute.Deploy"] == orders["Green.Compute.Deploy"] == 2
    assert orders["Blue.Admin.Prepare"] == orders["Green.Admin.Prepare"] == 3


# --- the pipeline's semantics on plain data ----------------------------------------------


def spec(stack_id: str, template: str = "t", **kwargs: object) -> StackSpec:
    return StackSpec(id=stack_id, name=stack_id, template=f"{stack_id}@{template}", **kwargs)  # type: ignore[arg-type]


def one_stage(version: AppVersion, *groups: tuple[Action, ...]) -> PipelineRun:
    return PipelineRun("P", version, (StageRun("Prod", groups),))


def both(stack_id: str) -> Action:
    return Action(stack_id, prepare=True, execute=True)


def test_a_dependency_race_at_one_run_order_fails_in_either_order() -> None:
    base = AppVersion("base", {"P": spec("P"), "C": spec("C")})
    head = AppVersion("head", {"P": spec("P", "h", exports={"E": "E@1"}),
                               "C": spec("C", "h", imports=frozenset({"E"}))})
    parallel = run_pipelines(deployed_state(base), [one_stage(head, (both("C"), both("P")))])
    assert parallel.error is not None and "No export named E found" in parallel.error
    assert "same RunOrder as P" in parallel.error
    ordered = run_pipelines(deployed_state(base), [one_stage(head, (both("P"),), (both("C"),))])
    assert ordered.ok


def test_an_unchanged_template_is_an_empty_change_set_and_keeps_a_weak_value() -> None:
    base = AppVersion("base", {"P": spec("P", outputs={"O": "v1"}),
                               "C": spec("C", weak_reads=frozenset({("P", "O")}), dependencies=frozenset({"P"}))})
    head = AppVersion("head", {"P": spec("P", "h", outputs={"O": "v2"}), "C": base.stacks["C"]})
    run = one_stage(head, (both("P"),), (both("C"),))
    simulation = run_pipelines(deployed_state(base), [run])
    assert simulation.error is None and simulation.steps[-1].skipped == ("C",)
    assert simulation.stale == ("C still holds the old value of P.O",)
    touched = AppVersion("head", {**head.stacks, "C": spec("C", "touched", weak_reads=frozenset({("P", "O")}),
                                                              dependencies=frozenset({"P"}))})
    assert run_pipelines(deployed_state(base), [one_stage(touched, (both("P"),), (both("C"),))]).ok


def test_an_ssm_parameter_is_read_again_by_every_change_set() -> None:
    base = AppVersion("base", {"P": spec("P", ssm_writes={"/x": "v1"}),
                               "C": spec("C", ssm_reads=frozenset({"/x"}), dependencies=frozenset({"P"}))})
    head = AppVersion("head", {"P": spec("P", "h", ssm_writes={"/x": "v2"}), "C": base.stacks["C"]})
    simulation = run_pipelines(deployed_state(base), [one_stage(head, (both("P"),), (both("C"),))])
    assert simulation.ok and simulation.steps[-1].deployed == ("C",)
    # Prepared in parallel with the producer's deploy, the consumer's change set holds the old value.
    early = run_pipelines(deployed_state(base), [one_stage(
        head, (Action("P", True, False), Action("C", True, False)), (Action("P", False, True),),
        (Action("C", False, True),))])
    assert early.stale


def test_later_stages_see_what_earlier_stages_left() -> None:
    base = AppVersion("base", {"P": spec("P"), "C": spec("C")})
    head = AppVersion("head", {"P": spec("P", "h", exports={"E": "E@1"}),
                               "C": spec("C", "h", imports=frozenset({"E"}))})
    run = PipelineRun("P", head, (StageRun("Beta", ((both("P"),),)), StageRun("Prod", ((both("C"),),))))
    assert run_pipelines(deployed_state(base), [run]).ok
    backwards = PipelineRun("P", head, (StageRun("Beta", ((both("C"),),)), StageRun("Prod", ((both("P"),),))))
    assert run_pipelines(deployed_state(base), [backwards]).error is not None


# --- plans, checked on the synthesized releases ---------------------------------------------


@synth
def test_dropped_reference_in_a_stage_gets_a_temporary_dependency(synth_app: SynthApp) -> None:
    (finding,) = analyzed(synth_app, "pipeline_dropped_reference").findings
    assert finding.rule == "export-removed-in-use"
    plan = finding.remediation
    assert plan is not None and plan.checked
    assert plan.strategy == "pipeline-temporary-dependency"
    assert plan.deployed_by == ("pipeline `Delivery-Pipeline`, stage `Prod` (Prod-Processing, Prod-Storage)",)
    assert hand_run(finding) == []
    assert "add_dependency" in plan.steps[0].title and "remove" in plan.steps[1].title
    assert any(a.strategy == "pipeline-keep-export" and a.checked for a in plan.alternatives)
    # The head pipeline alone races: both stacks deploy at one RunOrder.
    head_only, _ = releases(synth_app, "pipeline_dropped_reference", ["head"])
    assert head_only.error is not None and "same RunOrder" in head_only.error and "cannot be deleted" in head_only.error
    # Release 1 as synthesized puts Storage after Processing; release 2 (head) then finishes.
    step1 = load_assembly(synth_app("pipeline_dropped_reference", "step1"))
    orders = {a.name: a.run_order for a in find_pipelines(step1)[0].stages[0].actions}
    assert orders["Storage.Prepare"] > orders["Processing.Deploy"]
    simulation, head = releases(synth_app, "pipeline_dropped_reference", ["step1", "head"])
    assert reached(simulation, head), simulation


@synth
def test_layer_change_in_a_stage_is_split_and_forces_the_consumer_template(synth_app: SynthApp) -> None:
    (finding,) = analyzed(synth_app, "pipeline_layer").findings
    assert finding.rule == "export-value-change-in-use"
    plan = finding.remediation
    assert plan is not None and plan.checked and plan.strategy == "pipeline-split-weak-reference"
    assert hand_run(finding) == []
    assert "cdk-export-guard-refresh" in plan.steps[2].title and "remove the tag" in plan.steps[3].title.lower()
    head_only, _ = releases(synth_app, "pipeline_layer", ["head"])
    assert head_only.error is not None and "Cannot update export" in head_only.error
    # Without the tag the consumer's change set is empty and it keeps the old layer.
    untagged, _ = releases(synth_app, "pipeline_layer", ["step1", "step3"])
    assert untagged.error is None and any("Prod-Admin" in s for s in untagged.stale)
    simulation, final = releases(synth_app, "pipeline_layer", ["step1", "step2", "step3"])
    assert reached(simulation, final), simulation


@synth
def test_two_stages_deploy_beta_then_prod(synth_app: SynthApp) -> None:
    findings = analyzed(synth_app, "pipeline_two_stages").findings
    stages = sorted(f.remediation.deployed_by[0].split(" (")[0] for f in findings if f.remediation)
    assert stages == ["pipeline `Delivery-Pipeline`, stage `Beta`", "pipeline `Delivery-Pipeline`, stage `Prod`"]
    for finding in findings:
        assert finding.remediation is not None and finding.remediation.checked and hand_run(finding) == []
    simulation, head = releases(synth_app, "pipeline_two_stages", ["step1", "head"])
    assert reached(simulation, head), simulation
    stage_order = [s.command.split("stage ")[1].split(",")[0] for s in simulation.steps if "stage " in s.command]
    assert stage_order.index("Beta") < stage_order.index("Prod")
    head_only, _ = releases(synth_app, "pipeline_two_stages", ["head"])
    assert head_only.error is not None and head_only.error.startswith("Beta-Storage")  # Prod never runs


@synth
def test_waves_refresh_weak_consumers_with_a_template_change(synth_app: SynthApp) -> None:
    findings = analyzed(synth_app, "pipeline_waves").findings
    assert sorted(f.rule for f in findings) == ["weak-reference-stale"] * 2
    for finding in findings:
        plan = finding.remediation
        assert plan is not None and plan.checked and plan.strategy == "pipeline-refresh-consumer"
        assert hand_run(finding) == [] and "stage `Regions`" in plan.deployed_by[0]
    head_only, _ = releases(synth_app, "pipeline_waves", ["head"])
    assert head_only.error is None and len(head_only.stale) == 2
    simulation, head = releases(synth_app, "pipeline_waves", ["step1", "head"])
    assert reached(simulation, head), simulation


@synth
def test_the_comment_says_how_the_app_is_deployed(synth_app: SynthApp) -> None:
    body = markdown.render(analyzed(synth_app, "pipeline_dropped_reference"))
    assert "Deployed by pipeline `Delivery-Pipeline`, stage `Prod`" in body
    assert "cdk deploy" not in body


@synth
def test_an_app_without_a_pipeline_keeps_its_command_plan(synth_app: SynthApp) -> None:
    base, head = synth_app("dropped_reference", "base"), synth_app("dropped_reference", "head")
    assert find_pipelines(load_assembly(head)) == ()
    (planned,) = run_analysis(base, head).findings
    assert planned.remediation is not None and planned.remediation.deployed_by == ()
    assert any(c.startswith("cdk deploy") for c in hand_run(planned))


@synth
def test_a_pipeline_app_also_deployed_by_a_script_gets_both_plans(synth_app: SynthApp, tmp_path: Path) -> None:
    (tmp_path / "deploy.sh").write_text("#!/bin/sh\nnpx cdk deploy 'Delivery/Prod/*' --require-approval never\n")
    result = run_analysis(synth_app("pipeline_dropped_reference", "base"),
                          synth_app("pipeline_dropped_reference", "head"),
                          source=app_dir("pipeline_dropped_reference"), repo=tmp_path)
    (finding,) = result.findings
    plan = finding.remediation
    assert plan is not None and plan.checked and plan.strategy == "pipeline-temporary-dependency"
    assert plan.deployed_by == ("pipeline `Delivery-Pipeline`, stage `Prod` (Prod-Processing, Prod-Storage)",
                                "`deploy.sh`")
    by_hand = plan.alternatives[0]
    assert by_hand.summary.startswith("Where deploy.sh deploys these stacks by hand")
    assert by_hand.checked and any(c.startswith("cdk deploy") for s in by_hand.steps for c in s.commands)
    assert by_hand.strategy == "deploy-consumers-first"


@synth
def test_synthesized_verification_refuses_a_release_without_its_patch(synth_app: SynthApp) -> None:
    """The synthesized check can fail: release 1 without the add_dependency patch races."""
    name = "pipeline_dropped_reference"
    base, head = synth_app(name, "base"), synth_app(name, "head")
    result = run_analysis(base, head, source=app_dir(name))
    (finding,) = result.findings
    plan = finding.remediation
    assert plan is not None and plan.verification.level is Level.MODELLED
    assert plan.steps[0].changes and plan.steps[0].changes[0].kind == "patch"
    assert "+        storage.add_dependency(processing)" in (plan.steps[0].changes[0].diff or "")
    good = verify_pipeline_plans(result, base, head, app_verify_options(name))
    assert good.findings[0].remediation is not None and good.findings[0].remediation.verified
    stripped = replace(plan, steps=(replace(plan.steps[0], changes=()), *plan.steps[1:]), alternatives=())
    bad = verify_pipeline_plans(replace(result, findings=(replace(finding, remediation=stripped),)), base, head,
                                app_verify_options(name))
    checked = bad.findings[0].remediation
    assert checked is not None and checked.verification.level is Level.NONE
    assert "same RunOrder" in checked.verification.reason


@synth
def test_placeholder_wording_only_while_a_placeholder_remains(synth_app: SynthApp) -> None:
    """With the source, the SSM step shows the real expressions and no "(placeholders in <>)";
    without it, the placeholders stay and say so."""
    def ssm_detail(result: AnalysisResult) -> str:
        (finding,) = result.findings
        assert finding.remediation is not None
        every = [finding.remediation, *finding.remediation.alternatives]
        plan = next(p for p in every if p.strategy == "pipeline-split-ssm-parameter")
        return plan.steps[1].detail

    located = ssm_detail(analyzed(synth_app, "pipeline_layer"))
    assert "string_value=self.layer.layer_version_arn" in located and "add_dependency(compute)" in located
    assert "<" not in located and "placeholder" not in located
    unlocated = ssm_detail(run_analysis(synth_app("pipeline_layer", "base"), synth_app("pipeline_layer", "head")))
    assert "<the exported attribute>" in unlocated and unlocated.endswith("(placeholders in <>).")


def test_placeholder_note_counts_what_is_left() -> None:
    from bot.plans.pipelines.edits import placeholder_note

    assert placeholder_note("self.export_value(self.bucket.bucket_name)") == ""
    assert placeholder_note("x if a < b else c > d") == ""  # comparisons are no placeholder
    assert placeholder_note("self.export_value(<the attribute it exported>)") == " (placeholder in <>)"
    assert placeholder_note("<A>.add_dependency(<B>)", "real()") == " (placeholders in <>)"
