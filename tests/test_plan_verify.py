"""Plans applied for real: patched and flagged app states synthesized, then simulated.

Each test of the eight failure kinds of issue #10 either checks the plan the tool now
gives (its changes applied, synthesized, accepted) or builds the plan the tool used to
give and shows the real templates refuse it, so the verification can fail.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli.analyze import run_analysis
from bot.core.model import AnalysisResult, Change, Finding, Level, Plan, Severity, Step
from bot.plans.patches import export_value_patch
from bot.plans.source import source_sites
from bot.plans.verify import Tree, VerifyOptions, verify_plans
from tests.corpus import CORPUS, SOURCE, requires_source
from tests.plan_synth import STATES_DIR, app_verify_options, cached_state_synth
from tests.synth_cache import app_dir

pytestmark = pytest.mark.synth
FLAG = "@aws-cdk/core:defaultCrossStackReferences"


def verified(synth_app: Callable[[str, str], Path], name: str) -> AnalysisResult:
    return run_analysis(synth_app(name, "base"), synth_app(name, "head"), source=app_dir(name),
                        base_source=app_dir(name), verify=app_verify_options(name))


def check(synth_app: Callable[[str, str], Path], name: str, finding: Finding, plan: Plan) -> Plan:
    """Verify one hand-made plan on the app, as the tool verifies its own."""
    result = AnalysisResult(base=None, head=None, findings=(replace(finding, remediation=plan),),  # type: ignore[arg-type]
                            stacks=())
    out = verify_plans(result, synth_app(name, "base"), synth_app(name, "head"), app_verify_options(name))
    checked = out.findings[0].remediation
    assert checked is not None
    return checked


def modelled(plan: Plan) -> Plan:
    return replace(plan, verification=replace(plan.verification, level=Level.MODELLED))


def weak_split(producer: str, consumers: str) -> Plan:
    """The weak-reference split as the tool used to give it for every strong export."""
    return modelled(Plan("split-weak-reference", "", (
        Step("change 1", "code-change", (f"cdk deploy {producer} {consumers}",),
             changes=(Change("context", key=FLAG, value="both"),), applies_to="base"),
        Step("change 2", "deploy", (f"cdk deploy {producer} {consumers} --force",),
             changes=(Change("context", key=FLAG, value="weak"),), applies_to="head"),
    )))


# 1. Hand-named export: the weak flag changes nothing; the SSM route works as patches.
def test_hand_named_export_gets_no_weak_route_and_the_ssm_patches_work(synth_app: Callable[[str, str], Path]) -> None:
    (finding,) = verified(synth_app, "named_export_layer").findings
    plan = finding.remediation
    assert plan is not None
    assert plan.strategy == "split-ssm-parameter" and plan.verified, plan.verification
    every = [plan, *plan.alternatives]
    assert "split-weak-reference" not in [p.strategy for p in every]
    assert all(c.kind == "patch" for s in plan.steps for c in s.changes)


def test_the_old_weak_plan_for_a_hand_named_export_is_refused_on_real_templates(
    synth_app: Callable[[str, str], Path]
) -> None:
    (finding,) = verified(synth_app, "named_export_layer").findings
    plan = check(synth_app, "named_export_layer", finding, weak_split("Producer", "Consumer"))
    assert plan.verification.level is Level.NONE
    assert "Cannot update export shared-layer-arn" in plan.verification.reason


# 2. SSM for automatic references: patches keep the export one release; synthesized and
# shown refused without the kept export in tests/test_failure_kinds.py.


# 3. current_version: see tests/test_app_findings.py (no keep-export route, weak split verified).


# 4. Per-finding plans that only work together: one plan for the pull request.
def test_exports_kept_together_in_one_plan(synth_app: Callable[[str, str], Path]) -> None:
    result = verified(synth_app, "exports_together")
    blockers = [f for f in result.findings if f.severity is Severity.BLOCKER]
    assert len(blockers) == 2
    plans = {id(f.remediation) for f in blockers}
    plan = blockers[0].remediation
    assert plan is not None and len({p for p in plans}) >= 1
    assert plan.strategy == "keep-export-one-release" and plan.verified, plan.verification
    assert set(plan.covers) == {f.id for f in blockers}
    assert all(f.remediation == plan for f in blockers)
    (patch,) = [c for c in plan.steps[0].changes]
    assert "self.export_value(self.a_layer.layer_version_arn)" in (patch.diff or "")
    assert "self.export_value(self.b_layer.layer_version_arn)" in (patch.diff or "")


def test_mixed_group_gets_one_combined_plan_that_synthesizes(synth_app: Callable[[str, str], Path]) -> None:
    """A value change and a removal on one producer: one plan covers both and works when applied."""
    result = verified(synth_app, "mixed_producer")
    blockers = [f for f in result.findings if f.severity is Severity.BLOCKER]
    assert sorted(f.rule for f in blockers) == ["export-removed-in-use", "export-value-change-in-use"]
    plan = blockers[0].remediation
    assert plan is not None and all(f.remediation == plan for f in blockers)
    assert set(plan.covers) == {f.id for f in blockers}
    assert plan.strategy == "split-weak-reference" and plan.verified, plan.verification
    assert plan.verification.states == (f"base + context {FLAG}=both", f"head + context {FLAG}=weak")
    assert [a.strategy for a in plan.alternatives] == ["detach-and-restore"]
    assert plan.alternatives[0].verification.level is Level.MODELLED  # an edit by hand: not claimed


def test_mixed_group_per_finding_plan_is_refused_on_real_templates(synth_app: Callable[[str, str], Path]) -> None:
    """What the tool gave before: the removal's own plan (consumers first) on the real pull request."""
    result = verified(synth_app, "mixed_producer")
    removal = next(f for f in result.findings if f.rule == "export-removed-in-use")
    alone = modelled(Plan("deploy-consumers-first", "", (
        Step("consumers", "deploy", ("cdk deploy Consumer --exclusively",), applies_to="head"),
        Step("producer", "deploy", ("cdk deploy Producer --exclusively",), applies_to="head"),
    )))
    plan = check(synth_app, "mixed_producer", removal, alone)
    assert plan.verification.level is Level.NONE
    assert "Cannot update export Producer:ExportsOutputRefSharedLayer" in plan.verification.reason


