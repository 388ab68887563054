"""The eight failure kinds of issue #10, each on its own app in tests/apps, checked for real.

For every kind, the plans the product prints for the app (the JSON report's
``steps[].changes`` and ``applies_to``, read back) are replayed: each state a plan deploys
is a scratch copy of the app with those changes applied, synthesized as the pinned CDK CLI
runs the app (tests/direct_synth.py),
and the plan's exact command lines run in the simulator over those templates from the
deployed base. A plan may say ``synthesized`` only when that replay accepts it; the
kind-specific tests then assert what the issue's "Done when" asks of that kind.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from bot.cli.analyze import run_analysis
from bot.core.model import AnalysisResult, Change, Finding, Level, Plan, Severity, Step, Verification
from bot.plans.patches import apply, diff
from bot.plans.states import plan_run
from bot.plans.verify import Tree, VerifyOptions, apply_changes, verify_plans
from bot.render import json_report
from tests.corpus import CORPUS, SOURCE, requires_source
from tests.plan_synth import app_verify_options, cached_state_synth
from tests.synth_cache import app_dir
from tests.test_plan_verify import corpus_synth

pytestmark = pytest.mark.synth
SynthApp = Callable[[str, str], Path]
FLAG = "@aws-cdk/core:defaultCrossStackReferences"


@dataclass(frozen=True)
class Kind:
    number: int
    failure: str  # as the issue words it
    app: str  # tests/apps/<app>


KINDS = (
    Kind(1, "weak-reference plan for a hand-named export", "named_export_layer"),
    Kind(2, "SSM alternative refused at change 1 for automatic references", "layer_cross_stack"),
    Kind(3, "current_version: keep the export one release cannot be applied", "current_version"),
    Kind(4, "per-finding plans that only work together", "exports_together"),
    Kind(5, "a notice's ordered deploy marked verified under a blocker", "blocker_and_notice"),
    Kind(6, "version blindness: weak references need aws-cdk-lib >= 2.254", "old_library_pin"),
    Kind(7, "wrong language: a TypeScript app", "ts_layer"),  # also tests/test_plan_verify.py
    Kind(8, "simulation lines that disagree with the real states", "upstream_flag"),
)


def analyzed(synth_app: SynthApp, name: str) -> AnalysisResult:
    return run_analysis(synth_app(name, "base"), synth_app(name, "head"), source=app_dir(name),
                        base_source=app_dir(name), verify=app_verify_options(name))


def printed_plans(result: AnalysisResult) -> list[tuple[Finding, dict[str, Any]]]:
    """Every plan as the JSON report prints it (primary and alternatives), with its finding."""
    report = json.loads(json_report.render(result))
    by_id = {f.id: f for f in result.findings}
    out = []
    for finding in report["findings"]:
        remediation = finding["remediation"]
        for plan in [remediation, *remediation.get("alternatives", [])]:
            out.append((by_id[finding["id"]], plan))
    return out


def plan_from_json(plan: dict[str, Any]) -> Plan:
    """The printed plan, rebuilt from its JSON only, at the model's level (to be checked again)."""
    steps = tuple(
        Step(step["title"], step["kind"], tuple(step.get("commands", ())),
             changes=tuple(Change(c["kind"], path=c.get("path"), diff=c.get("diff"), key=c.get("key"),
                                  value=c.get("value"), description=c.get("description"))
                           for c in step.get("changes", ())),
             applies_to=step.get("applies_to"))
        for step in plan["steps"])
    return Plan(plan["strategy"], plan["summary"], steps,
                verification=Verification(Level.MODELLED, (), "replayed from the printed JSON"))


def replay(synth_app: SynthApp, name: str, finding: Finding, plan: Plan) -> Plan:
    """Apply, synthesize and simulate ``plan`` on the app, as printed."""
    result = AnalysisResult(base=None, head=None,  # type: ignore[arg-type]
                            findings=(replace(finding, remediation=plan),), stacks=())
    out = verify_plans(result, synth_app(name, "base"), synth_app(name, "head"), app_verify_options(name))
    checked = out.findings[0].remediation
    assert checked is not None
    return checked


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: f"kind{k.number}-{k.app}")
def test_printed_plans_say_synthesized_only_when_their_changes_work(synth_app: SynthApp, kind: Kind) -> None:
    result = analyzed(synth_app, kind.app)
    assert result.findings, f"{kind.app} must reproduce failure kind {kind.number}"
    for finding in result.findings:
        assert finding.remediation is not None
        if finding.severity is Severity.BLOCKER:
            assert finding.remediation.verified, (kind, finding.remediation.verification)
    for finding, printed in printed_plans(result):
        again = replay(synth_app, kind.app, finding, plan_from_json(printed))
        if printed["verification"]["level"] == "synthesized":
            assert printed["verified"] is True
            assert again.verification.level is Level.SYNTHESIZED, (printed["strategy"], again.verification)
        else:
            assert printed["verified"] is False
            # Not claimed: either it cannot be built (kept at the model's level) or it is refused.
            assert again.verification.level is not Level.SYNTHESIZED or \
                printed["verification"]["level"] == "none", (printed["strategy"], printed["verification"])


