"""Keep the test apps honest: each synthesizes at base and head with the intended difference.

tests/apps/README.md says what each app changes and which finding it must produce; these
tests check the first half on the real templates, so an analyzer test that uses an app
knows the change it looks for is really there (and nothing else changed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.synth_cache import APPS_DIR

pytestmark = pytest.mark.synth

SynthApp = Callable[[str, str], Path]
JsonPath = tuple[str | int, ...]

ALL_APPS = sorted(p.name for p in APPS_DIR.iterdir() if (p / "cdk.json").is_file())


# --- reading an assembly --------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One synthesized variant: templates by stack name, manifests by assembly folder."""

    out: Path
    templates: dict[str, dict[str, Any]]
    dependencies: dict[str, set[str]]
    assemblies: set[str]

    def template(self, stack_name: str) -> dict[str, Any]:
        return self.templates[stack_name]


def load(out: Path) -> Side:
    templates: dict[str, dict[str, Any]] = {}
    dependencies: dict[str, set[str]] = {}
    assemblies: set[str] = set()

    def read(folder: Path) -> None:
        manifest = json.loads((folder / "manifest.json").read_text())
        names = {
            artifact_id: art.get("properties", {}).get("stackName", artifact_id)
            for artifact_id, art in manifest["artifacts"].items()
            if art["type"] == "aws:cloudformation:stack"
        }
        for artifact_id, art in manifest["artifacts"].items():
            if art["type"] == "aws:cloudformation:stack":
                name = names[artifact_id]
                templates[name] = json.loads((folder / art["properties"]["templateFile"]).read_text())
                dependencies[name] = {names[d] for d in art.get("dependencies", []) if d in names}
            elif art["type"] == "cdk:cloud-assembly":
                directory = art["properties"]["directoryName"]
                assemblies.add(directory)
                read(folder / directory)

    read(out)
    return Side(out, templates, dependencies, assemblies)


@pytest.fixture
def sides(synth_app: SynthApp, request: pytest.FixtureRequest) -> tuple[Side, Side]:
    name = request.param
    return load(synth_app(name, "base")), load(synth_app(name, "head"))


def apps(name: str) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("sides", [name], indirect=True)


# --- reading templates ------------------------------------------------------------------