def test_mixed_group_with_a_hand_named_export_gets_the_ssm_two_step_plan(
    synth_app: Callable[[str, str], Path]
) -> None:
    result = verified(synth_app, "mixed_named_producer")
    blockers = [f for f in result.findings if f.severity is Severity.BLOCKER]
    plan = blockers[0].remediation
    assert plan is not None and all(f.remediation == plan for f in blockers)
    assert set(plan.covers) == {f.id for f in blockers}
    assert plan.strategy == "split-ssm-parameter" and plan.verified, plan.verification
    assert "split-weak-reference" not in [a.strategy for a in plan.alternatives]  # the flag cannot help
    assert all(c.kind == "patch" for s in plan.steps for c in s.changes)
    assert plan.steps[2].commands == ("cdk deploy Consumer --exclusively", "cdk deploy Producer --exclusively",
                                      "cdk deploy Consumer --exclusively --force")
    # Producer before Consumer in change 2 is refused: the deployed Consumer still imports the queue.
    producer_first = modelled(replace(plan, steps=(*plan.steps[:2], replace(
        plan.steps[2], commands=("cdk deploy Producer Consumer --force",))), alternatives=()))
    refused = check(synth_app, "mixed_named_producer", blockers[0], producer_first)
    assert refused.verification.level is Level.NONE and "cannot be deleted" in refused.verification.reason


def test_one_export_kept_alone_is_refused_on_real_templates(synth_app: Callable[[str, str], Path]) -> None:
    result = verified(synth_app, "exports_together")
    finding = next(f for f in result.findings if f.severity is Severity.BLOCKER and "ALayer" in (f.export or ""))
    sites = source_sites(app_dir("exports_together"), ["Compute/ALayer/Resource"])
    patch = export_value_patch(sites["Compute/ALayer/Resource"], "ALayer", "layer_version_arn")
    assert patch is not None
    alone = modelled(Plan("keep-export-one-release", "", (
        Step("release 1", "code-change", ("cdk deploy Compute Admin",), changes=(patch,), applies_to="head"),
        Step("release 2", "deploy", ("cdk deploy Compute --exclusively",), applies_to="head"),
    )))
    plan = check(synth_app, "exports_together", finding, alone)
    assert plan.verification.level is Level.NONE
    assert "Compute:ExportsOutputRefBLayer" in plan.verification.reason


