"""The analyzer over a real app's full history (../shared/corpus/e-com67)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bot.core.analysis import analyze
from bot.core.assembly import load_assembly
from bot.core.model import Level, Severity
from bot.plans.planner import attach_plans
from tests.corpus import ECOM, requires_corpus, transitions

pytestmark = [pytest.mark.corpus, requires_corpus]
EXPECTATIONS = Path(__file__).with_name("corpus_expectations.json")
PRODUCTION_FAILURE = ("0f9208b", "f0d9370")
STRANDS_EXPORT = "E-Com67-ComputeStack:ExportsOutputRefStrandsLayer61506D6089516553"


def test_the_production_failure_is_exactly_one_blocker() -> None:
    base, head = PRODUCTION_FAILURE
    result = analyze(load_assembly(ECOM / base), load_assembly(ECOM / head))
    blockers = [f for f in result.findings if f.severity is Severity.BLOCKER]
    assert len(blockers) == 1
    finding = blockers[0]
    assert finding.rule == "export-value-change-in-use"
    assert finding.export == STRANDS_EXPORT
    assert finding.consumers == ("E-Com67-AdminInsightsStack",)
    asset = next(c for c in finding.causes if c.kind == "asset-changed")
    assert asset.details["resource_type"] == "AWS::Lambda::LayerVersion"
    assert asset.details["display_name"] == "StrandsLayer/Code"
    assert asset.details["property"] == "Content.S3Key"


def test_seed_pair_analyzes_well_under_a_second() -> None:
    base, head = PRODUCTION_FAILURE
    started = time.perf_counter()
    attach_plans(analyze(load_assembly(ECOM / base), load_assembly(ECOM / head)))
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(("base", "head", "subject"), transitions(), ids=[f"{b}..{h}" for b, h, _ in transitions()])
def test_every_transition_matches_the_reviewed_expectations(base: str, head: str, subject: str) -> None:
    result = attach_plans(analyze(load_assembly(ECOM / base), load_assembly(ECOM / head)))
    expected = json.loads(EXPECTATIONS.read_text())["transitions"][f"{base}..{head}"]
    actual = sorted(
        (f.rule, f.export) for f in result.findings if f.severity is Severity.BLOCKER
    )
    assert actual == sorted((b["rule"], b["export"]) for b in expected["blockers"]), subject


@pytest.mark.parametrize(("base", "head", "subject"), transitions(), ids=[f"{b}..{h}" for b, h, _ in transitions()])
def test_every_finding_on_the_corpus_has_a_checked_plan(base: str, head: str, subject: str) -> None:
    """Without the source nothing is synthesized: plans are at most modelled, never verified;
    a lesser finding under a blocker on its stacks is not accepted on its own (check order)."""
    result = attach_plans(analyze(load_assembly(ECOM / base), load_assembly(ECOM / head)))
    blocked = {s for f in result.findings if f.severity is Severity.BLOCKER for s in (f.producer, *f.consumers)}
    for finding in result.findings:
        plan = finding.remediation
        assert plan is not None and not plan.verified, (finding.rule, finding.export)
        if finding.severity is not Severity.BLOCKER and blocked & {finding.producer, *finding.consumers}:
            assert plan.verification.level is Level.NONE and "not on its own" in plan.verification.reason
        else:
            assert plan.verification.level is Level.MODELLED, (finding.rule, finding.export, plan.verification)