def diff(a: Any, b: Any, path: JsonPath = ()) -> list[JsonPath]:
    """Paths where two JSON values differ (a key present on one side only counts)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [p for key in sorted(a.keys() | b.keys()) for p in diff(a.get(key), b.get(key), (*path, key))]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [p for i, (x, y) in enumerate(zip(a, b, strict=True)) for p in diff(x, y, (*path, i))]
    return [] if a == b else [path]


def walk(value: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from walk(item, (*path, i))


def intrinsics(template: dict[str, Any], function: str) -> list[Any]:
    """Arguments of every ``{function: ...}`` in the template."""
    return [v[function] for _, v in walk(template) if isinstance(v, dict) and set(v) == {function}]


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template.get("Resources", {}).items() if r["Type"] == resource_type}


def one_of_type(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    (item,) = of_type(template, resource_type).items()
    return item


def exports(template: dict[str, Any]) -> dict[str, Any]:
    """Export name -> output value."""
    return {o["Export"]["Name"]: o["Value"] for o in template.get("Outputs", {}).values() if "Export" in o}


def all_exports(side: Side) -> dict[str, Any]:
    return {name: value for t in side.templates.values() for name, value in exports(t).items()}


def all_imports(side: Side) -> list[Any]:
    return [name for t in side.templates.values() for name in intrinsics(t, "Fn::ImportValue")]


def layer_s3_key_changed(base: dict[str, Any], head: dict[str, Any]) -> str:
    """Assert the template's only change is its one layer's asset; return the layer id."""
    layer_id, layer = one_of_type(base, "AWS::Lambda::LayerVersion")
    assert one_of_type(head, "AWS::Lambda::LayerVersion")[0] == layer_id
    assert diff(base, head) == [
        ("Resources", layer_id, "Metadata", "aws:asset:path"),
        ("Resources", layer_id, "Properties", "Content", "S3Key"),
    ]
    assert layer["Properties"]["Content"]["S3Key"].endswith(".zip")
    return layer_id


# --- one test per app ---------------------------------------------------------------------


def test_every_app_is_listed_in_the_readme() -> None:
    readme = (APPS_DIR / "README.md").read_text()
    expected = ["layer_cross_stack", "named_export_layer", "queue_rename", "in_place", "current_version",
                "dropped_reference", "new_reference", "weak_reference", "ssm_link", "stage", "nested_stack",
                "import_missing", "unchanged", "agnostic_importer", "weak_both", "weak_stage", "weak_nested",
                "pipeline_dropped_reference", "pipeline_layer", "pipeline_two_stages", "pipeline_waves",
                "exports_together", "blocker_and_notice", "old_library_pin", "upstream_flag", "ts_layer",
                "mixed_producer", "mixed_named_producer", "ts_crlf_consumers", "named_and_automatic"]
    assert sorted(expected) == ALL_APPS
    for name in ALL_APPS:
        assert f"`{name}`" in readme


@apps("layer_cross_stack")
def test_layer_cross_stack(sides: tuple[Side, Side]) -> None:
    base, head = sides
    layer_id = layer_s3_key_changed(base.template("Compute"), head.template("Compute"))
    assert diff(base.template("Admin"), head.template("Admin")) == []
    (name,) = all_imports(base)
    assert name.startswith(f"Compute:ExportsOutputRef{layer_id}")
    assert all_exports(base) == all_exports(head) == {name: {"Ref": layer_id}}
    assert base.dependencies["Admin"] == {"Compute"}


@apps("named_export_layer")
def test_named_export_layer(sides: tuple[Side, Side]) -> None:
    base, head = sides
    layer_id = layer_s3_key_changed(base.template("Producer"), head.template("Producer"))
    assert diff(base.template("Consumer"), head.template("Consumer")) == []
    assert all_exports(base) == {"shared-layer-arn": {"Ref": layer_id}}
    assert all_imports(base) == all_imports(head) == ["shared-layer-arn"]
    assert base.dependencies["Consumer"] == {"Producer"}


@apps("queue_rename")
def test_queue_rename(sides: tuple[Side, Side]) -> None:
    base, head = sides
    queue_id, queue = one_of_type(base.template("Producer"), "AWS::SQS::Queue")
    assert diff(base.template("Producer"), head.template("Producer")) == [
        ("Resources", queue_id, "Properties", "QueueName")
    ]
    assert (queue["Properties"]["QueueName"], head.template("Producer")["Resources"][queue_id]["Properties"]
            ["QueueName"]) == ("orders-v1", "orders-v2")
    assert diff(base.template("Consumer"), head.template("Consumer")) == []
    assert sorted(map(json.dumps, all_exports(base).values())) == sorted(
        map(json.dumps, [{"Ref": queue_id}, {"Fn::GetAtt": [queue_id, "Arn"]}])
    )
    assert sorted(all_imports(base)) == sorted(all_exports(base))


@apps("in_place")
def test_in_place(sides: tuple[Side, Side]) -> None:
    base, head = sides
    producer_base, producer_head = base.template("Producer"), head.template("Producer")
    fn_id, _ = one_of_type(producer_base, "AWS::Lambda::Function")
    table_id, table = one_of_type(producer_base, "AWS::DynamoDB::Table")
    assert diff(producer_base, producer_head) == [
        ("Resources", fn_id, "Metadata", "aws:asset:path"),
        ("Resources", fn_id, "Properties", "Code", "S3Key"),
        ("Resources", table_id, "Properties", "BillingMode"),
        ("Resources", table_id, "Properties", "ProvisionedThroughput"),
    ]
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    assert producer_head["Resources"][table_id]["Properties"]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    assert diff(base.template("Consumer"), head.template("Consumer")) == []
    assert sorted(map(json.dumps, all_exports(base).values())) == sorted(
        map(json.dumps, [{"Ref": table_id}, {"Fn::GetAtt": [fn_id, "Arn"]}])
    )
    assert all_exports(base) == all_exports(head)
    assert sorted(all_imports(base)) == sorted(all_exports(base))


@apps("current_version")
def test_current_version(sides: tuple[Side, Side]) -> None:
    base, head = sides
    base_version, _ = one_of_type(base.template("Producer"), "AWS::Lambda::Version")
    head_version, _ = one_of_type(head.template("Producer"), "AWS::Lambda::Version")
    assert base_version.startswith("ApiCurrentVersion") and head_version.startswith("ApiCurrentVersion")
    assert base_version != head_version  # CDK hashes the function's configuration into the id
    fn_id, _ = one_of_type(base.template("Producer"), "AWS::Lambda::Function")
    assert base.template("Producer")["Resources"][fn_id]["Properties"]["Code"]["S3Key"] != head.template(
        "Producer")["Resources"][fn_id]["Properties"]["Code"]["S3Key"]
    # The automatic export's name embeds the logical id: the export is renamed, not re-valued.
    ((base_name, base_value),) = all_exports(base).items()
    ((head_name, head_value),) = all_exports(head).items()
    assert (base_value, head_value) == ({"Ref": base_version}, {"Ref": head_version})
    assert base_name == f"Producer:ExportsOutputRef{base_version}" + base_name[-8:]
    assert head_name == f"Producer:ExportsOutputRef{head_version}" + head_name[-8:]
    assert (all_imports(base), all_imports(head)) == ([base_name], [head_name])


@apps("dropped_reference")
def test_dropped_reference(sides: tuple[Side, Side]) -> None:
    base, head = sides
    queue_id, _ = one_of_type(base.template("Producer"), "AWS::SQS::Queue")
    (name,) = all_imports(base)
    assert all_exports(base) == {name: {"Fn::GetAtt": [queue_id, "Arn"]}}
    assert (all_imports(head), all_exports(head)) == ([], {})
    assert base.dependencies["Consumer"] == {"Producer"}
    assert head.dependencies["Consumer"] == set()


@apps("exports_together")
def test_exports_together(sides: tuple[Side, Side]) -> None:
    base, head = sides
    assert sorted(all_exports(base)) == sorted(all_imports(base))
    assert len(all_imports(base)) == 2 and all(":ExportsOutputRef" in n for n in all_imports(base))
    assert sorted(all_imports(head)) == ["demo-a-layer-arn", "demo-b-layer-arn"]
    assert sorted(all_exports(head)) == ["demo-a-layer-arn", "demo-b-layer-arn"]
    layers = [k for k, r in base.template("Compute")["Resources"].items() if r["Type"] == "AWS::Lambda::LayerVersion"]
    assert {k: base.template("Compute")["Resources"][k] for k in layers} == \
        {k: head.template("Compute")["Resources"][k] for k in layers}  # the layers themselves do not change
    assert base.dependencies["Admin"] == head.dependencies["Admin"] == {"Compute"}


@apps("blocker_and_notice")
def test_blocker_and_notice(sides: tuple[Side, Side]) -> None:
    base, head = sides
    layer_id, layer = one_of_type(base.template("Producer"), "AWS::Lambda::LayerVersion")
    head_layer = head.template("Producer")["Resources"][layer_id]
    assert head_layer["Properties"]["Content"]["S3Key"] != layer["Properties"]["Content"]["S3Key"]
    (layer_export,) = all_imports(base)
    assert layer_export.startswith(f"Producer:ExportsOutputRef{layer_id}")
    queue_id, _ = one_of_type(head.template("Producer"), "AWS::SQS::Queue")
    assert of_type(base.template("Producer"), "AWS::SQS::Queue") == {}
    (new_export,) = set(all_imports(head)) - {layer_export}
    assert all_exports(head)[new_export] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert base.dependencies["Consumer"] == head.dependencies["Consumer"] == {"Producer"}


@apps("old_library_pin")
def test_old_library_pin(sides: tuple[Side, Side]) -> None:
    base, head = sides
    layer_id = layer_s3_key_changed(base.template("Compute"), head.template("Compute"))
    assert diff(base.template("Admin"), head.template("Admin")) == []
    (name,) = all_imports(base)
    assert name.startswith(f"Compute:ExportsOutputRef{layer_id}")
    for side in sides:  # the assembly does not say which aws-cdk-lib made it
        assert not (side.out / "tree.json").exists()
        assert all("CDKMetadata" not in t.get("Resources", {}) for t in side.templates.values())


@apps("upstream_flag")
def test_upstream_flag(sides: tuple[Side, Side]) -> None:
    base, head = sides
    layer_id = layer_s3_key_changed(base.template("Compute"), head.template("Compute"))
    assert diff(base.template("Network"), head.template("Network")) == []
    assert diff(base.template("Admin"), head.template("Admin")) == []
    bucket_id, _ = one_of_type(base.template("Network"), "AWS::S3::Bucket")
    assert sorted(all_exports(base).values(), key=str) == sorted(
        [{"Ref": bucket_id}, {"Ref": layer_id}], key=str)
    assert base.dependencies["Compute"] == {"Network"} and base.dependencies["Admin"] == {"Compute"}


@apps("ts_layer")
def test_ts_layer(sides: tuple[Side, Side]) -> None:
    """The TypeScript app (Node 24 strips the types): the automatic export becomes a named one."""
    base, head = sides
    (automatic,) = all_imports(base)
    assert automatic.startswith("Producer:ExportsOutputRefSharedLayer") and list(all_exports(base)) == [automatic]
    assert all_imports(head) == ["ts-shared-layer-arn"] and list(all_exports(head)) == ["ts-shared-layer-arn"]
    layer_id, _ = one_of_type(base.template("Producer"), "AWS::Lambda::LayerVersion")
    assert base.template("Producer")["Resources"][layer_id] == head.template("Producer")["Resources"][layer_id]
    assert base.dependencies["Consumer"] == head.dependencies["Consumer"] == {"Producer"}


@apps("ts_crlf_consumers")
def test_ts_crlf_consumers(sides: tuple[Side, Side]) -> None:
    """The CRLF TypeScript app: only the layer's contents change; both consumers import it."""
    base, head = sides
    layer_s3_key_changed(base.template("LayerStack"), head.template("LayerStack"))
    (export,) = all_exports(base)
    assert export.startswith("LayerStack:ExportsOutputRefSharedLayer") and all_imports(base) == [export, export]
    for consumer in ("Component1Stack", "Component2Stack"):
        assert diff(base.template(consumer), head.template(consumer)) == []
        assert base.dependencies[consumer] == {"LayerStack"}


