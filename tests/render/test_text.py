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
    assert report.splitlines()[0] == "cdk-export-guard: 1 blocker"
    assert report.splitlines()[2].startswith("BLOCKER [export-value-change-in-use]")
