"""The plain-text report: goldens for the shared scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.render import text
from tests.golden import assert_golden
from tests.render.scenarios import SCENARIOS, stable


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_golden(name: str, tmp_path: Path) -> None:
    result = SCENARIOS[name](tmp_path)
    assert_golden(f"{name}.txt", stable(text.render(result), tmp_path))


def test_no_findings_says_so(tmp_path: Path) -> None:
    report = text.render(SCENARIOS["no_findings"](tmp_path))
    assert report.startswith("cdk-export-guard: no cross-stack reference is at risk")


def test_findings_come_worst_first(tmp_path: Path) -> None:
    report = text.render(SCENARIOS["layer_value_change"](tmp_path))
    assert report.splitlines()[0] == "cdk-export-guard: 1 blocker."
    assert report.splitlines()[1].startswith("Cannot be deployed as it is")
    assert report.splitlines()[3].startswith("BLOCKER 1: Producer -> Consumer, export ")


def test_the_fix_comes_first_and_locations_introduce_their_code(tmp_path: Path) -> None:
    lines = text.render(SCENARIOS["layer_value_change"](tmp_path)).splitlines()
    fix = next(i for i, line in enumerate(lines) if line.startswith("  Fix ("))
    why = next(i for i, line in enumerate(lines) if line.startswith("  Why: "))
    assert 3 < fix < why
    where = lines.index("       In cdk.json:")
    assert lines[where + 1] == '         "@aws-cdk/core:defaultCrossStackReferences": "both"'
    run = lines.index("       Then run:", where)
    assert lines[run + 1] == "         $ cdk deploy Producer Consumer"


def test_prose_wraps_at_about_100_characters_and_code_does_not(tmp_path: Path) -> None:
    result = SCENARIOS["layer_value_change"](tmp_path)
    for line in text.render(result).splitlines():
        if not line.lstrip().startswith(("$ ", '"')):
            assert len(line) <= text.WIDTH or " " not in line.strip(), line


def test_a_tab_in_a_makefile_edit_stays_a_tab(tmp_path: Path) -> None:
    from dataclasses import replace

    from bot.core.model import PipelineEdit

    result = SCENARIOS["layer_value_change"](tmp_path)
    finding = result.findings[0]
    assert finding.remediation is not None
    edit = PipelineEdit("Makefile", 4, "deploy:\n\tcdk deploy Producer", "deploy:\n\tcdk deploy Producer Consumer")
    plan = replace(finding.remediation, pipeline_edits=(edit,))
    report = text.render(replace(result, findings=(replace(finding, remediation=plan),)))
    assert "        + \tcdk deploy Producer Consumer" in report.splitlines()
    assert "?" not in report.split("Pipeline changes:")[1].split("Why:")[0]
    assert "\x1b" not in text.clean("\x1b[31mred\tx") and "\t" in text.clean("a\tb")