@apps("named_and_automatic")
def test_named_and_automatic(sides: tuple[Side, Side]) -> None:
    """Only the table's name changes; three exports of it, one hand-named, all imported."""
    base, head = sides
    table_id, _ = one_of_type(base.template("Producer"), "AWS::DynamoDB::Table")
    assert diff(base.template("Producer"), head.template("Producer")) == \
        [("Resources", table_id, "Properties", "TableName")]
    assert diff(base.template("Consumer"), head.template("Consumer")) == []
    assert sorted(set(all_imports(base))) == sorted(all_exports(base)) and "orders-table-name" in all_exports(base)
    assert len(all_exports(base)) == 3 and base.dependencies["Consumer"] == {"Producer"}


@apps("mixed_producer")
def test_mixed_producer(sides: tuple[Side, Side]) -> None:
    base, head = sides
    layer_id, _ = one_of_type(base.template("Producer"), "AWS::Lambda::LayerVersion")
    changed = diff(base.template("Producer"), head.template("Producer"))
    assert ("Resources", layer_id, "Properties", "Content", "S3Key") in changed
    assert len(all_imports(base)) == 2 and len(all_exports(base)) == 2
    (kept,) = all_imports(head)
    assert kept.startswith("Producer:ExportsOutputRefSharedLayer") and list(all_exports(head)) == [kept]
    assert base.dependencies["Consumer"] == head.dependencies["Consumer"] == {"Producer"}


