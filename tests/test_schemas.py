"""The create-only snapshot matches the pinned cfn-lint, and the lookups read it right."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from bot.core import schemas

ROOT = Path(__file__).resolve().parents[1]


def load_generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("update_schemas", ROOT / "scripts" / "update_schemas.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_snapshot_equals_what_the_pinned_cfn_lint_says() -> None:
    pytest.importorskip("cfnlint", reason="cfn-lint is installed by requirements.lock")
    generator = load_generator()
    on_disk = json.loads((ROOT / "bot" / "data" / "create_only.json").read_text())
    assert generator.build() == on_disk, "run scripts/update_schemas.py after changing the cfn-lint pin"


def test_pin_in_lock_matches_snapshot() -> None:
    lock = (ROOT / "requirements.lock").read_text().splitlines()
    assert f"cfn-lint=={schemas.cfn_lint_version()}" in lock


@pytest.mark.parametrize(
    ("type_name", "path", "expected"),
    [
        ("AWS::Lambda::LayerVersion", ("Content", "S3Key"), "create-only"),
        ("AWS::SQS::Queue", ("QueueName",), "create-only"),
        ("AWS::Lambda::Function", ("Code", "S3Key"), "in-place"),
        ("AWS::DynamoDB::Table", ("BillingMode",), "in-place"),
        ("AWS::DynamoDB::Table", ("KeySchema", 0, "AttributeName"), "conditional"),
        ("AWS::ECS::TaskDefinition", ("ContainerDefinitions", 0, "Image"), "create-only"),
    ],
)
def test_lookup(type_name: str, path: tuple[str | int, ...], expected: str) -> None:
    rules = schemas.rules_for(type_name)
    assert rules is not None
    if any(schemas.matches(r, path) for r in rules.create_only):
        actual = "create-only"
    elif any(schemas.matches(r, path) for r in rules.conditional):
        actual = "conditional"
    else:
        actual = "in-place"
    assert actual == expected


def test_unknown_types_have_no_rules() -> None:
    assert schemas.rules_for("Custom::Anything") is None
    assert schemas.rules_for("Acme::Widget::Thing") is None
