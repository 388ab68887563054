"""End to end on real synthesized apps (aws-cdk-lib + cdk CLI): findings, plans, goldens."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli.analyze import run_analysis
from bot.core.model import AnalysisResult, Level, Severity
from bot.render import json_report, markdown
from tests.golden import assert_golden
from tests.plan_synth import app_verify_options
from tests.synth_cache import CACHE_DIR, app_dir

pytestmark = pytest.mark.synth

# app -> the (rule, severity) pairs a correct analyzer reports (tests/apps/README.md)
EXPECTED: dict[str, list[tuple[str, str]]] = {
    "layer_cross_stack": [("export-value-change-in-use", "blocker")],
    "named_export_layer": [("export-value-change-in-use", "blocker")],
    "queue_rename": [("export-value-change-in-use", "blocker"), ("export-value-change-in-use", "blocker")],
    "in_place": [],
    "current_version": [("export-removed-in-use", "blocker"), ("new-reference-order", "notice")],
    "dropped_reference": [("export-removed-in-use", "blocker")],
    "new_reference": [("new-reference-order", "notice")],
    "weak_reference": [("weak-reference-stale", "warning")],
    "ssm_link": [("weak-reference-stale", "warning")],
    "stage": [("export-value-change-in-use", "blocker")],
    "nested_stack": [],
    "import_missing": [],
    "unchanged": [],
    "agnostic_importer": [("export-value-change-in-use", "blocker")],
    "weak_both": [("weak-reference-stale", "warning")],
    "weak_stage": [("weak-reference-stale", "warning")],
    "weak_nested": [("weak-reference-stale", "warning")],
    "example": [("export-value-change-in-use", "blocker")],
    "pipeline_dropped_reference": [("export-removed-in-use", "blocker")],
    "pipeline_layer": [("export-value-change-in-use", "blocker")],
    "pipeline_two_stages": [("export-removed-in-use", "blocker"), ("export-removed-in-use", "blocker")],
    "pipeline_waves": [("weak-reference-stale", "warning"), ("weak-reference-stale", "warning")],
    "exports_together": [("export-removed-in-use", "blocker"), ("export-removed-in-use", "blocker"),
                         ("new-reference-order", "notice"), ("new-reference-order", "notice")],
    "blocker_and_notice": [("export-value-change-in-use", "blocker"), ("new-reference-order", "notice")],
    "old_library_pin": [("export-value-change-in-use", "blocker")],
    "upstream_flag": [("export-value-change-in-use", "blocker")],
    "ts_layer": [("export-removed-in-use", "blocker"), ("new-reference-order", "notice")],
    "ts_crlf_consumers": [("export-value-change-in-use", "blocker")],
    "named_and_automatic": [("export-value-change-in-use", "blocker")] * 3,
    "mixed_producer": [("export-removed-in-use", "blocker"), ("export-value-change-in-use", "blocker")],
    "mixed_named_producer": [("export-removed-in-use", "blocker"), ("export-value-change-in-use", "blocker")],
}


def analyzed(synth_app: Callable[[str, str], Path], name: str) -> AnalysisResult:
    """Analyzed with plans verified by synthesis (plan states cached like the apps)."""
    return run_analysis(synth_app(name, "base"), synth_app(name, "head"), source=app_dir(name),
                        base_source=app_dir(name), verify=app_verify_options(name))


def stable(text: str) -> str:
    """Goldens must not depend on where the synth cache lives nor on its keys."""
    return re.sub(re.escape(str(CACHE_DIR)) + r"/[\w-]+/(base|head)-[0-9a-f]+", r"<\1>", text)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_findings_plans_and_goldens(synth_app: Callable[[str, str], Path], name: str) -> None:
    result = analyzed(synth_app, name)
    actual = sorted((f.rule, f.severity.label) for f in result.findings)
    assert actual == sorted(EXPECTED[name])
    for finding in result.findings:
        plan = finding.remediation
        assert plan is not None
        if finding.severity is Severity.BLOCKER or not any(f.severity is Severity.BLOCKER for f in result.findings):
            assert plan.verified, (plan.strategy, plan.verification)
        else:  # check order: a notice under a blocker is not verified on its own
            assert plan.verification.level is Level.NONE and "not on its own" in plan.verification.reason
    report = json.loads(json_report.render(result))
    for side in ("base", "head"):
        report[side]["assembly"] = f"<{side}>"
    assert_golden(f"apps/{name}.json", stable(json.dumps(report, indent=2)) + "\n")
    assert_golden(f"apps/{name}.md", stable(markdown.render(result)))


def test_example_reports_only_the_strands_layer(synth_app: Callable[[str, str], Path]) -> None:
    result = analyzed(synth_app, "example")
    (finding,) = result.findings
    assert finding.export == "Example-ComputeStack:ExportsOutputRefStrandsLayer61506D6089516553"
    assert finding.consumers == ("Example-AdminInsightsStack",)
    asset = next(c for c in finding.causes if c.kind == "asset-changed")
    assert asset.details["display_name"] == "StrandsLayer/Code"
    plan = finding.remediation
    assert plan is not None and plan.strategy == "split-weak-reference"
    located = [s.code for s in plan.steps if s.code and s.code.path and s.code.path.endswith(".py")]
    assert located, "the fix names where the Strands layer is created"
    assert located[0].path == "app.py" and "StrandsLayer" in located[0].snippet


def test_current_version_cannot_keep_the_old_export(synth_app: Callable[[str, str], Path]) -> None:
    """Issue #10, failure 3: no construct of head produces the replaced version's value,
    so "keep the export one release" cannot be applied; weak references work for real."""
    result = analyzed(synth_app, "current_version")
    removed = next(f for f in result.findings if f.rule == "export-removed-in-use")
    assert any(c.kind == "logical-id-changed" or c.kind == "resource-removed" for c in removed.causes)
    plan = removed.remediation
    assert plan is not None and plan.strategy == "split-weak-reference" and plan.verified
    every = [plan.strategy, *(a.strategy for a in plan.alternatives)]
    assert "keep-export-one-release" not in every
    # The consumer cannot go first: the new export does not exist before the producer deploys.
    assert "deploy-consumers-first" not in every


def test_weak_reference_plan_forces_the_unchanged_consumer(synth_app: Callable[[str, str], Path]) -> None:
    (finding,) = analyzed(synth_app, "weak_reference").findings
    assert finding.severity is Severity.WARNING
    plan = finding.remediation
    assert plan is not None and plan.deploy_command == "cdk deploy Producer Consumer --force"


def test_stage_plan_uses_hierarchical_ids(synth_app: Callable[[str, str], Path]) -> None:
    (finding,) = analyzed(synth_app, "stage").findings
    plan = finding.remediation
    assert plan is not None
    commands = [c for s in plan.steps for c in s.commands]
    assert "cdk deploy Prod/Compute Prod/Admin --force" in commands
