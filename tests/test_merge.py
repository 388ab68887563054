"""`merge`: the JSON reports of a monorepo's apps (one matrix job each) as one report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.cli.merge import app_name
from bot.core.report_loader import load_report
from bot.render.markdown import MARKER
from tests.builders import AppBuilder, get_att, import_value, ref


def orders_app(layer_key: str) -> AppBuilder:
    """A layer exported to a consumer; head gives it new contents: one blocker."""
    app = AppBuilder()
    p = app.stack("Producer")
    p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": layer_key})
    p.export("L", ref("Layer"), "Producer:ExportsOutputRefLayer")
    app.stack("Consumer", depends_on=["Producer"]).resource(
        "Fn", "AWS::Lambda::Function", Layers=[import_value("Producer:ExportsOutputRefLayer")])
    return app


def billing_app(*, with_new_reference: bool) -> AppBuilder:
    """The same stack names as orders (apps are separate CDK apps); head adds a reference: one notice."""
    app = AppBuilder()
    p = app.stack("Producer")
    p.resource("Queue", "AWS::SQS::Queue")
    c = app.stack("Consumer", depends_on=["Producer"])
    if with_new_reference:
        p.export("Q", get_att("Queue", "Arn"), "Producer:ExportsOutputFnGetAttQueueArn")
        c.resource("Fn", "AWS::Lambda::Function",
                   Environment={"Variables": {"QUEUE": import_value("Producer:ExportsOutputFnGetAttQueueArn")}})
    else:
        c.resource("Fn", "AWS::Lambda::Function", Environment={"Variables": {}})
    return app


def report(tmp_path: Path, name: str, base: AppBuilder, head: AppBuilder) -> Path:
    out = tmp_path / "reports" / f"{name}.report.json"
    base_dir, head_dir = base.write(tmp_path / name / "base"), head.write(tmp_path / name / "head")
    assert main(["analyze", "--base", str(base_dir), "--head", str(head_dir), "--format", "json",
                 "--output", str(out), "--fail-on", "never"]) == 0
    return out


@pytest.fixture
def reports(tmp_path: Path) -> list[Path]:
    return [
        report(tmp_path, "services-orders", orders_app("a.zip"), orders_app("b.zip")),
        report(tmp_path, "services-billing", billing_app(with_new_reference=False),
               billing_app(with_new_reference=True)),
    ]


def merged_json(tmp_path: Path, paths: list[Path], *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    out = tmp_path / "merged.json"
    code = main(["merge", *map(str, paths), "--format", "json", "--output", str(out), *extra])
    return code, json.loads(out.read_text())


def test_two_apps_merge_into_one_report(reports: list[Path], tmp_path: Path) -> None:
    code, data = merged_json(tmp_path, reports)
    assert code == 1  # a blocker, default --fail-on blocker
    assert data["schema_version"] == 1
    assert data["summary"] == {"blocker": 1, "warning": 0, "notice": 1}
    assert [a["name"] for a in data["apps"]] == ["services-orders", "services-billing"]
    assert [a["summary"] for a in data["apps"]] == [{"blocker": 1, "warning": 0, "notice": 0},
                                                     {"blocker": 0, "warning": 0, "notice": 1}]
    assert all(a["assembly"]["base"].endswith("/base") for a in data["apps"])
    assert [(f["app"], f["rule"]) for f in data["findings"]] == [
        ("services-orders", "export-value-change-in-use"), ("services-billing", "new-reference-order")]
    # Both apps have a "Producer": names are kept, the app says whose it is.
    assert sorted((s["app"], s["name"]) for s in data["stacks"] if s["name"] == "Producer") == [
        ("services-billing", "Producer"), ("services-orders", "Producer")]
    assert data["base"]["assembly"] == "2 apps: services-orders, services-billing"
    # Still a schema-v1 report: `publish` (and another merge) read it back.
    again = load_report(tmp_path / "merged.json")
    assert len(again.findings) == 2 and len(again.stacks) == len(data["stacks"])


def test_fail_on(reports: list[Path], tmp_path: Path) -> None:
    assert merged_json(tmp_path, reports, "--fail-on", "never")[0] == 0
    assert merged_json(tmp_path, reports[1:])[0] == 0  # billing alone: a notice
    assert merged_json(tmp_path, reports[1:], "--fail-on", "notice")[0] == 1


def test_duplicates_are_dropped_by_app_and_id(reports: list[Path], tmp_path: Path) -> None:
    data = json.loads(reports[0].read_text())
    data["findings"] = data["findings"] * 2
    doubled = tmp_path / "again" / "services-orders.report.json"
    doubled.parent.mkdir()
    doubled.write_text(json.dumps(data))
    copy = tmp_path / "again" / "services-orders-copy.report.json"
    copy.write_text(reports[0].read_text())
    _, merged = merged_json(tmp_path, [doubled, copy])
    # One per app: the same finding in two apps is two findings, twice in one app is one.
    assert [f["app"] for f in merged["findings"]] == ["services-orders", "services-orders-copy"]
    assert merged["findings"][0]["id"] == merged["findings"][1]["id"]
    assert merged["summary"]["blocker"] == 2
    assert "1 duplicate finding dropped (same app, same id)" in merged["notes"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{", "not valid JSON"),
        ('{"schema_version": 2}', "$.schema_version is 2; this tool reads version 1"),
        (None, "$.findings[0].severity 'critical' is not blocker, warning or notice"),
    ],
    ids=["not-json", "version", "severity"],
)
def test_hostile_report_exits_2_with_the_reason(reports: list[Path], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str], content: str | None,
                                                reason: str) -> None:
    hostile = tmp_path / "fork" / "services-evil.report.json"
    hostile.parent.mkdir()
    if content is None:
        data = json.loads(reports[0].read_text())
        data["findings"][0]["severity"] = "critical"
        content = json.dumps(data)
    hostile.write_text(content)
    out = tmp_path / "merged.md"
    assert main(["merge", str(reports[0]), str(hostile), "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cdk-export-guard: error: ") and reason in err and str(hostile) in err
    assert len(err.splitlines()) == 1
    assert not out.exists()  # nothing half-merged is written


def test_two_reports_with_one_app_name_are_refused(reports: list[Path], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "elsewhere" / reports[0].name
    other.parent.mkdir()
    other.write_text(reports[0].read_text())
    assert main(["merge", str(reports[0]), str(other)]) == 2
    assert "two reports for app 'services-orders'" in capsys.readouterr().err


def test_markdown_names_the_apps(reports: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "comment.md"
    assert main(["merge", *map(str, reports), "--format", "markdown", "--output", str(out),
                 "--fail-on", "never"]) == 0
    body = out.read_text()
    assert body.startswith(MARKER + "\n")
    assert "cdk-export-guard — 2 apps: services-orders, services-billing" in body
    # Stacks named app/stack, "[app]" (escaped) before each message shown, so the apps stay apart.
    assert "#### 🛑 1. services-orders/Producer → services-orders/Consumer" in body
    # The footer names the tool and the versions, not the title or any folder.
    assert (
        "<sub>cdk-export-guard 0.1.0 · base: manifest 55.0.0, aws-cdk-lib 2.275.0 · head: manifest 55.0.0, "
        "aws-cdk-lib 2.275.0</sub>") in body.splitlines()
    assert "&#91;services-billing&#93; Consumer starts reading export" in body
    assert '["services-orders/Producer"]' in body and '["services-billing/Producer"]' in body


def test_text_format(reports: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["merge", *map(str, reports), "--format", "text", "--fail-on", "never"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "cdk-export-guard — 2 apps: services-orders, services-billing"
    assert lines[1] == "cdk-export-guard: 1 blocker, 1 notice."
    assert any(line.startswith("BLOCKER 1: services-orders/Producer -> services-orders/Consumer") for line in lines)
    assert any(line.startswith("  Why: [services-orders] Deploying Producer will fail") for line in lines)
    assert "    - services-orders/Consumer: Fn at /Resources/Fn/Properties/Layers/0 (Consumer/Fn/Resource)" in lines
    assert "  services-billing/Producer (changed): outputs only" in lines


@pytest.mark.parametrize(
    ("file_name", "app"),
    [("services-orders.report.json", "services-orders"), ("root.report.json", "root"),
     ("billing.json", "billing"), (".report.json", ".report"), ("weird", "weird")],
)
def test_app_name_from_file_name(file_name: str, app: str) -> None:
    assert app_name(Path("reports") / file_name) == app