# 5. Check order: notices under a blocker are never verified on their own.
def test_notices_under_a_blocker_are_not_verified(synth_app: Callable[[str, str], Path]) -> None:
    result = verified(synth_app, "exports_together")
    notices = [f for f in result.findings if f.severity is Severity.NOTICE]
    assert notices
    for notice in notices:
        plan = notice.remediation
        assert plan is not None and not plan.verified and plan.verification.level is Level.NONE
        assert "not on its own" in plan.verification.reason


# 7. Wrong language: a TypeScript app (tests/apps/ts_layer, run by Node 24 without a compile
# step) gets TypeScript patches with the real expression, applied and synthesized.
def test_typescript_app_gets_a_typescript_patch_that_synthesizes(synth_app: Callable[[str, str], Path]) -> None:
    result = verified(synth_app, "ts_layer")
    (blocker,) = [f for f in result.findings if f.severity is Severity.BLOCKER]
    plan = blocker.remediation
    assert plan is not None and plan.strategy == "keep-export-one-release"
    (patch,) = plan.steps[0].changes
    assert patch.kind == "patch" and patch.path == "app.ts"
    added = [line for line in (patch.diff or "").splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert "+    this.exportValue(this.layer.layerVersionArn);" in added
    assert not any("export_value" in line or "self." in line for line in added)
    assert plan.verification.level is Level.SYNTHESIZED and plan.verified, plan.verification
    assert plan.verification.states == ("head + patch app.ts", "head")


def test_typescript_patch_left_out_is_refused_on_real_templates(synth_app: Callable[[str, str], Path]) -> None:
    """Without the exportValue line, release 1 deletes the export the deployed Consumer imports."""
    result = verified(synth_app, "ts_layer")
    (blocker,) = [f for f in result.findings if f.severity is Severity.BLOCKER]
    plan = blocker.remediation
    assert plan is not None
    unpatched = modelled(replace(plan, steps=tuple(replace(s, changes=()) for s in plan.steps), alternatives=()))
    checked = check(synth_app, "ts_layer", blocker, unpatched)
    assert checked.verification.level is Level.NONE
    assert "Producer:ExportsOutputRefSharedLayer" in checked.verification.reason


# 8. The simulation lines are the real states': the flag changes the producer's template too.
def test_transcript_comes_from_the_real_states(synth_app: Callable[[str, str], Path]) -> None:
    (finding,) = verified(synth_app, "layer_cross_stack").findings
    plan = finding.remediation
    assert plan is not None and plan.strategy == "split-weak-reference" and plan.verified
    first = plan.simulation[0]
    assert first.startswith("cdk deploy Compute Admin: deployed Compute, Admin"), plan.simulation
    assert "skipped" not in first
    assert plan.verification.states == (f"base + context {FLAG}=both", f"head + context {FLAG}=weak")


def test_add_dependency_patch_synthesizes_the_declared_order(synth_app: Callable[[str, str], Path]) -> None:
    """The temporary add_dependency patch (reused by the pipeline planner) is applied for real."""
    sites = source_sites(app_dir("layer_cross_stack"), ["Admin", "Compute"])
    from bot.plans.patches import add_dependency_patch

    patch = add_dependency_patch(sites["Admin"], sites["Compute"], "Admin", "Compute")
    assert patch is not None and "admin_stack.add_dependency(compute)" in (patch.diff or "")
    (finding,) = verified(synth_app, "layer_cross_stack").findings
    plan = check(synth_app, "layer_cross_stack", finding, modelled(Plan("patched", "", (
        Step("both", "code-change", ("cdk deploy Compute Admin",),
             changes=(Change("context", key=FLAG, value="both"), patch), applies_to="base"),
        Step("weak", "deploy", ("cdk deploy Compute Admin --force",),
             changes=(Change("context", key=FLAG, value="weak"), patch), applies_to="head"),
    ))))
    assert plan.verified, plan.verification


def test_a_patch_that_does_not_apply_is_not_verified(synth_app: Callable[[str, str], Path]) -> None:
    (finding,) = verified(synth_app, "layer_cross_stack").findings
    broken = Change("patch", path="app.py", diff="--- a/app.py\n+++ b/app.py\n@@ -1,1 +1,1 @@\n-nothing here\n+x\n")
    plan = check(synth_app, "layer_cross_stack", finding, modelled(Plan("broken", "", (
        Step("s", "deploy", ("cdk deploy Compute Admin",), changes=(broken,), applies_to="head"),
    ))))
    assert plan.verification.level is Level.NONE and "does not match" in plan.verification.reason


def test_budget_exhausted_keeps_the_model_level(synth_app: Callable[[str, str], Path], tmp_path: Path) -> None:
    (finding,) = verified(synth_app, "layer_cross_stack").findings
    plan = finding.remediation
    assert plan is not None
    fresh = replace(modelled(plan), alternatives=())
    result = AnalysisResult(base=None, head=None, findings=(replace(finding, remediation=fresh),),  # type: ignore[arg-type]
                            stacks=())

    def never(app: Path, out: Path, context: Mapping[str, str]) -> Path:
        import time

        time.sleep(3)
        raise AssertionError("the budget should have run out first")

    options = replace(app_verify_options("layer_cross_stack"), budget_seconds=0.5, synth=never)
    out = verify_plans(result, synth_app("layer_cross_stack", "base"), synth_app("layer_cross_stack", "head"),
                       options)
    level = out.findings[0].remediation
    assert level is not None and level.verification.level is Level.MODELLED
    assert "budget" in level.verification.reason


SLOW_APP = """
import os, subprocess, sys, tempfile, time
from pathlib import Path

# A state whose synth never ends by itself: the app and a grandchild of the CLI sleep, and
# the app holds a temporary folder it would only remove on a clean exit (as jsii does).
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
held = tempfile.mkdtemp(prefix="slow-app-")
Path(os.environ["PIDS_FILE"]).write_text(f"{os.getpid()} {child.pid} {held}")
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has ended; only its parent's wait is missing


def test_budget_cancels_running_states_and_leaves_nothing_running(
    synth_app: Callable[[str, str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A state still synthesizing when --verify-budget runs out is cancelled: the CLI's whole
    process group ends (the app and what it started), its scratch folder goes, and the plan
    keeps `modelled` with a reason naming the budget."""
    import tempfile
    import time

    (finding,) = verified(synth_app, "layer_cross_stack").findings
    slow = tmp_path / "slow"
    slow.mkdir()
    (slow / "app.py").write_text(SLOW_APP)
    (slow / "cdk.json").write_text('{"app": "python3 app.py"}')
    pids_file = tmp_path / "pids"
    scratch_root = tmp_path / "scratch"
    scratch_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_root))
    plan = modelled(Plan("slow", "", (
        Step("s", "deploy", ("cdk deploy Compute Admin",), changes=(Change("context", key=FLAG, value="weak"),),
             applies_to="head"),
    )))
    result = AnalysisResult(base=None, head=None, findings=(replace(finding, remediation=plan),),  # type: ignore[arg-type]
                            stacks=())
    options = VerifyOptions(base=None, head=Tree(slow), budget_seconds=8,
                            app_command=f"{shlex.quote(sys.executable)} app.py", env={"PIDS_FILE": str(pids_file)})
    started = time.monotonic()
    out = verify_plans(result, synth_app("layer_cross_stack", "base"), synth_app("layer_cross_stack", "head"), options)
    elapsed = time.monotonic() - started
    checked = out.findings[0].remediation
    assert checked is not None and checked.verification.level is Level.MODELLED
    assert "budget of 8s (--verify-budget) ran out while this state was being synthesized: cancelled" \
        in checked.verification.reason
    *started_pids, held = pids_file.read_text().split()  # the app did start, and its child
    pids = [int(p) for p in started_pids]
    assert len(pids) == 2
    assert Path(held).is_relative_to(scratch_root) and not Path(held).exists()  # its TMPDIR was the state's
    deadline = time.monotonic() + 5  # the reparented processes are reaped by init
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in pids if _alive(p)], "a synth process survived the budget"
    assert list(scratch_root.iterdir()) == []  # the state's scratch copy and cdk.out are gone
    assert elapsed < 8 + 15


