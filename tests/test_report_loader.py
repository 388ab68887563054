"""A JSON report read back (the fork-safe publish path): round trip and hostile input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.report_loader import ReportError, from_dict, load_report
from bot.render import json_report, markdown
from tests.render.scenarios import SCENARIOS


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_round_trip_is_lossless(tmp_path: Path, name: str) -> None:
    result = SCENARIOS[name](tmp_path)
    first = json_report.to_dict(result)
    second = json_report.to_dict(from_dict(json.loads(json.dumps(first))))
    assert second == first
    markdown.render(from_dict(first))  # renders without the assemblies


def valid(tmp_path: Path) -> dict:  # type: ignore[type-arg]
    return json_report.to_dict(SCENARIOS["layer_value_change"](tmp_path))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.update(schema_version=2), "$.schema_version is 2; this tool reads version 1"),
        (lambda r: r["findings"][0].update(severity="critical"), "$.findings[0].severity 'critical' is not"),
        (lambda r: r["findings"][0].update(consumers="x"), "$.findings[0].consumers must be a list"),
        (lambda r: r["findings"][0].update(message=["x"]), "$.findings[0].message must be a string"),
        (lambda r: r["findings"][0]["causes"][0].update(extra={"nested": 1}), "must be a plain value"),
        (lambda r: r["findings"][0].update(environment="javascript:alert(1)"), "must look like aws://"),
        (lambda r: r["findings"][0]["remediation"].update(verified="yes"), "verified must be true or false"),
        (lambda r: r.update(findings=[r["findings"][0]] * 2001), "over the limit of 2000"),
        (lambda r: r["findings"][0].update(message="x" * 20001), "longer than 20000 characters"),
    ],
    ids=["version", "severity", "consumers", "message", "nested-cause", "environment", "verified", "too-many",
         "too-long"],
)
def test_hostile_reports_are_refused_with_a_path(tmp_path: Path, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    report = valid(tmp_path)
    mutate(report)
    with pytest.raises(ReportError) as error:
        from_dict(report)
    assert message in str(error.value)


def test_size_cap_and_bad_json(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_text(" " * 200)
    with pytest.raises(ReportError, match="over the limit of 100"):
        load_report(big, max_bytes=100)
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ReportError, match="not valid JSON"):
        load_report(bad)


def every_node(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += every_node(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += every_node(item, (*path, index))
    return found


WRONG_TYPES = ([], {}, None, -1, 1.5, "x")


@pytest.mark.slow
def test_any_field_of_any_wrong_type_is_a_report_error_never_a_crash(tmp_path: Path) -> None:
    # "reference_kind": [] used to raise TypeError (unhashable), killing the publish job and merge.
    report = json.loads(json.dumps(valid(tmp_path)))
    accepted = 0
    for path in every_node(report):
        for wrong in WRONG_TYPES:
            changed = json.loads(json.dumps(report))
            target = changed
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = wrong
            try:
                result = from_dict(changed)
            except ReportError as exc:
                assert "$" in str(exc) and "\n" not in str(exc)  # says where, on one line
                continue
            accepted += 1
            markdown.render(result)
    assert accepted > 0


@pytest.mark.parametrize("value", [[], {}, 1, None])
def test_reference_kind_of_the_wrong_type_says_where(tmp_path: Path, value: object) -> None:
    report = valid(tmp_path)
    report["findings"][0]["reference_kind"] = value
    with pytest.raises(ReportError, match=r"\$\.findings\[0\]\.reference_kind"):
        from_dict(report)
