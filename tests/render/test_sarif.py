"""SARIF 2.1.0 output: goldens, structure, levels, stable fingerprints, locations."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot import __version__
from bot.core.model import Severity
from bot.core.rules.common import RULE_DOCS
from bot.render import sarif
from tests.golden import assert_golden
from tests.render.scenarios import SCENARIOS, stable

LEVELS = {"blocker": "error", "warning": "warning", "notice": "note"}

# The part of the SARIF 2.1.0 schema that code scanning relies on.
_MESSAGE = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}
_PHYSICAL = {
    "type": "object",
    "required": ["artifactLocation"],
    "properties": {
        "artifactLocation": {
            "type": "object",
            "required": ["uri", "uriBaseId"],
            "properties": {"uri": {"type": "string", "pattern": "^[^/]"}, "uriBaseId": {"type": "string"}},
        }
    },
}
_LOCATION = {
    "type": "object",
    "required": ["physicalLocation"],
    "properties": {"physicalLocation": _PHYSICAL, "message": _MESSAGE,
                   "id": {"type": "integer", "minimum": 0}},
}
SCHEMA_SUBSET: dict[str, Any] = {
    "type": "object",
    "required": ["$schema", "version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1,
            "items": {
                "type": "object",
                "required": ["tool", "results"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name", "version", "informationUri", "rules"],
                                "properties": {
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id", "shortDescription", "fullDescription",
                                                         "defaultConfiguration"],
                                            "properties": {
                                                "shortDescription": _MESSAGE,
                                                "fullDescription": _MESSAGE,
                                                "defaultConfiguration": {
                                                    "type": "object",
                                                    "properties": {"level": {
                                                        "enum": ["none", "note", "warning", "error"]}},
                                                },
                                            },
                                        },
                                    }
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["ruleId", "level", "message", "partialFingerprints",
                                         "locations"],
                            "properties": {
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": _MESSAGE,
                                "partialFingerprints": {"type": "object",
                                                        "additionalProperties": {"type": "string"}},
                                "locations": {"type": "array", "minItems": 1, "items": _LOCATION},
                                "relatedLocations": {"type": "array", "items": _LOCATION},
                                "properties": {"type": "object"},
                            },
                        },
                    },
                },
            },
        },
    },
}


def report(name: str, tmp_path: Path) -> tuple[Any, str]:
    result = SCENARIOS[name](tmp_path)
    return result, stable(sarif.render(result), tmp_path)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_golden(name: str, tmp_path: Path) -> None:
    _, text = report(name, tmp_path)
    assert_golden(f"{name}.sarif.json", text)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_structure(name: str, tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    result, text = report(name, tmp_path)
    document = json.loads(text)
    jsonschema.validate(document, SCHEMA_SUBSET)
    run = document["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "cdk-export-guard"
    assert driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")
    assert len(run["results"]) == len(result.findings)
    raw = sarif.render(result)
    assert str(tmp_path) not in raw and "file://" not in raw  # no runner paths
    assert set(json.loads(raw)["runs"][0]["originalUriBaseIds"]) == {"HEADASSEMBLY", "BASEASSEMBLY"}


def test_rules_metadata_covers_every_rule(tmp_path: Path) -> None:
    _, text = report("no_findings", tmp_path)
    rules = json.loads(text)["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULE_DOCS)
    for rule in rules:
        severity, description = RULE_DOCS[rule["id"]]
        assert rule["defaultConfiguration"]["level"] == LEVELS[severity.label]
        assert rule["fullDescription"]["text"] == description
        without_asides = re.sub(r"\s*\([^)]*\)", "", description)
        assert without_asides.startswith(rule["shortDescription"]["text"].rstrip("."))


def test_levels_follow_severity() -> None:
    assert {s.label: sarif.LEVELS[s] for s in Severity} == LEVELS


@pytest.mark.parametrize("name", ["layer_value_change", "export_removed", "weak_reference_stale",
                                  "hostile"])
def test_results(name: str, tmp_path: Path) -> None:
    result, text = report(name, tmp_path)
    results = json.loads(text)["runs"][0]["results"]
    rules = list(RULE_DOCS)
    for finding, item in zip(result.findings, results, strict=True):
        assert item["ruleId"] == finding.rule
        assert item["ruleIndex"] == rules.index(finding.rule)
        assert item["level"] == LEVELS[finding.severity.label]
        assert item["message"]["text"] == finding.message
        assert item["partialFingerprints"] == {"cdkExportGuard/v1": finding.id}
        location = item["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location == {"uri": "Producer.template.json" if name != "export_removed"
                            else "Network.template.json", "uriBaseId": "HEADASSEMBLY"}
        related = item["relatedLocations"]
        assert len(related) == len(finding.usages)
        # export_removed: the consumer dropped the import, so it is only in base's template.
        where = "BASEASSEMBLY" if name == "export_removed" else "HEADASSEMBLY"
        for usage, place in zip(finding.usages, related, strict=True):
            assert place["physicalLocation"]["artifactLocation"]["uriBaseId"] == where
            assert usage.path in place["message"]["text"]
        assert item["properties"]["export"] == finding.export
        assert item["properties"]["producer"] == finding.producer
        assert item["properties"]["consumers"] == list(finding.consumers)


def test_consumer_location_is_its_template(tmp_path: Path) -> None:
    _, text = report("layer_value_change", tmp_path)
    related = json.loads(text)["runs"][0]["results"][0]["relatedLocations"]
    assert related[0]["physicalLocation"]["artifactLocation"] == {
        "uri": "Consumer.template.json",
        "uriBaseId": "HEADASSEMBLY",
    }
    assert related[0]["logicalLocations"][0]["fullyQualifiedName"] == (
        "Consumer/Resources/Handler/Properties/Layers/0"
    )


def test_fingerprints_are_stable_across_runs(tmp_path: Path) -> None:
    def fingerprints(folder: Path) -> list[str]:
        text = sarif.render(SCENARIOS["layer_value_change"](folder))
        return [r["partialFingerprints"]["cdkExportGuard/v1"]
                for r in json.loads(text)["runs"][0]["results"]]

    first, second = fingerprints(tmp_path / "one"), fingerprints(tmp_path / "two")
    assert first == second and len(first) == 1 and len(first[0]) == 16


def test_no_findings_has_no_results(tmp_path: Path) -> None:
    _, text = report("no_findings", tmp_path)
    assert json.loads(text)["runs"][0]["results"] == []


def test_a_known_source_line_is_the_location_relative_to_the_repository(tmp_path: Path) -> None:
    from dataclasses import replace

    from bot.core.model import CodeLocation, Step

    result = SCENARIOS["layer_value_change"](tmp_path)
    finding = result.findings[0]
    assert finding.remediation is not None
    step = Step(title="Change the layer", kind="code-change",
                code=CodeLocation("python", "app.py", 26, "layer = LayerVersion(...)"))
    plan = replace(finding.remediation, steps=(step, *finding.remediation.steps))
    located = replace(result, findings=(replace(finding, remediation=plan),))

    for root, uri in (("", "app.py"), (".", "app.py"), ("services/orders", "services/orders/app.py")):
        (only,) = json.loads(sarif.render(located, source_root=root))["runs"][0]["results"]
        assert only["locations"] == [{"physicalLocation": {"artifactLocation": {"uri": uri},
                                                           "region": {"startLine": 26}}}]
        templates = [r["physicalLocation"]["artifactLocation"] for r in only["relatedLocations"]]
        assert {"uri": "Producer.template.json", "uriBaseId": "HEADASSEMBLY"} in templates
    # Without a source line, the producer's template stays the location.
    (plain,) = json.loads(sarif.render(result))["runs"][0]["results"]
    assert plain["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "HEADASSEMBLY"