# --- the corpus app's real source (skipped when ../shared is absent) ---------------------

CORPUS_ENV = {"CDK_DEFAULT_ACCOUNT": "123456789012", "CDK_DEFAULT_REGION": "us-east-1"}


def corpus_synth(app: Path, out: Path, context: Mapping[str, str]) -> Path:
    # The app reads its account and region from the environment.
    return cached_state_synth(app, out, context, env=CORPUS_ENV)


@requires_source
@pytest.mark.parametrize(("base", "head", "strategy", "covered"), [
    ("0f9208b", "f0d9370", "split-weak-reference", 1),
    ("f0d9370", "4693e68", "keep-export-one-release", 3),
])
def test_corpus_plans_work_when_applied(base: str, head: str, strategy: str, covered: int) -> None:
    assert sys.executable  # the app runs with this interpreter's aws-cdk-lib
    ecom = CORPUS / "e-com67"
    options = VerifyOptions(base=Tree(SOURCE / base), head=Tree(SOURCE / head), budget_seconds=900,
                            synth=corpus_synth, reuse_assemblies=False,
                            app_command=f"{shlex.quote(sys.executable)} app.py")
    result = run_analysis(ecom / base, ecom / head, source=SOURCE / head, base_source=SOURCE / base, verify=options)
    blockers = [f for f in result.findings if f.severity is Severity.BLOCKER]
    assert len(blockers) == covered
    for finding in blockers:
        plan = finding.remediation
        assert plan is not None and plan.strategy == strategy and plan.verified, plan.verification
        assert len(plan.covers) == (covered if covered > 1 else 0)
    assert STATES_DIR.is_dir()