@apps("mixed_named_producer")
def test_mixed_named_producer(sides: tuple[Side, Side]) -> None:
    base, head = sides
    layer_id, _ = one_of_type(base.template("Producer"), "AWS::Lambda::LayerVersion")
    assert ("Resources", layer_id, "Properties", "Content", "S3Key") in \
        diff(base.template("Producer"), head.template("Producer"))
    assert sorted(all_imports(base))[1] == "mixed-layer-arn" and len(all_exports(base)) == 2
    assert all_imports(head) == ["mixed-layer-arn"] and list(all_exports(head)) == ["mixed-layer-arn"]
    assert base.dependencies["Consumer"] == head.dependencies["Consumer"] == {"Producer"}


@apps("new_reference")
def test_new_reference(sides: tuple[Side, Side]) -> None:
    base, head = sides
    queue_id, _ = one_of_type(head.template("Producer"), "AWS::SQS::Queue")
    assert (all_imports(base), all_exports(base)) == ([], {})
    (name,) = all_imports(head)
    assert all_exports(head) == {name: {"Fn::GetAtt": [queue_id, "Arn"]}}
    assert head.dependencies["Consumer"] == {"Producer"}


@apps("agnostic_importer")
def test_agnostic_importer(sides: tuple[Side, Side]) -> None:
    base, head = sides
    layer_s3_key_changed(base.template("Producer"), head.template("Producer"))
    assert diff(base.template("Consumer"), head.template("Consumer")) == []
    assert all_imports(base) == ["shared-layer-arn"] and list(all_exports(base)) == ["shared-layer-arn"]
    manifest = json.loads((base.out / "manifest.json").read_text())["artifacts"]
    assert manifest["Producer"]["environment"] == "aws://123456789012/us-east-1"
    assert manifest["Consumer"]["environment"] == "aws://unknown-account/unknown-region"