# 1. Hand-named export: no weak route (the flag changes only automatic references); SSM patches work.
def test_kind1_hand_named_export_gets_the_ssm_route_as_patches(synth_app: SynthApp) -> None:
    (finding,) = analyzed(synth_app, "named_export_layer").findings
    plan = finding.remediation
    assert plan is not None and plan.strategy == "split-ssm-parameter" and plan.verified
    assert "split-weak-reference" not in [a.strategy for a in plan.alternatives]
    assert all(c.kind == "patch" for s in plan.steps for c in s.changes)


# 2. SSM route for automatic references: export kept one release, then parameter write/read; synthesized.
@pytest.mark.parametrize("name", ["layer_cross_stack", "example"])
def test_kind2_ssm_route_for_an_automatic_reference_is_synthesized(synth_app: SynthApp, name: str) -> None:
    findings = analyzed(synth_app, name).findings
    (finding,) = [f for f in findings if f.severity is Severity.BLOCKER]
    plan = finding.remediation
    assert plan is not None
    ssm = next(p for p in [plan, *plan.alternatives] if p.strategy == "split-ssm-parameter")
    assert ssm.verification.level is Level.SYNTHESIZED, ssm.verification
    change1, change2 = [s for s in ssm.steps if s.commands]
    assert change1.applies_to == "base" and change2.applies_to == "head"
    assert all(c.kind == "patch" for s in (change1, change2) for c in s.changes)
    first = "".join(c.diff or "" for c in change1.changes)
    second = "".join(c.diff or "" for c in change2.changes)
    assert "+        self.export_value(self.strands_layer.layer_version_arn)" in first
    assert "ssm.StringParameter.value_for_string_parameter(self" in first
    assert "LayerVersion.from_layer_version_arn(self" in first
    assert ".add_dependency(" in first and ".add_dependency(" in second
    assert "export_value" not in second  # change 2 drops the kept export
    # Without the kept export, change 1 is refused: the deployed consumer still imports it.
    dropped = replace(change1, changes=tuple(_without_export_value(name, c) for c in change1.changes))
    bare = replace(ssm, steps=tuple(dropped if s is change1 else s for s in ssm.steps),
                   verification=Verification(Level.MODELLED, (), ""), alternatives=())
    refused = replay(synth_app, name, finding, bare)
    assert refused.verification.level is Level.NONE
    assert "cannot be deleted as it is in use" in refused.verification.reason


def _without_export_value(name: str, change: Change) -> Change:
    """The same patch without its ``export_value`` lines (and their note)."""
    assert change.diff is not None and change.path is not None
    before = (app_dir(name) / change.path).read_text()
    kept = [line for line in apply(before, change.diff).split("\n")
            if "export_value(" not in line and "keep this export" not in line]
    return replace(change, diff=diff(change.path, before, "\n".join(kept)))


# 2b. Dropping a consumer's reference is a patch: the detach plan is synthesized.
def test_drop_reference_patch_makes_the_detach_plan_synthesized(synth_app: SynthApp) -> None:
    (finding,) = analyzed(synth_app, "layer_cross_stack").findings
    plan = finding.remediation
    assert plan is not None
    detach = next(p for p in plan.alternatives if p.strategy == "detach-and-restore")
    assert detach.verification.level is Level.SYNTHESIZED, detach.verification
    (patch,) = detach.steps[0].changes
    assert patch.kind == "patch" and detach.steps[0].applies_to == "base"
    assert "-            code=lambda_.Code.from_inline(INLINE), layers=[compute.strands_layer]," in (patch.diff or "")
    assert "+            code=lambda_.Code.from_inline(INLINE), layers=[]," in (patch.diff or "")


