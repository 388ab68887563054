"""The command line: formats, output files, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.builders import AppBuilder, import_value, ref


def layer_app(key: str) -> AppBuilder:
    app = AppBuilder()
    p = app.stack("Producer")
    p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": key})
    p.export("L", ref("Layer"), "Producer:ExportsOutputRefLayer")
    app.stack("Consumer", depends_on=["Producer"]).resource(
        "Fn", "AWS::Lambda::Function", Layers=[import_value("Producer:ExportsOutputRefLayer")])
    return app


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return layer_app("a.zip").write(tmp_path / "base"), layer_app("b.zip").write(tmp_path / "head")


def test_blocker_exits_1_and_prints_text(pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    base, head = pair
    assert main(["analyze", "--base", str(base), "--head", str(head)]) == 1
    out = capsys.readouterr().out
    assert "BLOCKER 1: Producer -> Consumer" in out and "[export-value-change-in-use]" in out
    assert "Cannot update export Producer:ExportsOutputRefLayer as it is in use by Consumer" in out


def test_fail_on_never_exits_0(pair: tuple[Path, Path]) -> None:
    base, head = pair
    assert main(["analyze", "--base", str(base), "--head", str(head), "--fail-on", "never"]) == 0


def test_no_change_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = layer_app("a.zip").write(tmp_path / "base")
    assert main(["analyze", "--base", str(base), "--head", str(base)]) == 0
    assert "no cross-stack reference is at risk" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["json", "markdown", "sarif", "text"])
def test_every_format_writes_to_output_file(pair: tuple[Path, Path], tmp_path: Path, fmt: str) -> None:
    base, head = pair
    out = tmp_path / "reports" / f"report.{fmt}"
    assert main(["analyze", "--base", str(base), "--head", str(head), "--format", fmt, "--output", str(out)]) == 1
    content = out.read_text()
    assert "Producer:ExportsOutputRefLayer" in content
    if fmt in ("json", "sarif"):
        json.loads(content)


def test_json_report_schema_v1(pair: tuple[Path, Path], tmp_path: Path) -> None:
    base, head = pair
    out = tmp_path / "r.json"
    main(["analyze", "--base", str(base), "--head", str(head), "--format", "json", "--output", str(out)])
    report = json.loads(out.read_text())
    assert report["schema_version"] == 1
    assert set(report) >= {"schema_version", "tool", "base", "head", "summary", "findings", "stacks"}
    assert report["summary"] == {"blocker": 1, "warning": 0, "notice": 0}
    finding = report["findings"][0]
    assert set(finding) >= {"id", "rule", "severity", "producer", "export", "output", "consumers",
                            "environment", "causes", "usages", "message", "remediation"}
    assert finding["producer"] == "Producer" and finding["consumers"] == ["Consumer"]
    assert finding["environment"] == "aws://123456789012/us-east-1"
    assert set(finding["remediation"]) >= {"strategy", "summary", "steps", "deploy_command",
                                           "pipeline_edits", "verified"}
    assert set(report["stacks"][0]) >= {"name", "artifact_id", "environment", "changes"}
    assert set(report["stacks"][0]["changes"]) == {"added", "updated", "replaced", "removed"}


def test_finding_id_is_stable_across_runs(pair: tuple[Path, Path], tmp_path: Path) -> None:
    base, head = pair
    ids = []
    for i in range(2):
        out = tmp_path / f"r{i}.json"
        main(["analyze", "--base", str(base), "--head", str(head), "--format", "json", "--output", str(out)])
        ids.append(json.loads(out.read_text())["findings"][0]["id"])
    assert ids[0] == ids[1] and len(ids[0]) == 16


def test_bad_input_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["analyze", "--base", str(tmp_path / "empty"), "--head", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cdk-export-guard: error: ") and "has no manifest.json" in err
    assert len(err.splitlines()) == 1


def test_python_dash_m_bot_runs(pair: tuple[Path, Path]) -> None:
    base, head = pair
    done = subprocess.run([sys.executable, "-m", "bot", "analyze", "--base", str(base), "--head", str(head),
                           "--format", "json"], capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["summary"]["blocker"] == 1


def test_verify_context_must_be_key_value(pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    base, head = pair
    code = main(["analyze", "--base", str(base), "--head", str(head), "--source", str(base), "--verify-plans",
                 "--head-context", "variant"])
    assert code == 2
    assert "context must be KEY=VALUE, got 'variant'" in capsys.readouterr().err