def test_building_a_state_never_writes_into_the_source_tree(tmp_path: Path) -> None:
    """The trees are the user's checkouts (or read-only material): states are built in scratch."""
    import shutil

    from bot.plans.states import State
    from bot.plans.verify import _synthesize
    from bot.workspace import synth

    source = tmp_path / "src"
    shutil.copytree(app_dir("layer_cross_stack"), source, ignore=shutil.ignore_patterns("cdk.out", "__pycache__"))
    (source / ".venv").mkdir()  # an installed environment is linked, not copied, and not written to
    before = sorted(str(p.relative_to(source)) for p in source.rglob("*"))
    options = VerifyOptions(base=None, head=Tree(source, {"variant": "head"}),
                            app_command=f"{shlex.quote(sys.executable)} app.py")
    state = State("head", (Change("context", key=FLAG, value="weak"),))
    out = _synthesize(state, tmp_path / "state", options)
    assert out == (tmp_path / "state" / "cdk.out").resolve() and (out / "manifest.json").is_file()
    assert sorted(str(p.relative_to(source)) for p in source.rglob("*")) == before
    assert (tmp_path / "state" / "tree" / ".venv").is_symlink()
    assert synth  # the real CLI ran (no test synth function)


def test_a_state_links_the_node_modules_hoisted_above_the_app(tmp_path: Path) -> None:
    """npm/yarn workspaces install node_modules at the repository root; the scratch copy has no
    ancestors, so the nearest one up to the repository root is linked (not beyond it)."""
    from bot.plans.verify import _installed

    repo = tmp_path / "repo"
    app = repo / "packages" / "infra"
    app.mkdir(parents=True)
    (repo / ".git").mkdir()
    assert _installed(app, "node_modules") is None
    (tmp_path / "node_modules").mkdir()  # outside the repository: never used
    assert _installed(app, "node_modules") is None
    (repo / "node_modules").mkdir()
    assert _installed(app, "node_modules") == repo.resolve() / "node_modules"
    (app / "node_modules").mkdir()
    assert _installed(app, "node_modules") == app / "node_modules"
    assert _installed(app, ".venv") is None  # a virtualenv is only the app's own


def test_a_state_copies_the_checkout_around_the_app(tmp_path: Path) -> None:
    """juanb3r/saludador's shape: the app in ``app-cdk/`` reads ``../functions/layers``. A copy
    of the app folder alone failed to synthesize ("the base state could not be built"), so its
    plans were never checked; the copy now holds the checkout around the app."""
    from bot.plans.verify import root_above, scratch_copy

    repo = tmp_path / "repo"
    app = repo / "app-cdk"
    (repo / "functions" / "layers").mkdir(parents=True)
    (repo / "functions" / "layers" / "shared.py").write_text("X = 1\n")
    app.mkdir()
    (app / "cdk.json").write_text("{}\n")
    for heavy in (".git", "node_modules", "cdk.out"):
        (repo / heavy).mkdir()
    assert root_above(app, 1) == repo.resolve() and root_above(app, 0) == app.resolve()
    copy = scratch_copy(Tree(app, root=root_above(app, 1)), tmp_path / "state")
    assert (copy / "cdk.json").is_file()
    assert (copy.parent / "functions" / "layers" / "shared.py").read_text() == "X = 1\n"
    assert not any((copy.parent / heavy).exists() for heavy in (".git", "node_modules", "cdk.out"))
    alone = scratch_copy(Tree(app), tmp_path / "alone")
    assert (alone / "cdk.json").is_file() and not (alone.parent / "functions").exists()