# 3. current_version: no keep-export route; the consumers let go first (weak, or dropped by patch).
def test_kind3_current_version_has_no_keep_export_and_the_detach_is_a_patch(synth_app: SynthApp) -> None:
    result = analyzed(synth_app, "current_version")
    removed = next(f for f in result.findings if f.rule == "export-removed-in-use")
    plan = removed.remediation
    assert plan is not None and plan.strategy == "split-weak-reference" and plan.verified
    every = {p.strategy: p for p in [plan, *plan.alternatives]}
    assert "keep-export-one-release" not in every and "deploy-consumers-first" not in every
    detach = every["detach-then-deploy"]
    assert detach.verification.level is Level.SYNTHESIZED, detach.verification
    assert '-            environment={"API_VERSION_ARN": producer.version.function_arn},' in \
        (detach.steps[0].changes[0].diff or "")


# 4. Plans that only work together: one plan covers both blockers.
def test_kind4_one_plan_for_the_pull_request(synth_app: SynthApp) -> None:
    blockers = [f for f in analyzed(synth_app, "exports_together").findings if f.severity is Severity.BLOCKER]
    assert len(blockers) == 2
    plan = blockers[0].remediation
    assert plan is not None and plan.verified and set(plan.covers) == {f.id for f in blockers}
    assert all(f.remediation == plan for f in blockers)


# 5. A notice under a blocker on the same stacks: `none`, and its command as given is refused for real.
def test_kind5_notice_under_a_blocker_is_none_and_refused_as_given(synth_app: SynthApp) -> None:
    result = analyzed(synth_app, "blocker_and_notice")
    (blocker,) = [f for f in result.findings if f.severity is Severity.BLOCKER]
    (notice,) = [f for f in result.findings if f.severity is Severity.NOTICE]
    assert blocker.rule == "export-value-change-in-use" and notice.rule == "new-reference-order"
    assert {notice.producer, *notice.consumers} <= {blocker.producer, *blocker.consumers}
    plan = notice.remediation
    assert plan is not None and plan.strategy == "ordered-deploy" and not plan.verified
    assert plan.verification.level is Level.NONE
    assert "follow that blocker's plan first" in plan.verification.reason
    assert plan.deploy_command == "cdk deploy Producer Consumer"
    as_given = replace(plan, verification=Verification(Level.MODELLED, (), ""), alternatives=())
    refused = replay(synth_app, "blocker_and_notice", notice, as_given)
    assert refused.verification.level is Level.NONE
    assert "Cannot update export Producer:ExportsOutputRefSharedLayer" in refused.verification.reason
    assert blocker.remediation is not None
    assert blocker.remediation.verified


# 6. Version blindness: the assembly says nothing, the app pins 2.253: SSM first, weak says upgrade first.
def test_kind6_a_pin_below_2_254_puts_the_ssm_route_first(synth_app: SynthApp) -> None:
    result = analyzed(synth_app, "old_library_pin")
    assert result.base.cdk_library_version is None and result.head.cdk_library_version is None
    assert not (synth_app("old_library_pin", "head") / "tree.json").exists()
    (finding,) = result.findings
    plan = finding.remediation
    assert plan is not None
    assert plan.strategy == "split-ssm-parameter" and plan.verified, plan.verification
    weak = next(p for p in plan.alternatives if p.strategy == "split-weak-reference")
    upgrade = next(s for s in weak.steps if s.title.startswith("Upgrade aws-cdk-lib to 2.254.0"))
    assert "2.253.0" in upgrade.detail and upgrade.applies_to == "base"
    # The upgrade is an edit by hand: the weak route is never claimed for this app.
    assert weak.verification.level is Level.MODELLED and not weak.verified


def test_kind6_the_assembly_version_wins_over_a_pin(synth_app: SynthApp, tmp_path: Path) -> None:
    """What really synthesized (tree.json) is believed over a pin in requirements.txt."""
    source = tmp_path / "layer_cross_stack"
    shutil.copytree(app_dir("layer_cross_stack"), source, ignore=shutil.ignore_patterns("cdk.out", "__pycache__"))
    (source / "requirements.txt").write_text("aws-cdk-lib==2.253.0\n")
    result = run_analysis(synth_app("layer_cross_stack", "base"), synth_app("layer_cross_stack", "head"),
                          source=source)
    assert result.head.cdk_library_version == "2.275.0"
    (finding,) = result.findings
    plan = finding.remediation
    assert plan is not None and plan.strategy == "split-weak-reference"
    assert not any(s.title.startswith("Upgrade aws-cdk-lib") for s in plan.steps)


