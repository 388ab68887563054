"""Shapes of real apps that broke plans (docs/plans.md, "Checked on real apps"), each on a
small app of tests/apps, checked like tests/test_failure_kinds.py: every printed plan is
rebuilt from the JSON report alone, applied to a scratch copy, synthesized and simulated,
and may say ``synthesized`` only when that replay accepts it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.model import Level, Severity
from tests.synth_cache import app_dir
from tests.test_failure_kinds import analyzed, plan_from_json, printed_plans, replay

pytestmark = pytest.mark.synth
SynthApp = Callable[[str, str], Path]


def test_ts_crlf_consumers_every_route_is_synthesized_and_keeps_the_file_shape(synth_app: SynthApp) -> None:
    """jumic/cdk-lambda-shared-python-code's shape: the SSM route declares the dependency of two
    consumers created without a variable, the second on the file's last line (no newline),
    in a CRLF file. The planner used to crash merging those patches, and the verifier read
    the file with universal newlines, so no patch of a CRLF file could apply."""
    name = "ts_crlf_consumers"
    assert b"\r\n" in (app_dir(name) / "app.ts").read_bytes()
    assert not (app_dir(name) / "app.ts").read_bytes().endswith(b"\n")
    result = analyzed(synth_app, name)
    (finding,) = result.findings
    assert finding.rule == "export-value-change-in-use" and finding.severity is Severity.BLOCKER
    plan = finding.remediation
    assert plan is not None
    levels = {p.strategy: p.verification.level for p in [plan, *plan.alternatives]}
    assert levels == {"split-weak-reference": Level.SYNTHESIZED, "split-ssm-parameter": Level.SYNTHESIZED,
                      "detach-and-restore": Level.SYNTHESIZED}, levels
    ssm = next(p for p in plan.alternatives if p.strategy == "split-ssm-parameter")
    first = "".join(c.diff or "" for s in ssm.steps for c in s.changes)
    assert "+const component1Stack = new Component1Stack(app, 'Component1Stack', {\r" in first
    assert "+component2Stack.addDependency(layerStack);\n\\ No newline at end of file" in first
    for printed_finding, printed in printed_plans(result):
        again = replay(synth_app, name, printed_finding, plan_from_json(printed))
        assert (printed["verification"]["level"] == "synthesized") == (again.verification.level is Level.SYNTHESIZED), \
            (printed["strategy"], again.verification)


def test_named_and_automatic_value_changes_get_one_plan_that_does_both(synth_app: SynthApp) -> None:
    """Kilianrm/cloud-expenses-app with a hand-named output of the table's name: a renamed
    table changed three exports, and every plan was ``none`` ("no combined plan was
    accepted"). One plan covers all three: the flag for the automatic references and an
    SSM parameter for the hand-named one, in the same two changes."""
    name = "named_and_automatic"
    result = analyzed(synth_app, name)
    assert [f.rule for f in result.findings] == ["export-value-change-in-use"] * 3
    plan = result.findings[0].remediation
    assert plan is not None and plan.verification.level is Level.SYNTHESIZED, plan.verification
    assert set(plan.covers) == {f.id for f in result.findings}
    assert all(f.remediation == plan for f in result.findings)
    change1, change2 = [s for s in plan.steps if s.commands]
    assert [c.kind for c in change1.changes][0] == "context" and change1.changes[0].value == "both"
    assert change2.changes[0].value == "weak" and "--force" in change2.commands[0]
    assert any('value_for_string_parameter(self, "/cdk-export-guard/orders-table-name")' in (c.diff or "")
               for c in change1.changes)
    for printed_finding, printed in printed_plans(result):
        again = replay(synth_app, name, printed_finding, plan_from_json(printed))
        assert (printed["verification"]["level"] == "synthesized") == (again.verification.level is Level.SYNTHESIZED), \
            (printed["strategy"], again.verification)