@apps("weak_both")
def test_weak_both(sides: tuple[Side, Side]) -> None:
    base, head = sides
    layer_id = layer_s3_key_changed(base.template("Producer"), head.template("Producer"))
    assert diff(base.template("Consumer"), head.template("Consumer")) == []
    (reference,) = intrinsics(base.template("Consumer"), "Fn::GetStackOutput")
    assert reference["OutputName"].startswith("PublishOutputRef")
    # Migration mode keeps the strong export too, though nothing imports it any more.
    (export_name,) = all_exports(base)
    assert export_name.startswith(f"Producer:ExportsOutputRef{layer_id}") and all_imports(base) == []


@apps("weak_stage")
def test_weak_stage(sides: tuple[Side, Side]) -> None:
    base, head = sides
    assert base.assemblies == {"assembly-Prod"}
    layer_s3_key_changed(base.template("Prod-Producer"), head.template("Prod-Producer"))
    (reference,) = intrinsics(base.template("Prod-Consumer"), "Fn::GetStackOutput")
    assert reference["StackName"] == "Prod-Producer"
    assert base.dependencies["Prod-Consumer"] == {"Prod-Producer"}


@apps("weak_nested")
def test_weak_nested(sides: tuple[Side, Side]) -> None:
    base, head = sides
    assert set(base.templates) == {"Producer", "Consumer"}
    layer_s3_key_changed(base.template("Producer"), head.template("Producer"))
    nested_id, nested = one_of_type(base.template("Consumer"), "AWS::CloudFormation::Stack")
    nested_template = json.loads((base.out / nested["Metadata"]["aws:asset:path"]).read_text())
    # The nested stack itself reads the producer's output: GetStackOutput is not passed down.
    (reference,) = intrinsics(nested_template, "Fn::GetStackOutput")
    assert reference["StackName"] == "Producer"
    assert intrinsics(base.template("Consumer"), "Fn::GetStackOutput") == []


@apps("weak_reference")
def test_weak_reference(sides: tuple[Side, Side]) -> None:
    base, head = sides
    assert json.loads((APPS_DIR / "weak_reference" / "cdk.json").read_text())["context"] == {
        "@aws-cdk/core:defaultCrossStackReferences": "weak"}
    layer_id = layer_s3_key_changed(base.template("Producer"), head.template("Producer"))
    assert diff(base.template("Consumer"), head.template("Consumer")) == []
    (reference,) = intrinsics(base.template("Consumer"), "Fn::GetStackOutput")
    assert reference["StackName"] == "Producer" and reference["Region"] == "us-east-1"
    outputs = base.template("Producer")["Outputs"]
    assert outputs[reference["OutputName"]] == {"Value": {"Ref": layer_id}}  # plain output, no Export
    assert reference["OutputName"].startswith("PublishOutputRef")
    assert (all_imports(base), all_exports(base)) == ([], {})
    assert base.dependencies["Consumer"] == {"Producer"}


@apps("ssm_link")
def test_ssm_link(sides: tuple[Side, Side]) -> None:
    base, head = sides
    layer_id = layer_s3_key_changed(base.template("Producer"), head.template("Producer"))
    assert diff(base.template("Consumer"), head.template("Consumer")) == []
    _, parameter = one_of_type(base.template("Producer"), "AWS::SSM::Parameter")
    assert parameter["Properties"]["Name"] == "/demo/layer-arn"
    assert parameter["Properties"]["Value"] == {"Ref": layer_id}
    consumer = base.template("Consumer")
    (param_id,) = [k for k, p in consumer["Parameters"].items() if p.get("Default") == "/demo/layer-arn"]
    assert consumer["Parameters"][param_id]["Type"] == "AWS::SSM::Parameter::Value<String>"
    _, fn = one_of_type(consumer, "AWS::Lambda::Function")
    assert fn["Properties"]["Layers"] == [{"Ref": param_id}]
    assert (all_imports(base), all_exports(base)) == ([], {})
    assert base.dependencies["Consumer"] == {"Producer"}  # only because the app adds it


