"""A guard against quadratic regressions, and the generator the benchmark relies on.

The analysis of an app 4x the size (stacks and references together, a pull request
4x as busy) must take about 4x the time, not 16x. Ratios of times measured on the
same machine in the same run (CPU time of the process), best of 3: no absolute time is asserted, so slow or
shared CI machines do not make it flaky. Many small stacks make per-stack costs
(stack pairing, deploy simulation, app versions) weigh as much as per-resource ones.
`make bench` measures the same at full size (goal 4.5x per 4x); the bound here is
looser (6x) because a small app on a shared CI machine is noisier.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

from bench.fanout import write_fanout
from bench.generate import ChangePlan, generate, load_changes
from bench.measure import analysis
from bench.pipeline import pipeline_release, time_release
from bot.core.model import AnalysisResult
from bot.plans.pipelines.simulate import cdk_pipelines_order
from bot.plans.simulate import AppVersion, StackSpec

STACKS = 30  # 1x; 4x = 120 stacks
RESOURCES = 8  # per stack
REFERENCES_PER_STACK = 5
LIMIT = 6.0  # linear: ~4x; quadratic: ~16x
FANOUT = 200  # consumers of one producer at 1x; 4x = 800
PIPELINE_STACKS = 500  # consumers in stages of 50 at 1x; 4x = 2,000


def best_of(runs: int, base: Path, head: Path) -> tuple[dict[str, float], AnalysisResult]:
    best: dict[str, float] | None = None
    result = None
    for _ in range(runs):
        result, phases = analysis(base, head)
        if best is None or phases["cpu_total"] < best["cpu_total"]:
            best = phases
    assert best is not None and result is not None
    return best, result


def per_phase(timings: dict[int, dict[str, float]]) -> dict[str, float]:
    return {k: round(timings[4][k] / timings[1][k], 1) for k in timings[1]
            if k.startswith("cpu") and timings[1][k] > 0.005}


# Before bot/plans/versions.py built each app version once (`Versions`), attach_plans grew
# ~10x for 4x the stacks and this total sat at 6-9x; with it, 4.5-5.5x.
def test_analysis_time_grows_linearly_with_the_app(tmp_path: Path) -> None:
    timings = {}
    for factor in (1, 4):
        stacks = STACKS * factor
        base, head = generate(tmp_path / f"x{factor}", stacks=stacks, resources_per_stack=RESOURCES,
                              references=stacks * REFERENCES_PER_STACK, seed=7)
        phases, result = best_of(3, base, head)
        found = {f.rule for f in result.findings}
        expected = set(load_changes(tmp_path / f"x{factor}")["expected_rules"])
        assert expected <= found, f"{factor}x: the generated pull request lost findings: {expected - found}"
        timings[factor] = phases
    ratio = timings[4]["cpu_total"] / timings[1]["cpu_total"]
    by_phase = per_phase(timings)
    assert ratio < LIMIT, (
        f"4x the app took {ratio:.1f}x the time (linear: ~4x); per phase: {by_phase}; "
        f"1x: {timings[1]}, 4x: {timings[4]}"
    )


def test_generator_is_deterministic(tmp_path: Path) -> None:
    for name in ("one", "two"):
        generate(tmp_path / name, stacks=12, resources_per_stack=20, references=60, seed=3)
    for side in ("base", "head"):
        left, right = tmp_path / "one" / side, tmp_path / "two" / side
        files = sorted(p.relative_to(left) for p in left.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(right) for p in right.rglob("*") if p.is_file())
        match, mismatch, errors = filecmp.cmpfiles(left, right, [str(f) for f in files], shallow=False)
        assert not mismatch and not errors
    assert (tmp_path / "one" / "changes.json").read_text() == (tmp_path / "two" / "changes.json").read_text()


def test_generated_assemblies_look_like_cdk_output(tmp_path: Path) -> None:
    base, head = generate(tmp_path / "app", stacks=12, resources_per_stack=30, references=80, seed=5)
    result, _ = analysis(base, head)
    stacks = result.base.stacks
    assert len(stacks) == 12 and any(s.nested for s in stacks.values())
    assert {k.split("/")[0] for k in stacks if "/" in k} == {"assembly-Beta", "assembly-Prod"}
    staged = next(s for k, s in stacks.items() if k.startswith("assembly-Prod/"))
    assert staged.hierarchical_id.startswith("Prod/") and staged.stack_name.startswith("Prod-")
    assert all(s.assets for s in stacks.values())  # asset manifests are read
    assert any(s.dependencies for s in stacks.values())
    assert result.base.cdk_library_version == "2.275.0"
    types = {r.type for s in result.base.all_stacks() for r in s.resources.values()}
    assert {"AWS::Lambda::Function", "AWS::Lambda::LayerVersion", "AWS::SQS::Queue", "AWS::DynamoDB::Table",
            "AWS::IAM::Policy", "AWS::CloudFormation::Stack", "AWS::SSM::Parameter"} <= types
    changes = load_changes(tmp_path / "app")
    assert set(changes["expected_rules"]) <= {f.rule for f in result.findings}
    unchanged, _ = analysis(*generate(tmp_path / "same", stacks=12, resources_per_stack=30, references=80, seed=5,
                                      change=ChangePlan.none()))
    assert not unchanged.findings and all(s.status == "unchanged" for s in unchanged.stacks)


# One producer, many consumers: stack selection, the upstream closure and the deploy
# simulation once looped consumers x consumers (2,000 consumers took 22 s, 5,000 360 s).
def test_a_producer_with_4x_the_consumers_takes_about_4x_the_time(tmp_path: Path) -> None:
    timings = {}
    for factor in (1, 4):
        base, head = write_fanout(tmp_path / f"x{factor}", FANOUT * factor)
        phases, result = best_of(2, base, head)
        (finding,) = result.findings
        assert finding.rule == "export-value-change-in-use" and len(finding.consumers) == FANOUT * factor
        assert finding.remediation is not None and finding.remediation.checked  # the simulator accepts the plan
        timings[factor] = phases
    ratio = timings[4]["cpu_total"] / timings[1]["cpu_total"]
    by_phase = per_phase(timings)
    assert ratio < LIMIT, f"4x the consumers took {ratio:.1f}x the time (linear: ~4x); per phase: {by_phase}"


# A pipeline release: each RunOrder once copied the whole state and rebuilt its index for
# every deploy (500 -> 2,000 stacks took 20x the time); now one index is kept in step.
def test_a_pipeline_release_with_4x_the_stacks_takes_about_4x_the_time() -> None:
    seconds = {}
    for factor in (1, 4):
        initial, release = pipeline_release(PIPELINE_STACKS * factor, per_stage=50)
        best = None
        for _ in range(3):
            spent, simulation = time_release(initial, release)
            assert simulation.ok and len(simulation.steps) == 1 + PIPELINE_STACKS * factor // 50  # a step per stage
            assert len(simulation.steps[-1].deployed) == 50  # the stage's wave, in parallel
            best = spent if best is None else min(best, spent)
        seconds[factor] = max(best or 0.0, 1e-4)
    ratio = seconds[4] / seconds[1]
    assert ratio < LIMIT, f"4x the pipeline's stacks took {ratio:.1f}x the time (linear: ~4x): {seconds}"


def test_cdk_pipelines_order_follows_a_chain_of_thousands_of_stacks() -> None:
    stacks = {f"S{n}": StackSpec(f"S{n}", f"S{n}", "t", frozenset({f"S{n - 1}"}) if n else frozenset())
              for n in range(3000)}
    order = cdk_pipelines_order(AppVersion("head", stacks), list(reversed(stacks)))
    assert len(order) == 6000  # each stack: Prepare after the Deploy before it, then its Deploy
    assert [a.stack for a in order[0]] == ["S0"] and [a.stack for a in order[-1]] == ["S2999"]
