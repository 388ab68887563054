"""Tiny builders for cloud assemblies on disk, for tests that need no synth.

    app = AppBuilder()
    p = app.stack("Producer")
    p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": "k1.zip"})
    p.export("LayerArn", {"Ref": "Layer"}, "Producer:ExportsOutputRefLayer")
    c = app.stack("Consumer", depends_on=["Producer"])
    c.resource("Fn", "AWS::Lambda::Function", Layers=[import_value("Producer:ExportsOutputRefLayer")])
    base_dir = app.write(tmp_path / "base")
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV = "aws://123456789012/us-east-1"


def import_value(name: Any) -> dict[str, Any]:
    return {"Fn::ImportValue": name}


def ref(logical_id: str) -> dict[str, Any]:
    return {"Ref": logical_id}


def get_att(logical_id: str, attribute: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attribute]}


@dataclass
class StackBuilder:
    artifact_id: str
    stack_name: str
    environment: str = ENV
    depends_on: list[str] = field(default_factory=list)
    template: dict[str, Any] = field(default_factory=lambda: {"Resources": {}})
    display_name: str | None = None
    nested: dict[str, StackBuilder] = field(default_factory=dict)

    def resource(self, logical_id: str, type_: str, metadata: dict[str, Any] | None = None,
                 **properties: Any) -> StackBuilder:
        spec: dict[str, Any] = {"Type": type_, "Properties": properties}
        spec["Metadata"] = {"aws:cdk:path": f"{self.stack_name}/{logical_id}/Resource",
                            **(metadata or {})}
        self.template["Resources"][logical_id] = spec
        return self

    def output(self, logical_id: str, value: Any, export_name: Any = None) -> StackBuilder:
        spec: dict[str, Any] = {"Value": value}
        if export_name is not None:
            spec["Export"] = {"Name": export_name}
        self.template.setdefault("Outputs", {})[logical_id] = spec
        return self

    def export(self, logical_id: str, value: Any, export_name: Any) -> StackBuilder:
        return self.output(logical_id, value, export_name)

    def parameter(self, name: str, type_: str = "String", default: Any = None) -> StackBuilder:
        spec: dict[str, Any] = {"Type": type_}
        if default is not None:
            spec["Default"] = default
        self.template.setdefault("Parameters", {})[name] = spec
        return self

    def nested_stack(self, logical_id: str) -> StackBuilder:
        child = StackBuilder(f"{self.artifact_id}{logical_id}", f"{self.stack_name}-{logical_id}")
        self.nested[logical_id] = child
        file_name = f"{self.artifact_id}{logical_id}.nested.template.json"
        self.resource(
            logical_id,
            "AWS::CloudFormation::Stack",
            metadata={"aws:asset:path": file_name, "aws:asset:property": "TemplateURL"},
            TemplateURL=f"https://s3.amazonaws.com/bucket/{logical_id}.json",
        )
        return child


@dataclass
class AppBuilder:
    stacks: dict[str, StackBuilder] = field(default_factory=dict)
    stages: dict[str, AppBuilder] = field(default_factory=dict)
    version: str = "55.0.0"
    library_version: str | None = "2.275.0"
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)

    def stack(self, artifact_id: str, *, stack_name: str | None = None,
              depends_on: list[str] | None = None, environment: str = ENV,
              display_name: str | None = None) -> StackBuilder:
        builder = StackBuilder(artifact_id, stack_name or artifact_id, environment,
                               list(depends_on or []), display_name=display_name)
        self.stacks[artifact_id] = builder
        return builder

    def stage(self, name: str) -> AppBuilder:
        stage = AppBuilder(version=self.version, library_version=None)
        self.stages[name] = stage
        return stage

    def asset(self, stack: str, asset_hash: str, display_name: str, source: str) -> AppBuilder:
        self.assets.setdefault(stack, {})[asset_hash] = {
            "displayName": display_name,
            "source": {"path": source, "packaging": "zip"},
            "destinations": {},
        }
        return self

    def copy(self) -> AppBuilder:
        return copy.deepcopy(self)

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        artifacts: dict[str, Any] = {}
        for artifact_id, stack in self.stacks.items():
            template_file = f"{artifact_id}.template.json"
            (directory / template_file).write_text(json.dumps(stack.template, indent=1))
            for logical_id, child in stack.nested.items():
                file_name = f"{artifact_id}{logical_id}.nested.template.json"
                (directory / file_name).write_text(json.dumps(child.template, indent=1))
            deps = list(stack.depends_on)
            if artifact_id in self.assets:
                asset_id = f"{artifact_id}.assets"
                (directory / f"{asset_id}.json").write_text(
                    json.dumps({"version": self.version, "files": self.assets[artifact_id]})
                )
                artifacts[asset_id] = {"type": "cdk:asset-manifest",
                                       "properties": {"file": f"{asset_id}.json"}}
                deps.append(asset_id)
            spec: dict[str, Any] = {
                "type": "aws:cloudformation:stack",
                "environment": stack.environment,
                "properties": {"templateFile": template_file, "stackName": stack.stack_name},
                "dependencies": deps,
                "displayName": stack.display_name or artifact_id,
            }
            artifacts[artifact_id] = spec
        for name, stage in self.stages.items():
            folder = f"assembly-{name}"
            stage.write(directory / folder)
            artifacts[f"assembly-{name}"] = {
                "type": "cdk:cloud-assembly",
                "properties": {"directoryName": folder, "displayName": name},
            }
        (directory / "manifest.json").write_text(
            json.dumps({"version": self.version, "artifacts": artifacts}, indent=1)
        )
        if self.library_version:
            tree = {"version": "tree-0.1", "tree": {"id": "App", "path": "", "constructInfo": {
                "fqn": "aws-cdk-lib.App", "version": self.library_version}, "children": {}}}
            (directory / "tree.json").write_text(json.dumps(tree))
        return directory