@apps("stage")
def test_stage(sides: tuple[Side, Side]) -> None:
    base, head = sides
    assert base.assemblies == head.assemblies == {"assembly-Prod"}
    assert (base.out / "assembly-Prod" / "manifest.json").is_file()
    assert set(base.templates) == {"Prod-Compute", "Prod-Admin"}
    layer_id = layer_s3_key_changed(base.template("Prod-Compute"), head.template("Prod-Compute"))
    assert diff(base.template("Prod-Admin"), head.template("Prod-Admin")) == []
    (name,) = all_imports(base)
    assert name.startswith(f"Prod-Compute:ExportsOutputRef{layer_id}")
    assert all_exports(base) == all_exports(head) == {name: {"Ref": layer_id}}
    assert base.dependencies["Prod-Admin"] == {"Prod-Compute"}


@apps("nested_stack")
def test_nested_stack(sides: tuple[Side, Side]) -> None:
    base, head = sides
    assert set(base.templates) == {"Parent"}
    parent_base, parent_head = base.template("Parent"), head.template("Parent")
    nested_id, nested = one_of_type(parent_base, "AWS::CloudFormation::Stack")
    assert [p[:3] for p in diff(parent_base, parent_head)] == [("Resources", nested_id, "Properties")]
    nested_file = nested["Metadata"]["aws:asset:path"]
    nested_base = json.loads((base.out / nested_file).read_text())
    nested_head = json.loads((head.out / nested_file).read_text())
    layer_id = layer_s3_key_changed(nested_base, nested_head)
    (output_id,) = nested_base["Outputs"]
    assert nested_base["Outputs"][output_id]["Value"] == {"Ref": layer_id}
    _, fn = one_of_type(parent_base, "AWS::Lambda::Function")
    assert fn["Properties"]["Layers"] == [{"Fn::GetAtt": [nested_id, f"Outputs.{output_id}"]}]
    assert "Export" not in json.dumps(nested_base) and "Fn::ImportValue" not in json.dumps(parent_base)


@apps("import_missing")
def test_import_missing(sides: tuple[Side, Side]) -> None:
    base, head = sides
    for side in sides:
        assert "team-x-vpc-id" in all_imports(side)
        assert "team-x-vpc-id" not in all_exports(side)
    assert diff(base.template("Producer"), head.template("Producer")) == []
    fn_id, _ = one_of_type(base.template("Consumer"), "AWS::Lambda::Function")
    assert diff(base.template("Consumer"), head.template("Consumer")) == [
        ("Resources", fn_id, "Properties", "MemorySize")
    ]


@apps("unchanged")
def test_unchanged(sides: tuple[Side, Side]) -> None:
    base, head = sides
    assert set(base.templates) == {"Producer", "Consumer"}
    assert base.templates == head.templates
    assert all_imports(base) == list(all_exports(base))


def test_example_changes_only_the_strands_layer(synth_app: SynthApp) -> None:
    base, head = load(synth_app("example", "base")), load(synth_app("example", "head"))
    compute_base = base.template("Example-ComputeStack")
    compute_head = head.template("Example-ComputeStack")
    layers = of_type(compute_base, "AWS::Lambda::LayerVersion")
    assert len(layers) == 3
    (strands_id,) = [k for k in layers if k.startswith("StrandsLayer")]
    assert diff(compute_base, compute_head) == [
        ("Resources", strands_id, "Metadata", "aws:asset:path"),
        ("Resources", strands_id, "Properties", "Content", "S3Key"),
    ]
    admin = "Example-AdminInsightsStack"
    assert diff(base.template(admin), head.template(admin)) == []
    assert sorted(all_imports(base)) == sorted(all_exports(base))
    assert sorted(json.dumps(v) for v in all_exports(base).values()) == sorted(json.dumps({"Ref": k}) for k in layers)
    assert "Example-ComputeStack:ExportsOutputRefStrandsLayer61506D6089516553" in all_imports(base)