# 8. The simulation lines are the real states': a stack "skipped unchanged" has an unchanged template.
def test_kind8_simulation_lines_match_the_real_templates(synth_app: SynthApp, tmp_path: Path) -> None:
    result = analyzed(synth_app, "upstream_flag")
    (finding,) = result.findings
    plan = finding.remediation
    assert plan is not None and plan.strategy == "split-weak-reference" and plan.verified
    # The flag changes Network's template too, and the CLI deploys it as Compute's upstream.
    assert plan.simulation[0] == "cdk deploy Compute Admin: deployed Network, Compute, Admin"
    checked = 0
    for candidate in [plan, *plan.alternatives]:
        if candidate.verification.level is Level.SYNTHESIZED:
            checked += _lines_match_templates(synth_app, candidate, tmp_path / candidate.strategy)
    assert checked >= 6


def _lines_match_templates(synth_app: SynthApp, plan: Plan, scratch: Path) -> int:
    """Each line's deployed/skipped stacks against the synthesized templates; returns the count checked."""
    run = plan_run(plan)
    assert not isinstance(run, str), run
    deployed = _templates(synth_app("upstream_flag", "base"))
    count = 0
    for number, ((state, line), printed) in enumerate(zip(run.commands, plan.simulation, strict=False)):
        templates = _templates(_synthesized(state.tree, state.changes, scratch / f"state-{number}"))
        assert printed.startswith(f"{line}: deployed "), printed
        done, _, skipped = printed[len(f"{line}: deployed "):].partition(" (skipped unchanged: ")
        for stack in [s for s in skipped.rstrip(")").split(", ") if s]:
            assert templates[stack] == deployed[stack], f"{line}: {stack} is called unchanged but its template changes"
            count += 1
        for stack in done.split(", "):
            # The CLI never skips a stack with SSM-typed parameters (aws-cdk-cli deploy-stack.ts,
            # ParameterValues.hasChanges: their values cannot be predicted), nor a forced one.
            if "--force" not in line and not _reads_ssm(templates[stack]):
                assert templates[stack] != deployed[stack], f"{line}: {stack} deployed with an identical template"
            deployed[stack] = templates[stack]
            count += 1
    return count


def _reads_ssm(template: dict[str, Any]) -> bool:
    return any(str(p.get("Type", "")).startswith("AWS::SSM::Parameter::")
               for p in (template.get("Parameters") or {}).values())


def _synthesized(tree: str, changes: tuple[Change, ...], folder: Path) -> Path:
    app = folder / "app"
    shutil.copytree(app_dir("upstream_flag"), app, ignore=shutil.ignore_patterns("cdk.out", "__pycache__"))
    apply_changes(app, changes)
    return cached_state_synth(app, folder / "cdk.out", {"variant": tree})


def _templates(out: Path) -> dict[str, Any]:
    manifest = json.loads((out / "manifest.json").read_text())
    return {artifact_id: _without_metadata(json.loads((out / art["properties"]["templateFile"]).read_text()))
            for artifact_id, art in manifest["artifacts"].items() if art["type"] == "aws:cloudformation:stack"}


def _without_metadata(template: dict[str, Any]) -> dict[str, Any]:
    """What CloudFormation deploys: resources' types and properties (CDK's metadata and its
    CDKMetadata analytics resource aside), outputs, parameters, conditions."""
    resources = {k: [v.get("Type"), v.get("Properties")] for k, v in template.get("Resources", {}).items()
                 if k != "CDKMetadata"}
    return {"Resources": resources, **{k: template.get(k) for k in ("Outputs", "Parameters", "Conditions")}}


# 2 and the drop patch on the corpus app's real source (skipped when ../shared is absent).
@requires_source
def test_kind2_corpus_ssm_route_and_detach_are_synthesized() -> None:
    ecom = CORPUS / "e-com67"
    options = VerifyOptions(base=Tree(SOURCE / "0f9208b"), head=Tree(SOURCE / "f0d9370"), budget_seconds=900,
                            synth=corpus_synth, reuse_assemblies=False,
                            app_command=f"{shlex.quote(sys.executable)} app.py")
    result = run_analysis(ecom / "0f9208b", ecom / "f0d9370", source=SOURCE / "f0d9370",
                          base_source=SOURCE / "0f9208b", verify=options)
    (finding,) = result.findings
    plan = finding.remediation
    assert plan is not None
    levels = {p.strategy: p.verification.level for p in [plan, *plan.alternatives]}
    assert levels == {"split-weak-reference": Level.SYNTHESIZED, "split-ssm-parameter": Level.SYNTHESIZED,
                      "detach-and-restore": Level.SYNTHESIZED}
