"""The assembly loader: what it reads, and the one-line errors for bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.core.assembly import AssemblyError, Limits, load_assembly
from tests.builders import AppBuilder, ref


def simple_app() -> AppBuilder:
    app = AppBuilder()
    p = app.stack("Producer")
    p.resource("Q", "AWS::SQS::Queue")
    p.export("QArn", {"Fn::GetAtt": ["Q", "Arn"]}, {"Fn::Sub": "${AWS::StackName}-${AWS::Region}-q"})
    app.stack("Consumer", depends_on=["Producer"]).resource("T", "AWS::SNS::Topic")
    return app


def test_reads_stacks_exports_and_dependencies(tmp_path: Path) -> None:
    assembly = load_assembly(simple_app().write(tmp_path))
    assert sorted(assembly.stacks) == ["Consumer", "Producer"]
    producer = assembly.stacks["Producer"]
    assert producer.outputs["QArn"].export_name == "Producer-us-east-1-q"
    assert assembly.stacks["Consumer"].dependencies == ("Producer",)
    assert str(producer.environment) == "aws://123456789012/us-east-1"
    assert assembly.cdk_library_version == "2.275.0"


def test_unresolvable_export_name_is_kept_readable(tmp_path: Path) -> None:
    app = simple_app()
    app.stacks["Producer"].export("Other", ref("Q"), {"Fn::Join": ["-", [{"Fn::GetAtt": ["Q", "Arn"]}]]})
    output = load_assembly(app.write(tmp_path)).stacks["Producer"].outputs["Other"]
    assert not output.export_resolved
    assert output.export_name and output.export_name.startswith("<unresolved:")


def test_stage_stacks_get_prefixed_keys_and_hierarchical_ids(tmp_path: Path) -> None:
    app = AppBuilder()
    stage = app.stage("Prod")
    stage.stack("ProdSvc12", stack_name="Prod-Svc", display_name="Prod/Svc").resource("Q", "AWS::SQS::Queue")
    assembly = load_assembly(app.write(tmp_path))
    stack = assembly.stacks["assembly-Prod/ProdSvc12"]  # type: ignore[index]
    assert (stack.hierarchical_id, stack.stack_name) == ("Prod/Svc", "Prod-Svc")


def test_nested_stack_template_is_loaded(tmp_path: Path) -> None:
    app = AppBuilder()
    parent = app.stack("Parent")
    parent.nested_stack("Inner").resource("Q", "AWS::SQS::Queue")
    stack = load_assembly(app.write(tmp_path)).stacks["Parent"]
    assert list(stack.nested) == ["Inner"]
    assert "Q" in stack.nested["Inner"].resources


def test_missing_nested_template_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    app = AppBuilder()
    app.stack("Parent").nested_stack("Inner")
    directory = app.write(tmp_path)
    (directory / "ParentInner.nested.template.json").unlink()
    assembly = load_assembly(directory)
    assert any("is missing" in p for p in assembly.problems)


def write_manifest(directory: Path, manifest: object) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory


def stack_manifest(template_file: str, version: str = "55.0.0") -> dict[str, object]:
    return {"version": version, "artifacts": {"S": {
        "type": "aws:cloudformation:stack", "environment": "aws://1/us-east-1",
        "properties": {"templateFile": template_file}}}}


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: d.mkdir(), "has no manifest.json; is it a cdk.out folder?"),
        (lambda d: (d.mkdir(), (d / "manifest.json").write_text("{nope"))[0],
         "manifest manifest.json is not valid JSON"),
        (lambda d: write_manifest(d, stack_manifest("../outside.json")),
         "path '../outside.json' escapes the assembly folder"),
        (lambda d: write_manifest(d, stack_manifest("/etc/passwd")),
         "path '/etc/passwd' is absolute; it must stay inside the assembly"),
        (lambda d: write_manifest(d, stack_manifest("\u0000\u202e")),
         "path '\\x00\\u202e' holds a NUL character"),
        (lambda d: write_manifest(d, stack_manifest("S.template.json", "123.0.0")),
         "manifest version 123.0.0 is not supported"),
        (lambda d: write_manifest(d, {"artifacts": {}}), "manifest.json has no valid version"),
        (lambda d: write_manifest(d, stack_manifest("S.template.json")),
         "template S.template.json is missing"),
    ],
    ids=["no-manifest", "bad-json", "escape", "absolute", "nul", "future-version", "no-version", "missing-template"],
)
def test_bad_input_gives_one_line_error(tmp_path: Path, setup, message: str) -> None:  # type: ignore[no-untyped-def]
    directory = tmp_path / "cdk.out"
    setup(directory)
    with pytest.raises(AssemblyError) as error:
        load_assembly(directory)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_symlink_escaping_the_assembly_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.json"
    outside.write_text("{}")
    directory = write_manifest(tmp_path / "cdk.out", stack_manifest("S.template.json"))
    os.symlink(outside, directory / "S.template.json")
    with pytest.raises(AssemblyError, match="escapes the assembly folder"):
        load_assembly(directory)


def test_yaml_template_gets_a_hint(tmp_path: Path) -> None:
    directory = write_manifest(tmp_path / "cdk.out", stack_manifest("S.template.json"))
    (directory / "S.template.json").write_text("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")
    with pytest.raises(AssemblyError, match="YAML is not supported"):
        load_assembly(directory)


def test_file_size_limit(tmp_path: Path) -> None:
    directory = simple_app().write(tmp_path / "cdk.out")
    with pytest.raises(AssemblyError, match="over the limit of 100 bytes"):
        load_assembly(directory, Limits(max_file_bytes=100))


def test_deeply_nested_json_is_an_error_not_a_crash(tmp_path: Path) -> None:
    directory = write_manifest(tmp_path / "cdk.out", stack_manifest("S.template.json"))
    (directory / "S.template.json").write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(AssemblyError, match="nested more than|once decoded"):
        load_assembly(directory)


def test_construct_paths_come_from_the_metadata_file_without_path_metadata(tmp_path: Path) -> None:
    app = simple_app()
    for resource in app.stacks["Producer"].template["Resources"].values():
        resource.pop("Metadata")
    directory = app.write(tmp_path)
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["artifacts"]["Producer"]["additionalMetadataFile"] = "Producer.metadata.json"
    (directory / "manifest.json").write_text(json.dumps(manifest))
    (directory / "Producer.metadata.json").write_text(json.dumps({
        "/Producer/Queue/Resource": [{"type": "aws:cdk:logicalId", "data": "Q"}],
        "/Producer": [{"type": "aws:cdk:creationStack", "data": ["..."]}],
    }))
    assert load_assembly(directory).stacks["Producer"].resources["Q"].construct_path == "Producer/Queue/Resource"


def test_limits_from_the_environment() -> None:
    limits = Limits.from_environment({"CDK_EXPORT_GUARD_MAX_FILE_MB": "3", "CDK_EXPORT_GUARD_MAX_NESTING": "4"})
    assert (limits.max_file_bytes, limits.max_nesting) == (3 * 1024 * 1024, 4)
    assert limits.max_total_bytes == Limits().max_total_bytes
    with pytest.raises(AssemblyError, match="CDK_EXPORT_GUARD_MAX_FILE_MB must be a positive whole number"):
        Limits.from_environment({"CDK_EXPORT_GUARD_MAX_FILE_MB": "lots"})
